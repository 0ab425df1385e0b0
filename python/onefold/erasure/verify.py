"""`onefold erase --verify <request>`: scan the whole warehouse for what was erased.

The receipt holds no erased value, so the scan cannot search for the values. It works
the other way round: it takes every value of every text-like column of every base
table (every schema of the database but the system ones and
`onefold__erasure_verify_exclude_schemas`), splits values that look like JSON, URLs or
free text into tokens (and pulls phone-number-shaped runs out of them), derives each
token's candidate match keys with the identity graph's own normalization (as-is, as an
email, as a phone number; a 64-hex token is a hash already) and compares the salted hash
of each candidate with the request's suppression hashes. A raw spelling
(' Ann.Lee@GoogleMail.com'), the normalized value and its SHA-256 all meet the same
hash; so do the hashed spellings destinations receive (see `suppression.py`).

Limits: a phone number written in national format without a country is read with
`onefold__default_phone_calling_code`; values split across columns, encoded (base64,
URL-encoded '@') or inside binary columns are not recognised.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onefold.erasure.config import ErasureConfig
from onefold.erasure.plan import base_table_schemas, catalog
from onefold.erasure.reclaim import wal_file
from onefold.erasure.requests import utc_now
from onefold.erasure.salt import Salt
from onefold.erasure.store import Store, fill_temp_table
from onefold.erasure.suppression import SpellingShape, spelling_shapes
from onefold.errors import ConfigError
from onefold.sql import literal, relation
from onefold.warehouse import DuckDBWarehouse, Warehouse, quote_ident

HASHES_TABLE = "erasure_verify_hashes"
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast"})
_TEXTUAL = ("varchar", "text", "character", "json", "uuid", "struct", "map", "array", "list")
# Characters that separate tokens in JSON, URLs, user agents and free text.
_SEPARATORS = r"""[][\s"'<>(){},;:=&?/\\|]+"""
_NEEDS_SPLIT = r"""[][\s"'<>(){},;:=&?/\\|]"""
_PHONE_RUN = r"\+?[0-9][0-9 ().-]{5,}[0-9]"


@dataclass(frozen=True)
class Residual:
    schema: str
    table: str
    column: str
    values: int
    forms: tuple[str, ...]

    @property
    def location(self) -> str:
        return f"{self.schema}.{self.table}.{self.column}"


@dataclass
class Verification:
    request_id: str
    residuals: list[Residual] = field(default_factory=list)
    tables_scanned: int = 0
    columns_scanned: int = 0
    files_scanned: int = 0
    hashes: int = 0
    seconds: float = 0.0
    verified_at: dt.datetime | None = None

    @property
    def clean(self) -> bool:
        return not self.residuals

    def as_dict(self) -> dict[str, Any]:
        return {
            "erasure_request_id": self.request_id,
            "clean": self.clean,
            "residuals": [
                {"location": r.location, "values": r.values, "forms": list(r.forms)}
                for r in self.residuals
            ],
            "tables_scanned": self.tables_scanned,
            "columns_scanned": self.columns_scanned,
            "files_scanned": self.files_scanned,
            "hashes": self.hashes,
            "seconds": round(self.seconds, 2),
            "verified_at": self.verified_at.isoformat(sep=" ") if self.verified_at else None,
        }


class _Dialect:
    def __init__(self, target: str) -> None:
        self.target = target

    def tokens(self, source: str) -> str:
        """(column_name, token) rows from `source` (column_name, v): the value itself,
        its parts where it has separators, and the phone-number-shaped runs in it."""
        split, needs = literal(_SEPARATORS), literal(_NEEDS_SPLIT)
        phone = literal(_PHONE_RUN)
        if self.target == "duckdb":
            return (
                f"select column_name, unnest(case when regexp_matches(v, {needs}) "
                f"then list_append(string_split_regex(v, {split}), trim(v)) "
                f"else [trim(v)] end) as token from {source} "
                f"union all select column_name, unnest(regexp_extract_all(v, {phone})) "
                f"from {source} where regexp_matches(v, {needs}) "
                f"and regexp_matches(v, '[0-9][^0-9]?[0-9][^0-9]?[0-9]')"
            )
        return (
            f"select column_name, unnest(case when v ~ {needs} "
            f"then array_append(regexp_split_to_array(v, {split}), trim(v)) "
            f"else array[trim(v)] end) as token from {source} "
            f"union all select column_name, (regexp_matches(v, {phone}, 'g'))[1] "
            f"from {source} where v ~ {needs} and v ~ '[0-9][^0-9]?[0-9][^0-9]?[0-9]'"
        )

    def is_hex64(self, expression: str) -> str:
        if self.target == "duckdb":
            return f"regexp_full_match({expression}, '[0-9a-f]{{64}}')"
        return f"({expression} ~ '^[0-9a-f]{{64}}$')"

    def phone_like(self, expression: str) -> str:
        """Digits with the usual punctuation, 7 to 20 characters: worth normalizing."""
        pattern = "[+]?[0-9][0-9 ().-]{5,18}[0-9]"
        if self.target == "duckdb":
            return f"regexp_full_match({expression}, '{pattern}')"
        return f"({expression} ~ '^{pattern}$')"


def tune_session(warehouse: Warehouse) -> None:
    """PostgreSQL: no JIT (it compiles every one of the scan's many short queries for
    longer than they run) and room to hash the distinct values in memory."""
    if warehouse.target == "postgres":
        warehouse.execute("set jit = off")
        warehouse.execute("set work_mem = '256MB'")


def scanned_schemas(warehouse: Warehouse, config: ErasureConfig) -> list[str]:
    excluded = SYSTEM_SCHEMAS | set(config.verify_exclude_schemas)
    return [
        schema
        for schema in base_table_schemas(warehouse)
        if schema not in excluded and not schema.startswith("pg_temp")
    ]


def textual_columns(
    warehouse: Warehouse, schemas: Sequence[str]
) -> dict[tuple[str, str], list[str]]:

    tables: dict[tuple[str, str], list[str]] = {}
    for key, columns in catalog(warehouse, schemas).items():
        names = [c.name for c in columns if any(t in c.data_type for t in _TEXTUAL)]
        if names:
            tables[key] = names
    return tables


def load_hashes(warehouse: Warehouse, hashes: Sequence[tuple[str, str, str]]) -> None:
    fill_temp_table(
        warehouse, HASHES_TABLE, ("identifier_type", "identifier_form", "suppression_hash"), hashes
    )


def keys_query(config: ErasureConfig, schema: str, table: str, columns: Sequence[str]) -> str:
    """(column_name, k): every candidate match key of every text column of the table.

    Values and tokens are deduplicated before anything is normalized; cheap tests
    (length, '@') guard the normalizers, which run on few tokens."""
    dialect = _Dialect(config.target_type)
    table_relation = relation(schema, table)
    values = "\n    union all ".join(
        f"select {literal(column)} as column_name, cast({quote_ident(column)} as varchar) as v "
        f"from {table_relation} where {quote_ident(column)} is not null"
        for column in columns
    )
    match_key = config.function("identifier_match_key")
    code = literal(config.default_calling_code)
    return f"""
with verify_values as (
    select distinct column_name, v from ({values}) as all_values
),
verify_tokens as (
    select distinct column_name, token from ({dialect.tokens("verify_values")}) as split_values
    where token is not null and token != ''
),
verify_keys as (
    select column_name, token as k from verify_tokens
    union all
    select column_name, lower(token) from verify_tokens
    where length(token) = 64 and token != lower(token)
    union all
    select column_name, {match_key}('email', token, {code}) from verify_tokens
    where token like '%@%'
    union all
    select column_name, {match_key}('phone', token, {code}) from verify_tokens
    where length(token) between 7 and 20 and {dialect.phone_like("token")}
)
select distinct column_name, k from verify_keys where k is not null
"""


def scan_table(
    warehouse: Warehouse, config: ErasureConfig, schema: str, table: str, columns: Sequence[str]
) -> list[tuple[str, str, int]]:
    """(column, type:form, distinct values) for every column holding erased identifiers.
    Needs load_hashes() first, on a connection that carries the salt."""
    suppression_hash = config.function("suppression_hash")
    rows = warehouse.query(
        f"with verify_candidates as ({keys_query(config, schema, table, columns)}), "
        "verify_hits as (select column_name, k from verify_candidates "
        f"where {suppression_hash}(k) in (select suppression_hash from {HASHES_TABLE})) "
        "select verify_hits.column_name, "
        "hashes.identifier_type || ':' || hashes.identifier_form, count(distinct verify_hits.k) "
        f"from verify_hits inner join {HASHES_TABLE} as hashes "
        f"on {suppression_hash}(verify_hits.k) = hashes.suppression_hash "
        "group by verify_hits.column_name, hashes.identifier_type || ':' || hashes.identifier_form"
    )
    return [(str(column), str(form), int(count)) for column, form, count in rows]


# Printable runs in the database file: what `strings` or `grep` would find there.
_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e]{6,}")
_READ_SIZE = 64 * 1024 * 1024
# Where a spelling anchored on its start may begin inside a run of glued values (a
# database page stores strings back to back: 'ann@web.de+4930123...john'): a phone number
# at a '+' or '(' or a digit after a non-digit, a UUID where one starts. A phone window
# is hashed only if it holds nothing but a phone number's characters.
_PHONE_START = re.compile(r"[+(]|(?<![0-9])[0-9]")
_PHONE_WINDOW = re.compile(r"[0-9+() ./-]+")
_UUID_START = re.compile(r"(?=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
_AT = re.compile("@")


def file_strings(path: Path) -> Iterator[list[str]]:
    """The runs of six or more printable bytes of a file, lower-cased, one list per
    chunk read (runs that cross a read boundary are read again with the next chunk), so
    a file of any size is scanned in bounded memory."""
    overlap = 4096
    with path.open("rb") as handle:
        tail = b""
        while chunk := handle.read(_READ_SIZE):
            data = tail + chunk
            yield [m.group().decode("ascii").lower() for m in _PRINTABLE_RUN.finditer(data)]
            tail = data[-overlap:]


def byte_hits(
    chunks: Iterable[Sequence[str]], salt: Salt, shapes: Sequence[SpellingShape]
) -> dict[str, str]:
    """{suppression hash: the text found} for every window of the strings, at the
    shapes' lengths and anchors, whose salted hash is one of the shapes'."""
    wanted = {shape.suppression_hash for shape in shapes}
    at_shapes = {(shape.length, shape.at) for shape in shapes if shape.at is not None}
    starts = [
        (_PHONE_START, _PHONE_WINDOW, {s.length for s in shapes if s.at is None and s.is_phone}),
        (_UUID_START, None, {s.length for s in shapes if s.at is None and not s.is_phone}),
    ]
    hits: dict[str, str] = {}
    for strings in chunks:
        # Windows first, hashed once each: the same text recurs across pages and runs.
        windows: set[str] = set()
        for text in strings:
            size = len(text)
            if at_shapes and "@" in text:
                for match in _AT.finditer(text):
                    for length, offset in at_shapes:
                        begin = match.start() - offset
                        if begin >= 0 and begin + length <= size:
                            windows.add(text[begin : begin + length])
            for anchor, allowed, lengths in starts:
                if not lengths:
                    continue
                for match in anchor.finditer(text):
                    begin = match.start()
                    for length in lengths:
                        window = text[begin : begin + length]
                        if len(window) == length and (allowed is None or allowed.fullmatch(window)):
                            windows.add(window)
        for window in windows:
            digest = salt.hash(window)
            if digest in wanted:
                hits[digest] = window
    return hits


def scan_file_bytes(
    warehouse: DuckDBWarehouse,
    config: ErasureConfig,
    salt: Salt,
    shapes: Sequence[SpellingShape],
    paths: Sequence[Path],
) -> list[tuple[str, str, int]]:
    """(file, type:form, values) for each file whose bytes hold one of the request's
    spellings in readable form. A value also held by a table of an excluded schema (the
    demo's ground truth) is that table's, not a residual."""
    found: list[tuple[str, str, int]] = []
    kinds = {shape.suppression_hash: shape.identifier_type for shape in shapes}
    excluded = textual_columns(warehouse, list(config.verify_exclude_schemas))
    for path in paths:
        if not path.exists():
            continue
        hits = byte_hits(file_strings(path), salt, shapes)
        counts: dict[str, int] = {}
        for digest, window in hits.items():
            if _held_by(warehouse, excluded, window):
                continue
            form = f"{kinds[digest]}:bytes"
            counts[form] = counts.get(form, 0) + 1
        found += [(path.name, form, count) for form, count in sorted(counts.items())]
    return found


def _held_by(warehouse: Warehouse, tables: dict[tuple[str, str], list[str]], window: str) -> bool:
    """Whether a text column of these tables contains `window` (DuckDB: the value is a
    bound parameter of a local query, never sent anywhere)."""
    for (schema, table), columns in tables.items():
        condition = " or ".join(
            f"strpos(lower(cast({quote_ident(column)} as varchar)), ?) > 0" for column in columns
        )
        rows = warehouse.query(
            f"select 1 from {relation(schema, table)} where {condition} limit 1",
            [window] * len(columns),
        )
        if rows:
            return True
    return False


def database_files(warehouse: DuckDBWarehouse) -> list[Path]:
    """The DuckDB file and its write-ahead log."""
    path = warehouse.settings.path.resolve()
    return [path, wal_file(path)]


def verify(
    warehouse: Warehouse,
    config: ErasureConfig,
    request_id: str,
    record: bool = True,
    salt: Salt | None = None,
) -> Verification:
    """Scan every table for the request's erased identifiers, and on DuckDB the bytes of
    the database file (with `salt`). `warehouse` must carry the salt
    (`onefold.erasure.salt.connect_salted`)."""
    store = Store(warehouse, config)
    receipt = store.receipt(request_id)
    if receipt is None:
        raise ConfigError(
            f"no erasure request {request_id!r}: run `onefold erase --execute` for it first."
        )
    hashes = store.request_hashes(request_id)
    result = Verification(request_id, hashes=len(hashes))
    started = time.perf_counter()
    fingerprint = warehouse.query(f"select {config.function('salt_fingerprint')}()")[0][0]
    fingerprints = store.salt_fingerprints(request_id)
    if fingerprints and fingerprints != {str(fingerprint)}:
        raise ConfigError(
            "the salt in DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT is not the one this request's "
            "suppression hashes were written with: verify needs the same salt."
        )
    if hashes:
        tune_session(warehouse)
        load_hashes(warehouse, hashes)
        tables = textual_columns(warehouse, scanned_schemas(warehouse, config))
        for (schema, table), columns in sorted(tables.items()):
            result.tables_scanned += 1
            result.columns_scanned += len(columns)
            found: dict[str, tuple[int, list[str]]] = {}
            for column, form, count in scan_table(warehouse, config, schema, table, columns):
                values, forms = found.get(str(column), (0, []))
                found[str(column)] = (values + int(count), [*forms, str(form)])
            for column, (values, forms) in sorted(found.items()):
                result.residuals.append(
                    Residual(schema, table, column, values, tuple(sorted(set(forms))))
                )
        shapes = spelling_shapes(hashes)
        if isinstance(warehouse, DuckDBWarehouse) and salt is not None and shapes:
            # Bytes too: a deleted row stays in the file's free blocks until they are
            # reused (erase --execute rewrites the file; this proves it).
            paths = database_files(warehouse)
            result.files_scanned = sum(1 for path in paths if path.exists())
            by_file: dict[str, tuple[int, list[str]]] = {}
            for name, form, count in scan_file_bytes(warehouse, config, salt, shapes, paths):
                values, forms = by_file.get(name, (0, []))
                by_file[name] = (values + count, [*forms, form])
            for name, (values, forms) in sorted(by_file.items()):
                result.residuals.append(
                    Residual("file", name, "bytes", values, tuple(sorted(set(forms))))
                )
    result.seconds = time.perf_counter() - started
    result.verified_at = utc_now()
    if record:
        store.record_verification(
            request_id, result.as_dict(), len(result.residuals), result.verified_at
        )
    return result
