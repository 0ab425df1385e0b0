"""Erasure requests: from the command line or the `erasure_requests` source, validated.

A request names a person by one or more identifiers (`email`, `phone`, `customer_id` or
any type in `onefold__erasure_identifier_types`), under a regulation with a legal due
date (`onefold__erasure_deadlines`: GDPR one month, CCPA 45 days, ...).
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from onefold.erasure.config import ErasureConfig
from onefold.errors import ConfigError
from onefold.warehouse import Warehouse

CLI_SOURCE = "cli"
INTAKE_SOURCE = "erasure_requests"


@dataclass(frozen=True)
class RequestIdentifier:
    identifier_type: str
    value: str = field(repr=False)

    @property
    def masked(self) -> str:
        return f"{self.identifier_type}:{mask(self.value)}"


@dataclass(frozen=True)
class ErasureRequest:
    request_id: str
    request_source: str
    identifiers: tuple[RequestIdentifier, ...]
    regulation: str
    received_at: dt.datetime  # naive UTC


def mask(value: str) -> str:
    """A value shown in logs: its first and last characters only."""
    text = value.strip()
    if len(text) <= 4:
        return "*" * len(text)
    return f"{text[:2]}{'*' * min(len(text) - 4, 12)}{text[-2:]}"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_request_id(now: dt.datetime | None = None) -> str:
    stamp = (now or utc_now()).strftime("%Y%m%d")
    return f"cli-{stamp}-{uuid.uuid4().hex[:10]}"


def _add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """Calendar months, clamped to the month's last day (as SQL interval arithmetic)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def due_at(config: ErasureConfig, regulation: str, received_at: dt.datetime) -> dt.datetime:
    """The legal due date (same rule as the `erasure_requests_status` mart)."""
    rule = config.deadlines.get(regulation, config.default_deadline)
    if rule.get("months"):
        return _add_months(received_at, int(rule["months"]))
    return received_at + dt.timedelta(days=int(rule.get("days", 30)))


def validate_identifier(config: ErasureConfig, identifier_type: str, value: str) -> None:
    """ConfigError for a type erasure cannot look up, or a blank value."""
    if identifier_type not in config.request_identifier_types:
        raise ConfigError(
            f"unknown identifier type {identifier_type!r}: an erasure request may name "
            f"{', '.join(config.request_identifier_types)} (var onefold__erasure_identifier_types)."
        )
    if not value.strip():
        raise ConfigError(f"the {identifier_type} of the request is blank.")


def cli_request(
    config: ErasureConfig,
    identifiers: Sequence[tuple[str, str]],
    regulation: str,
    received_at: dt.datetime | None = None,
    request_id: str | None = None,
) -> ErasureRequest:
    """A request typed on the command line, validated (ConfigError: exit code 2)."""
    if not identifiers:
        raise ConfigError(
            "name the person: --email, --phone, --customer-id or --identifier TYPE=VALUE "
            "(or run without them to process the pending rows of erasure_requests)."
        )
    for identifier_type, value in identifiers:
        validate_identifier(config, identifier_type, value)
    regulation = regulation.strip().upper()
    if regulation not in config.regulations:
        raise ConfigError(
            f"unknown regulation {regulation!r}: use one of {', '.join(config.regulations)} "
            "(var onefold__erasure_regulations)."
        )
    if request_id is not None and not request_id.strip():
        raise ConfigError("--request-id is blank.")
    return ErasureRequest(
        request_id=(request_id or new_request_id()).strip(),
        request_source=CLI_SOURCE,
        identifiers=tuple(RequestIdentifier(t, v) for t, v in identifiers),
        regulation=regulation,
        received_at=received_at or utc_now(),
    )


#: the staged intake requests (model of the privacy source)
REQUESTS_MODEL = "stg_privacy__erasure_requests"


def check_cli_request_id(warehouse: Warehouse, config: ErasureConfig, request_id: str) -> None:
    """A command-line request may not take an intake request's id (their rows would
    collide in erasure_requests_status)."""
    requests = config.existing(warehouse, REQUESTS_MODEL)
    if requests is None:  # the privacy source is not enabled, or not built
        return
    rows = warehouse.query(
        f"select 1 from {requests} where erasure_request_id = ?",
        [request_id],
    )
    if rows:
        raise ConfigError(
            f"{request_id!r} is a request of the erasure_requests source: run `onefold erase "
            "--execute` without identifiers to process it, or choose another --request-id."
        )


