"""The syncs file (`syncs.yml`): which model or segment goes to which destination, how.

```yaml
audiences:            # optional: how `segment:` syncs read the audiences mart
  model: activation_audiences
consent:              # optional: where required purposes are checked
  model: consent_current
syncs:
  vip_webhook:
    segment: vip                   # or `model: customers` / `model: schema.table`
    destination: {type: webhook, url: https://…, secret_env: ONEFOLD_WEBHOOK_SECRET}
    mode: mirror                   # upsert | mirror | insert
    primary_key: customer_id
    fields: {email_sha256: email, tier: loyalty_tier}   # destination field: model column
    hashed: [email_sha256]         # sent as SHA-256 of the normalized value
    purposes: [marketing_email]    # consent every sent customer must have granted
```

Secrets never appear in the file: destinations take the *names* of environment
variables (`secret_env`). Every error names the sync and the field at fault.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from onefold.errors import ConfigError
from onefold.sync.destinations import destination_types
from onefold.sync.errors import config_error_from_validation, sync_config_error

DEFAULT_SYNCS_FILE = Path("syncs.yml")
# Sync names end up in temporary table names and log lines: keep them plain.
SYNC_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")

#: consecutive refused destination calls (calls that acknowledged nothing) after which a
#: run stops: isolating two bad records in a batch of 10,000 by halving refuses at most
#: about 20 calls in a row, so only a destination refusing everything gets this far
DEFAULT_MAX_CONSECUTIVE_REFUSED_CALLS = 40

Mode = Literal["upsert", "mirror", "insert"]
HashKind = Literal["email", "phone", "text"]
HASH_KINDS: tuple[HashKind, ...] = ("email", "phone", "text")


class SyncSettings(BaseSettings):
    """`ONEFOLD_SYNCS_FILE`: the syncs file [syncs.yml]; `ONEFOLD_SYNC_LOCK_TTL_SECONDS`:
    how long a lock's holder may go without a heartbeat before another run breaks the
    lock [1 h]."""

    model_config = SettingsConfigDict(env_prefix="ONEFOLD_SYNC_")

    syncs_file: Path = Field(default=DEFAULT_SYNCS_FILE, validation_alias="ONEFOLD_SYNCS_FILE")
    lock_ttl_seconds: float = Field(default=3600, gt=0)


class AudienceSource(BaseModel):
    """How a `segment:` sync reads the audiences mart (in the marts schema)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = "activation_audiences"
    segment_column: str = "segment_name"
    #: rows are also filtered to the sync's destination name; null to skip that filter
    destination_column: str | None = "destination_name"


class ConsentSource(BaseModel):
    """The consent mart: one row per customer and purpose (customer_id, purpose, is_granted)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = "consent_current"


class DestinationConfig(BaseModel):
    """`type` picks the plugin; every other key is that plugin's settings."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    #: the name erasure and run history know this destination by [the sync's name]
    name: str | None = None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        known = destination_types()
        if value not in known:
            raise ValueError(f"unknown destination type {value!r} (known: {', '.join(known)})")
        return value

    @property
    def settings(self) -> dict[str, Any]:
        """The plugin's own settings (everything but `type` and `name`)."""
        return dict(self.model_extra or {})


