"""The suppression list: salted hashes of every form of every erased identifier.

Form `match_key` is what staging compares (SHA-256 of salt and the identity graph's match
key); the other forms are the hashed spellings destinations and payloads carry, kept so
`--verify` can recognise them without the values: `sha256` (a text id hashed),
`digits_sha256` (a phone's digits without '+', as Meta hashes them) and `raw_sha256`
(an email hashed as typed, trimmed and lower-cased, before Onefold's gmail rules).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from onefold.erasure.config import ErasureConfig
from onefold.erasure.resolve import Resolution
from onefold.erasure.salt import Salt
from onefold.warehouse import Warehouse

_HEX64 = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class SuppressionEntry:
    identifier_type: str
    identifier_form: str
    suppression_hash: str


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _is_sha256_hex(value: str) -> bool:
    text = value.strip().lower()
    return len(text) == 64 and set(text) <= _HEX64


def suppression_entries(
    config: ErasureConfig, resolution: Resolution, salt: Salt
) -> list[SuppressionEntry]:
    """Every form of every identifier of the resolution, salted and hashed, deduplicated."""
    entries: dict[str, SuppressionEntry] = {}

    def add(kind: str, form: str, key: str) -> None:
        digest = salt.hash(key)
        entries.setdefault(digest, SuppressionEntry(kind, form, digest))

    hashed_types = set(config.hashed_identifier_types)
    for identifier in resolution.identifiers:
        kind, value = identifier.identifier_type, identifier.normalized_value
        add(kind, "match_key", identifier.match_key)
        if kind not in hashed_types:
            add(kind, "sha256", _sha256(identifier.match_key))
        elif kind == "phone" and value.startswith("+") and not _is_sha256_hex(value):
            add(kind, "digits_sha256", _sha256(value[1:]))
    for kind, raw in resolution.raw_values:
        if kind == "email" and raw and not _is_sha256_hex(raw):
            add(kind, "raw_sha256", _sha256(raw.strip().lower()))
    # Spellings as they may stand in a file's bytes, for --verify's byte scan.
    spellings = [(i.identifier_type, i.normalized_value) for i in resolution.identifiers]
    spellings += [(i.identifier_type, i.match_key) for i in resolution.identifiers]
    spellings += [(kind, raw.strip().lower()) for kind, raw in resolution.raw_values]
    for kind, spelling in spellings:
        form = spelling_form(kind, spelling.lower())
        if form is not None:
            add(kind, form, spelling.lower())
    return sorted(entries.values(), key=lambda e: (e.identifier_type, e.identifier_form))


SPELLING = "spelling"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def spelling_form(kind: str, spelling: str) -> str | None:
    """`spelling:<length>:<anchor>` for the spellings the byte scan can find in glued
    text: emails (anchored on their '@', `@<offset>`), phone numbers and UUIDs (anchored
    on their start, `start`). The form keeps the length and the '@' offset, so a scan
    hashes one window per anchor instead of every substring; other ids are not
    byte-scanned (they cannot be told apart from the text around them)."""
    if not spelling or _is_sha256_hex(spelling):
        return None
    if kind == "email" and "@" in spelling:
        return f"{SPELLING}:{len(spelling)}:@{spelling.index('@')}"
    if kind == "phone" or _UUID.fullmatch(spelling):
        return f"{SPELLING}:{len(spelling)}:start"
    return None


@dataclass(frozen=True)
class SpellingShape:
    identifier_type: str
    suppression_hash: str
    length: int
    at: int | None  # offset of '@' (emails), None: anchored on the start

    @property
    def is_phone(self) -> bool:
        return self.identifier_type == "phone"


def spelling_shapes(hashes: Sequence[tuple[str, str, str]]) -> list[SpellingShape]:
    """The byte-scannable spellings among a request's (type, form, hash) rows."""
    shapes = []
    for kind, form, digest in hashes:
        parts = form.split(":")
        if len(parts) != 3 or parts[0] != SPELLING:
            continue
        at = int(parts[2][1:]) if parts[2].startswith("@") else None
        shapes.append(SpellingShape(kind, digest, int(parts[1]), at))
    return shapes


def duckdb_suppression_macros(warehouse: Warehouse, config: ErasureConfig) -> list[str]:
    """DuckDB: `suppression_hashes()` and `suppression_salt_ok()` as constants from the
    table as it is now; the same SQL as the dbt macro `duckdb_suppression_macros`, run in
    the transaction that inserts the hashes so staging never sees one without the other."""
    schema = config.privacy_schema
    table = f"{schema}.erasure_suppressions"
    rows = warehouse.query(f"select distinct suppression_hash, salt_fingerprint from {table}")
    hashes = sorted({str(h) for h, _ in rows})
    fingerprints = sorted({str(f) for _, f in rows})
    # A pure boolean: the staging check raises the missing-salt error itself, in a CASE
    # branch DuckDB cannot fold away (an `ok() and <no match>` conjunction it can).
    if len(hashes) > config.suppression_list_limit:
        listed = f"(select list(distinct suppression_hash) from {table})"
        salt_ok = (
            f"(select count(*) from {table} where salt_fingerprint is distinct from "
            f"{schema}.salt_fingerprint()) = 0"
        )
    else:
        listed = "[" + ", ".join(f"'{h}'" for h in hashes) + "]::varchar[]"
        if not fingerprints:
            salt_ok = "true"
        elif len(fingerprints) == 1:
            salt_ok = f"coalesce({schema}.salt_fingerprint() = '{fingerprints[0]}', false)"
        else:
            salt_ok = "false"
    return [
        f"create or replace macro {schema}.suppression_hashes() as {listed}",
        f"create or replace macro {schema}.suppression_salt_ok() as {salt_ok}",
    ]