def pending_requests(warehouse: Warehouse, config: ErasureConfig) -> list[ErasureRequest]:
    """Requests of the intake source not completed yet, oldest first."""
    staged = config.existing(warehouse, REQUESTS_MODEL)
    if staged is None:  # the privacy source is not enabled, or not built
        return []
    receipts = config.privacy_table("erasure_receipts")
    rows = warehouse.query(
        f"select requests.erasure_request_id, requests.identifier_type, "
        f"requests.identifier_value, requests.regulation, requests.received_at "
        f"from {staged} as requests "
        f"where requests.erasure_request_id not in ("
        f"select erasure_request_id from {receipts} where status = 'completed') "
        "order by requests.received_at, requests.erasure_request_id"
    )
    return [
        ErasureRequest(
            request_id=str(request_id),
            request_source=INTAKE_SOURCE,
            identifiers=(RequestIdentifier(str(kind), str(value)),),
            regulation=str(regulation),
            received_at=received_at,
        )
        for request_id, kind, value, regulation, received_at in rows
    ]


QUARANTINE_MODEL = "stg_privacy__erasure_requests_quarantine"


@dataclass(frozen=True)
class RejectedIntake:
    """Intake rows staging quarantined, which erasure therefore cannot act on: one per
    request id (its first delivery), or every row without a request id together
    (`request_id` ""). Holds no identifier value."""

    request_id: str
    reasons: tuple[str, ...]  # "<quarantine_reason> (<column>)"
    regulation: str  # "" unless one of onefold__erasure_regulations
    rows: int

    def message(self, quarantine: str) -> str:
        """What to tell the user (no value of the row)."""
        reasons = ", ".join(self.reasons)
        if self.request_id:
            what, it = "the intake row", "it"
        else:
            what, it = f"{self.rows} intake row(s) without a request_id", "them"
        return (
            f"{what} cannot be processed: staging quarantined {it} for {reasons}. Fix "
            f"{it} in the erasure_requests source ({quarantine} "
            "lists the rows) and run `onefold erase --execute` again."
        )


def rejected_intake_requests(warehouse: Warehouse, config: ErasureConfig) -> list[RejectedIntake]:
    """Intake rows staging quarantined, unless the same request id was staged from
    another row or has a receipt: the same rows `erasure_requests_status` lists as
    rejected, plus the rows without a request id."""
    quarantine = config.existing(warehouse, QUARANTINE_MODEL)
    staged = config.existing(warehouse, REQUESTS_MODEL)
    if quarantine is None or staged is None:
        return []
    receipts = config.privacy_table("erasure_receipts")
    request_id = "coalesce(trim(cast(quarantined.request_id as text)), '')"
    rows = warehouse.query(
        f"select {request_id}, quarantined.quarantine_reason, quarantined.quarantine_column, "
        "upper(trim(cast(quarantined.regulation as text))) "
        f"from {quarantine} as quarantined "
        f"where {request_id} not in ("
        f"select erasure_request_id from {staged} "
        f"union all select erasure_request_id from {receipts}) "
        "order by quarantined._loaded_at, 2, 3"
    )
    found: dict[str, RejectedIntake] = {}
    for raw_id, reason, column, regulation in rows:
        key = str(raw_id)
        described = f"{reason} ({column})"
        known = str(regulation) if regulation in config.regulations else ""
        if key not in found:
            found[key] = RejectedIntake(key, (described,), known if key else "", 1)
        elif not key:
            earlier = found[key]
            reasons = earlier.reasons + ((described,) if described not in earlier.reasons else ())
            found[key] = RejectedIntake(key, reasons, "", earlier.rows + 1)
    return sorted(
        found.values(), key=lambda rejected: (rejected.request_id == "", rejected.request_id)
    )


def redaction_markers(config: ErasureConfig) -> set[str]:
    """Values erasure writes over an intake row's identifier ("[erased]")."""
    intake = config.sources.get(INTAKE_SOURCE)
    if intake is None:
        return set()
    return {value for value in intake.redact.values() if value is not None}