class SyncConfig(BaseModel):
    """One sync, validated. `name` is its key under `syncs:`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    model: str | None = None
    segment: str | None = None
    destination: DestinationConfig
    mode: Mode
    primary_key: str = Field(min_length=1)
    fields: dict[str, str] = Field(min_length=1)
    #: destination fields sent hashed: a list (kind inferred) or {field: kind}
    hashed: list[str] | dict[str, str] = Field(default_factory=list)
    purposes: list[str] = Field(default_factory=list)
    #: a mirror sync whose source is empty would remove everything: refused unless true
    allow_empty: bool = False
    #: circuit breaker: stop after this many consecutive calls that acknowledged nothing
    max_consecutive_refused_calls: int = Field(default=DEFAULT_MAX_CONSECUTIVE_REFUSED_CALLS, ge=1)
    audiences: AudienceSource = AudienceSource()
    consent: ConsentSource = ConsentSource()

    @field_validator("hashed", mode="before")
    @classmethod
    def _list_or_mapping(cls, value: Any) -> Any:
        # Checked up front so a wrong shape gets one message, not one per union branch.
        if not isinstance(value, list | dict):
            raise ValueError("expected a list of fields, or a mapping of field: kind")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SyncConfig:
        # Raised as ConfigError (not ValueError) so the message can name the field.
        if (self.model is None) == (self.segment is None):
            raise sync_config_error(
                self.name, "model", "give exactly one of `model` (a relation) or `segment`"
            )
        for field in self.hashed:
            if field not in self.fields:
                raise sync_config_error(
                    self.name, "hashed", f"{field!r} is not a destination field under `fields`"
                )
        self.hash_kinds()  # raises when a kind cannot be inferred
        if len(set(self.purposes)) != len(self.purposes) or not all(self.purposes):
            raise sync_config_error(
                self.name, "purposes", "purposes must be distinct and non-empty"
            )
        return self

    @property
    def destination_name(self) -> str:
        return self.destination.name or self.name

    @property
    def destination_type(self) -> str:
        return self.destination.type

    def hash_kinds(self) -> dict[str, HashKind]:
        """Destination field -> how its value is normalized before hashing.

        A plain list infers the kind from the field or column name (`email`, `phone`);
        anything else must be spelled out as a mapping.
        """
        kinds: dict[str, HashKind] = {}
        if isinstance(self.hashed, dict):
            for field, kind in self.hashed.items():
                if kind not in HASH_KINDS:
                    raise sync_config_error(
                        self.name,
                        f"hashed.{field}",
                        f"unknown kind {kind!r} (kinds: {', '.join(HASH_KINDS)})",
                    )
                kinds[field] = cast(HashKind, kind)
            return kinds
        for field in self.hashed:
            names = f"{field} {self.fields.get(field, '')}".lower()
            inferred = [kind for kind in HASH_KINDS if kind != "text" and kind in names]
            if len(inferred) != 1:
                raise sync_config_error(
                    self.name,
                    "hashed",
                    f"cannot tell how to normalize {field!r}: write it as a mapping, e.g. "
                    f"`hashed: {{{field}: email}}` (kinds: {', '.join(HASH_KINDS)})",
                )
            kinds[field] = inferred[0]
        return kinds


class _SyncsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audiences: AudienceSource = AudienceSource()
    consent: ConsentSource = ConsentSource()
    syncs: dict[str, dict[str, Any]]


_SYNC_KEYS = sorted(set(SyncConfig.model_fields) - {"name"})


def parse_sync(
    name: str,
    raw: Mapping[str, Any],
    audiences: AudienceSource | None = None,
    consent: ConsentSource | None = None,
) -> SyncConfig:
    """Validate one sync's mapping (as written under `syncs: <name>:`)."""
    if not SYNC_NAME.fullmatch(name):
        raise ConfigError(
            f"sync {name!r}: name: use lower-case letters, digits and underscores, "
            "starting with a letter (at most 63 characters)"
        )
    if not isinstance(raw, Mapping):
        raise sync_config_error(name, "(top level)", "expected a mapping of settings")
    if "name" in raw:
        raise sync_config_error(name, "name", "unknown key (a sync's name is its key)")
    values = {
        "audiences": audiences or AudienceSource(),
        "consent": consent or ConsentSource(),
        **raw,
        "name": name,
    }
    try:
        return SyncConfig.model_validate(values)
    except ValidationError as exc:
        raise config_error_from_validation(name, exc, allowed_keys=_SYNC_KEYS) from exc


def parse_syncs(document: Any, where: str) -> dict[str, SyncConfig]:
    """Validate a whole syncs document (already parsed from YAML)."""
    if not isinstance(document, Mapping):
        raise ConfigError(f"{where}: expected a mapping with a `syncs:` key")
    try:
        parsed = _SyncsFile.model_validate(document)
    except ValidationError as exc:
        raise config_error_from_validation(
            None, exc, allowed_keys=_SyncsFile.model_fields, where=where
        ) from exc
    return {
        name: parse_sync(name, raw, parsed.audiences, parsed.consent)
        for name, raw in parsed.syncs.items()
    }


def syncs_file_path(path: Path | None = None, project_dir: Path | None = None) -> Path:
    """`path`, else `ONEFOLD_SYNCS_FILE`, else `syncs.yml` in the working directory, else
    `syncs.yml` in the dbt project `project_dir`."""
    if path is not None:
        return path
    configured = SyncSettings().syncs_file
    if configured != DEFAULT_SYNCS_FILE or project_dir is None or configured.is_file():
        return configured
    return project_dir / DEFAULT_SYNCS_FILE


def load_syncs(path: Path | None = None, project_dir: Path | None = None) -> dict[str, SyncConfig]:
    """Read and validate the syncs file (see syncs_file_path); the mapping keeps the
    file's order."""
    file = syncs_file_path(path, project_dir)
    if not file.is_file():
        raise ConfigError(
            f"no syncs file at {file}: create one (see syncs.yml in the Onefold repository) "
            "or point --config / ONEFOLD_SYNCS_FILE at it"
        )
    try:
        document = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file} is not valid YAML: {exc}") from exc
    return parse_syncs(document, str(file))


def select_syncs(
    syncs: Mapping[str, SyncConfig], names: tuple[str, ...] | list[str]
) -> list[SyncConfig]:
    """The named syncs, in the order given; unknown names are a ConfigError."""
    unknown = [name for name in names if name not in syncs]
    if unknown:
        known = ", ".join(syncs) or "none"
        raise ConfigError(f"unknown sync {', '.join(repr(n) for n in unknown)} (defined: {known})")
    return [syncs[name] for name in names]
