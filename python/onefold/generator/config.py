"""What to generate: scale, seed, time window and the rate of every kind of injected noise.

Every rate is a field here (not a constant buried in a source module) so an evaluation
can dial noise up or down and compare the measured rate in `raw_truth.noise_log` with
the configured one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field

from onefold.errors import ConfigError

GENERATOR_VERSION = "1.5.0"


@dataclass(frozen=True)
class NoiseRates:
    """Probabilities of each kind of noise, with the population each rate applies to.

    Identifier-field rates apply per rendered value (one value in one row); person
    rates apply per simulated person; row rates apply per raw row.
    """

    # Per email value that is a real address (not junk, not malformed).
    email_case_whitespace: float = 0.15
    # Per real gmail.com address.
    gmail_dots_tag: float = 0.10
    googlemail: float = 0.05
    # Per phone value that is a real number: share rendered exactly as E.164 is set by
    # each source (a Shopify export is mostly E.164, a till operator types national
    # format); every other rendering is logged as `phone_format`.
    # Per first/last name value.
    name_typo: float = 0.03
    # Per first-name value whose name has a known nickname (Robert -> Bob).
    nickname: float = 0.05
    # Per person whose CRM contact has their birth date and postcode: an extra CRM contact
    # that shares no exact key with the rest of the person's records, which only a fuzzy
    # match finds (sources/crm.py: fuzzy contacts).
    fuzzy_contact: float = 0.10
    # Per person.
    second_email: float = 0.10
    changed_phone: float = 0.05
    household: float = 0.10
    shared_device: float = 0.02
    # Per identifier value (email, phone, user_id, anonymous_id).
    junk_value: float = 0.01
    bad_email: float = 0.01
    impossible_phone: float = 0.01
    # Per row of web_events and email_events.
    duplicate_event: float = 0.02
    # Per row of every raw table.
    late_arriving: float = 0.03
    # Per row of web_events.
    broken_json: float = 0.005
    # Per row of every raw table, in its main event timestamp column.
    invalid_timestamp: float = 0.002
    timestamp_out_of_range: float = 0.002

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(
                    f"noise rate {item.name}={value} is not a probability: use a value "
                    "between 0 and 1."
                )
        if self.junk_value + self.bad_email > 1 or self.junk_value + self.impossible_phone > 1:
            raise ConfigError("junk_value plus bad_email/impossible_phone must not exceed 1.")
        row_level = self.invalid_timestamp + self.timestamp_out_of_range + self.broken_json
        if row_level > 1:
            raise ConfigError(
                "invalid_timestamp + timestamp_out_of_range + broken_json must not exceed 1."
            )

    def as_json(self) -> str:
        """Stable JSON (sorted keys) for `raw_truth.generation_runs`."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


@dataclass(frozen=True)
class Participation:
    """Share of persons present in each source (before any cross-source dependency)."""

    web: float = 0.90
    registered: float = 0.55  # of web persons: about half of all persons have a user_id
    shop_customer: float = 0.40
    guest_buyer: float = 0.17  # of non-customers: orders without an account
    crm: float = 0.30  # besides loyalty members, who all are CRM contacts
    pos_loyalty: float = 0.25
    pos_walk_in: float = 0.10  # of persons without a loyalty card
    email_subscriber: float = 0.60
    consent: float = 0.60
    erasure: float = 0.003

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"participation {item.name}={value} is not a share: use 0 to 1.")


@dataclass(frozen=True)
class GeneratorConfig:
    """The inputs that fully determine the generated data (same inputs, same bytes)."""

    persons: int
    seed: int
    end_date: dt.date
    days: int = 365
    noise: NoiseRates = field(default_factory=NoiseRates)
    participation: Participation = field(default_factory=Participation)
    #: People per shard: each shard of consecutive persons has its own random streams,
    #: so the data never depends on how many shards a run holds in memory at once.
    #: Households and shared devices stay within a shard. Part of what the data is:
    #: another shard size gives other (equally valid) data.
    shard_persons: int = 10_000

    def __post_init__(self) -> None:
        if self.shard_persons < 1:
            raise ConfigError(f"shard_persons must be at least 1, got {self.shard_persons}.")
        if self.persons < 1:
            raise ConfigError(f"persons must be at least 1, got {self.persons}.")
        if self.days < 1:
            raise ConfigError(f"days must be at least 1, got {self.days}.")
        if not 0 <= self.seed < 2**63:
            raise ConfigError(f"seed must be between 0 and 2**63 - 1, got {self.seed}.")
        if isinstance(self.end_date, dt.datetime) or not isinstance(self.end_date, dt.date):
            raise ConfigError(f"end_date must be a datetime.date, got {self.end_date!r}.")

    @property
    def start_date(self) -> dt.date:
        """First simulated day: `days` days ending at `end_date`, both inclusive."""
        return self.end_date - dt.timedelta(days=self.days - 1)
