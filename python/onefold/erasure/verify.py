"""`onefold erase --verify <request>`: scan the warehouse for what was erased.

Two scopes. The default, targeted scan reads the columns that can hold an identifier:
the columns the erasure declarations name (identifier, free-text and redacted columns of
the raw tables, identifier columns of the staging tables), the columns erase itself keys
a person's rows on (customer ids, match keys, normalized and raw values, graph nodes,
columns named after an identifier type such as `email` or `trait_phone`), and every
free-text or JSON column: typed JSON/nested, or a text column any of whose values is not
a single token (whitespace, quotes, braces, URL punctuation) or holds an `@`. It skips
text columns whose every value is one token with no `@` and no declaration or name that
says identifier (statuses, codes, other ids). On DuckDB it byte-scans only what the last
storage rewrite could not have cleaned: the write-ahead log and the file's blocks no
live table segment references (free blocks) — when the file was rewritten after the
last erasure statement; otherwise the whole file. `--full-scan` (scope "full") reads
every text column of every table and every byte of the file, as before.

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from onefold.erasure.config import ErasureConfig, relation_parts
from onefold.erasure.plan import NODE_COLUMNS, Column, base_table_schemas, catalog
from onefold.erasure.reclaim import REWRITES_TABLE, wal_file
from onefold.erasure.requests import utc_now
from onefold.erasure.salt import Salt
from onefold.erasure.store import (
    Store,
    append_session_rows,
    drop_session_table,
    fill_temp_table,
    session_table_as,
)
from onefold.erasure.suppression import SpellingShape, spelling_shapes
from onefold.errors import ConfigError
from onefold.sql import literal, relation
from onefold.warehouse import DuckDBWarehouse, Warehouse, quote_ident

HASHES_TABLE = "erasure_verify_hashes"
#: the scan's cache of normalized tokens, and one table's tokens while it is scanned
NORMALIZED_TABLE, TOKENS_TABLE = "erasure_verify_normalized", "erasure_verify_tokens"
TARGETED, FULL = "targeted", "full"
SCOPES = (TARGETED, FULL)
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast"})
_TEXTUAL = (
    "varchar",
    "text",
    "character",
    "string",
    "json",
    "uuid",
    "struct",
    "map",
    "array",
    "list",
)
# Characters that separate tokens in JSON, URLs, user agents and free text.
_SEPARATORS = r"""[][\s"'<>(){},;:=&?/\\|]+"""
_NEEDS_SPLIT = r"""[][\s"'<>(){},;:=&?/\\|]"""
_PHONE_RUN = r"\+?[0-9][0-9 ().-]{5,}[0-9]"
# A value with one of these is free text (or an email): the targeted scan reads its column.
_FREE_TEXT = r"""[][\s"'<>(){},;:=&?/\\|@+]"""
_NESTED = ("json", "struct", "map", "[]", "list", "array", "union")
# Columns erase keys a person's rows on (plan.derived_predicate) and the ones that hold a
# raw, normalized or attributed identifier value elsewhere in Onefold's models.
_IDENTIFIER_COLUMNS = frozenset(
    {
        "customer_id",
        "previous_customer_id",
        "record_key",
        "match_key",
        "normalized_value",
        "identifier_value",
        "raw_value",
        "attribute_value",
        "value_key",
        "item_key",
        "item_detail",
        *NODE_COLUMNS,
    }
)


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


@dataclass(frozen=True)
class TableScan:
    """One table's part of the scan: the text columns read, and those left out (targeted
    scope: single-token columns no declaration or name marks as an identifier)."""

    schema: str
    table: str
    columns: tuple[str, ...]
    skipped: tuple[str, ...] = ()
    text_bytes: int = 0
    #: how long its scan took; None when it was read with every other table at once (Spark)
    seconds: float | None = 0.0


@dataclass(frozen=True)
class FileScan:
    """What the byte scan read of one file: `whole` file, or its `unreferenced` blocks
    (free blocks, not part of any live table segment or metadata)."""

    name: str
    part: str  # whole | unreferenced
    bytes_scanned: int
    file_bytes: int


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
    scope: str = TARGETED
    tables: list[TableScan] = field(default_factory=list)
    files: list[FileScan] = field(default_factory=list)
    #: why the byte scan read what it read (targeted: when the file was last rewritten)
    byte_scan: str = ""
    byte_scan_seconds: float = 0.0

    @property
    def columns_skipped(self) -> int:
        return sum(len(t.skipped) for t in self.tables)

    @property
    def text_bytes(self) -> int:
        return sum(t.text_bytes for t in self.tables)

    @property
    def file_bytes_scanned(self) -> int:
        return sum(f.bytes_scanned for f in self.files)

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
            "scope": self.scope,
            "tables_scanned": self.tables_scanned,
            "columns_scanned": self.columns_scanned,
            "columns_skipped": self.columns_skipped,
            "text_bytes_scanned": self.text_bytes,
            "files_scanned": self.files_scanned,
            "file_bytes_scanned": self.file_bytes_scanned,
            "byte_scan": self.byte_scan,
            "byte_scan_seconds": round(self.byte_scan_seconds, 2),
            "tables": [
                {
                    "table": f"{t.schema}.{t.table}",
                    "columns": list(t.columns),
                    "skipped": list(t.skipped),
                    "text_bytes": t.text_bytes,
                    "seconds": None if t.seconds is None else round(t.seconds, 2),
                }
                for t in self.tables
            ],
            "files": [
                {
                    "file": f.name,
                    "part": f.part,
                    "bytes_scanned": f.bytes_scanned,
                    "file_bytes": f.file_bytes,
                }
                for f in self.files
            ],
            "hashes": self.hashes,
            "seconds": round(self.seconds, 2),
            "verified_at": self.verified_at.isoformat(sep=" ") if self.verified_at else None,
        }


def java_pattern(pattern: str) -> str:
    """A pattern above as a Spark SQL literal: Java's regexes read a `]` that opens a
    class as its end, and a Spark literal cannot hold a quote (`\x27` instead)."""
    return "'" + pattern.replace("[][", r"[\]\[", 1).replace("'", r"\x27") + "'"


class _Dialect:
    def __init__(self, target: str) -> None:
        self.target = target

    def pattern(self, pattern: str) -> str:
        return java_pattern(pattern) if self.target == "spark" else literal(pattern)

    def matches(self, expression: str, pattern: str) -> str:
        """`expression` holds a match of `pattern` somewhere."""
        if self.target == "duckdb":
            return f"regexp_matches({expression}, {self.pattern(pattern)})"
        if self.target == "spark":
            return f"({expression} rlike {self.pattern(pattern)})"
        return f"({expression} ~ {self.pattern(pattern)})"

    def tokens(self, source: str) -> str:
        """(column_name, token) rows from `source` (column_name, v): the value itself,
        its parts where it has separators, and the phone-number-shaped runs in it."""
        split, needs = self.pattern(_SEPARATORS), self.pattern(_NEEDS_SPLIT)
        phone = self.pattern(_PHONE_RUN)
        if self.target == "spark":
            return (
                f"select column_name, explode(case when v rlike {needs} "
                f"then concat(split(v, {split}), array(trim(v))) "
                f"else array(trim(v)) end) as token from {source} "
                f"union all select column_name, explode(regexp_extract_all(v, {phone}, 0)) "
                f"from {source} where v rlike {needs} "
                f"and v rlike '[0-9][^0-9]?[0-9][^0-9]?[0-9]'"
            )
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
        return self.matches(expression, "^[0-9a-f]{64}$")

    def phone_like(self, expression: str) -> str:
        """Digits with the usual punctuation, 7 to 20 characters: worth normalizing."""
        pattern = "[+]?[0-9][0-9 ().-]{5,18}[0-9]"
        if self.target == "duckdb":
            return f"regexp_full_match({expression}, '{pattern}')"
        return self.matches(expression, f"^{pattern}$")

    def byte_length(self, expression: str) -> str:
        return f"strlen({expression})" if self.target == "duckdb" else f"octet_length({expression})"


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
    """The request's hashes, and an empty cache of normalized tokens (what a token
    normalizes to depends on nothing but the token: each is normalized and hashed once
    per scan, however many tables hold it)."""
    fill_temp_table(
        warehouse, HASHES_TABLE, ("identifier_type", "identifier_form", "suppression_hash"), hashes
    )
    fill_temp_table(warehouse, NORMALIZED_TABLE, ("token", "k"), [])


def _token_ctes(config: ErasureConfig, schema: str, table: str, columns: Sequence[str]) -> str:
    """CTEs down to verify_tokens (column_name, token); verify_all holds every value read."""
    return _labelled_token_ctes(config, [(column, schema, table, column) for column in columns])


def _labelled_token_ctes(
    config: ErasureConfig, columns: Sequence[tuple[str, str, str, str]]
) -> str:
    """_token_ctes over (label, schema, table, column) columns of any tables: each
    column's values and tokens under its label (`column_name`)."""
    dialect = _Dialect(config.target_type)
    if config.target_type == "spark":
        # One read of each table, its columns as rows (a read per column took most of
        # a scan's time on Spark).
        by_table: dict[tuple[str, str], list[str]] = {}
        for label, schema, table, column in columns:
            by_table.setdefault((schema, table), []).append(
                f"struct({literal(label)} as column_name, "
                f"cast({quote_ident(column)} as varchar) as v)"
            )
        values = "\n    union all ".join(
            f"select column_name, v from (select inline(array({', '.join(structs)})) "
            f"from {relation(schema, table)}) as verify_rows where v is not null"
            for (schema, table), structs in by_table.items()
        )
    else:
        values = "\n    union all ".join(
            f"select {literal(label)} as column_name, cast({quote_ident(column)} as varchar) "
            f"as v from {relation(schema, table)} where {quote_ident(column)} is not null"
            for label, schema, table, column in columns
        )
    return f"""
verify_all as ({values}),
verify_values as (
    select distinct column_name, v from verify_all
),
verify_tokens as (
    select distinct column_name, token from ({dialect.tokens("verify_values")}) as split_values
    where token is not null and token != ''
)"""


def _normalized_keys(config: ErasureConfig, tokens: str) -> str:
    """(column_name, token, k): each token of `tokens` (column_name, token) read as an
    email or a phone number, where it could be one, with the graph's normalization."""
    dialect = _Dialect(config.target_type)
    email = config.match_key_sql("'email'", "token")
    phone = config.match_key_sql("'phone'", "token")
    return (
        f"select column_name, token, {email} as k from {tokens} "
        "where token like '%@%' "
        f"union all select column_name, token, {phone} from {tokens} "
        f"where length(token) between 7 and 20 and {dialect.phone_like('token')}"
    )


def _key_ctes(config: ErasureConfig, schema: str, table: str, columns: Sequence[str]) -> str:
    """CTEs down to verify_keys (column_name, k); verify_all holds every value read."""
    return f"""{_token_ctes(config, schema, table, columns)},
verify_keys as (
    select column_name, token as k from verify_tokens
    union all
    select column_name, lower(token) from verify_tokens
    where length(token) = 64 and token != lower(token)
    union all
    select column_name, k from ({_normalized_keys(config, "verify_tokens")}) as normalized
)"""


def keys_query(config: ErasureConfig, schema: str, table: str, columns: Sequence[str]) -> str:
    """(column_name, k): every candidate match key of every text column of the table.

    Values and tokens are deduplicated before anything is normalized; cheap tests
    (length, '@') guard the normalizers, which run on few tokens."""
    return (
        f"with {_key_ctes(config, schema, table, columns)}\n"
        "select distinct column_name, k from verify_keys where k is not null"
    )


def scan_table(
    warehouse: Warehouse, config: ErasureConfig, schema: str, table: str, columns: Sequence[str]
) -> list[tuple[str, str, int]]:
    """(column, type:form, distinct values) for every column holding erased identifiers.
    Needs load_hashes() first, on a connection that carries the salt."""
    return scan_table_bytes(warehouse, config, schema, table, columns)[0]


def scan_table_bytes(
    warehouse: Warehouse, config: ErasureConfig, schema: str, table: str, columns: Sequence[str]
) -> tuple[list[tuple[str, str, int]], int]:
    """scan_table's rows, and the bytes of text it read (every value of the columns)."""
    scanned = scan_tables(warehouse, config, [TableScan(schema, table, tuple(columns))])
    return scanned.get((schema, table), ([], 0))


def scan_tables(
    warehouse: Warehouse, config: ErasureConfig, scans: Sequence[TableScan]
) -> dict[tuple[str, str], tuple[list[tuple[str, str, int]], int]]:
    """(schema, table) -> scan_table's rows and the bytes of text read, for the columns
    of `scans`: one table at a time on DuckDB and PostgreSQL, all at once on Spark (which
    pays a second or more per statement, not per row).

    Three statements: the distinct tokens into a session table (and the bytes read per
    column); the tokens no scan before had that could be an email or a phone number,
    normalized and hashed once, into the scan's cache (NORMALIZED_TABLE: token, and the
    key it normalizes to when that key is erased, else null); then every token as it is
    (and a 64-hex token lower-cased) hashed, plus the cached erased keys, matched with
    the request's hashes. Identity tables repeat the same values (record keys, match
    keys, normalized values) in about ten tables: normalizing them was most of the scan."""
    labels = {
        f"c{number}": (scan.schema, scan.table, column)
        for number, (scan, column) in enumerate(
            (scan, column) for scan in scans for column in scan.columns
        )
    }
    if not labels:
        return {}
    columns = [(label, *where) for label, where in labels.items()]
    dialect = _Dialect(config.target_type)
    tokens = TOKENS_TABLE
    hashes = f"(select suppression_hash from {HASHES_TABLE})"
    # A column's bytes read are a row without a token.
    session_table_as(
        warehouse,
        tokens,
        f"with {_labelled_token_ctes(config, columns)} "
        "select column_name, token, cast(null as bigint) as text_bytes from verify_tokens "
        f"union all select column_name, null, coalesce(sum({dialect.byte_length('v')}), 0) "
        "from verify_all group by column_name",
    )
    new_tokens = (
        f"select distinct cast(null as varchar) as column_name, token from {tokens} as t "
        "where t.token is not null "
        f"and (t.token like '%@%' or (length(t.token) between 7 and 20 "
        f"and {dialect.phone_like('t.token')})) "
        f"and not exists (select 1 from {NORMALIZED_TABLE} as c where c.token = t.token)"
    )
    # Most tables bring no token the cache lacks: the normalizers (a large expression
    # that Spark plans for seconds) run only when one does.
    if warehouse.query(f"select count(*) from ({new_tokens}) as verify_new_tokens")[0][0]:
        append_session_rows(
            warehouse,
            NORMALIZED_TABLE,
            ("token", "k"),
            f"with verify_new_tokens as ({new_tokens}) "
            f"select distinct token, case when {config.suppression_hash_sql('k')} in {hashes} "
            f"then k end from ({_normalized_keys(config, 'verify_new_tokens')}) as normalized",
        )
    rows = warehouse.query(
        "with verify_candidates as ("
        f"select distinct column_name, token as k from {tokens} where token is not null "
        f"union select column_name, lower(token) from {tokens} "
        "where token is not null and length(token) = 64 and token != lower(token)), "
        "verify_hits as ("
        f"select column_name, k from verify_candidates "
        f"where {config.suppression_hash_sql('k')} in {hashes} "
        f"union select t.column_name, c.k from {tokens} as t "
        f"inner join {NORMALIZED_TABLE} as c on c.token = t.token "
        "where t.token is not null and c.k is not null) "
        "select verify_hits.column_name, "
        "hashes.identifier_type || ':' || hashes.identifier_form, count(distinct verify_hits.k) "
        f"from verify_hits inner join {HASHES_TABLE} as hashes "
        f"on {config.suppression_hash_sql('verify_hits.k')} = hashes.suppression_hash "
        "group by verify_hits.column_name, hashes.identifier_type || ':' || hashes.identifier_form "
        f"union all select column_name, null, text_bytes from {tokens} where token is null"
    )
    drop_session_table(warehouse, tokens)
    scanned: dict[tuple[str, str], tuple[list[tuple[str, str, int]], int]] = {
        (scan.schema, scan.table): ([], 0) for scan in scans
    }
    for label, form, count in rows:
        schema, table, column = labels[str(label)]
        found, text_bytes = scanned[(schema, table)]
        if form is None:
            scanned[(schema, table)] = (found, text_bytes + int(count))
        else:
            found.append((column, str(form), int(count)))
    return scanned


def _is_text(column: Column) -> bool:
    return any(t in column.data_type for t in _TEXTUAL)


def _is_nested(column: Column) -> bool:
    return any(t in column.data_type for t in _NESTED)


def _references(sql: str, column: str) -> bool:
    """Whether rendered declaration SQL over `erasure_row` reads `column`."""
    name = re.escape(column)
    pattern = rf'erasure_row\s*\.\s*(?:"{name}"|{name}(?![\w$]))'
    return re.search(pattern, sql, re.IGNORECASE) is not None


def declared_columns(config: ErasureConfig) -> dict[tuple[str, str], tuple[str, set[str]]]:
    """(schema, table) -> (the declarations' SQL over its rows, columns named outright):
    identifier, free-text and record key SQL and redacted columns of each raw table, the
    identifier and record key columns of each staging table."""
    declared: dict[tuple[str, str], tuple[str, set[str]]] = {}
    for source in config.sources.values():
        parts = relation_parts(source.relation)
        if parts is None:
            continue
        sql = " ".join(
            [source.record_key_sql, *source.free_text_sql]
            + [f"{i.type_sql} {i.value_sql} {i.match_key_sql}" for i in source.identifiers]
        )
        key = (parts[-2], parts[-1])
        previous_sql, previous = declared.get(key, ("", set()))
        declared[key] = (f"{previous_sql} {sql}", previous | set(source.redact))
    for staged in config.staging_tables:
        key = (staged.schema, staged.table)
        previous_sql, previous = declared.get(key, ("", set()))
        names = {staged.record_key} | {column for column, _ in staged.identifiers}
        declared[key] = (previous_sql, previous | names)
    return declared


def identifier_named(config: ErasureConfig, column: str) -> bool:
    """A column erase keys rows on, or named after an identifier type (`email`,
    `trait_phone`, `email_sha256`, `anonymous_id`)."""
    return column in _IDENTIFIER_COLUMNS or any(
        kind in column for kind in (*config.identifier_types, "email", "phone")
    )


def free_text_columns(
    warehouse: Warehouse, schema: str, table: str, columns: Sequence[str]
) -> list[str]:
    """The columns of `columns` any value of which is not a single token (whitespace,
    quotes, braces, URL punctuation) or holds an '@' or '+': one pass over the table."""
    return free_text_columns_of(warehouse, [(schema, table, columns)]).get((schema, table), [])


def free_text_columns_of(
    warehouse: Warehouse, tables: Sequence[tuple[str, str, Sequence[str]]]
) -> dict[tuple[str, str], list[str]]:
    """free_text_columns of several tables, in one statement."""
    dialect = _Dialect(warehouse.target)
    parts, flagged = [], []
    for number, (schema, table, columns) in enumerate(t for t in tables if t[2]):
        tests = ", ".join(
            f"coalesce(bool_or({dialect.matches(f'cast({quote_ident(c)} as varchar)', _FREE_TEXT)}"
            f"), false) as f{number}_{position}"
            for position, c in enumerate(columns)
        )
        parts.append(f"(select {tests} from {relation(schema, table)}) as t{number}")
        flagged += [(schema, table, column) for column in columns]
    if not parts:
        return {}
    (flags,) = warehouse.query(f"select * from {' cross join '.join(parts)}")
    found: dict[tuple[str, str], list[str]] = {}
    for (schema, table, column), flag in zip(flagged, flags, strict=True):
        if flag:
            found.setdefault((schema, table), []).append(column)
    return found


def plan_scan(warehouse: Warehouse, config: ErasureConfig, scope: str) -> list[TableScan]:
    """The text columns to read, table by table (see the module's docstring)."""
    if scope not in SCOPES:
        raise ConfigError(f"verify scope {scope!r}: use one of {', '.join(SCOPES)}.")
    declared = declared_columns(config)
    plan = []
    tables = catalog(warehouse, scanned_schemas(warehouse, config))
    free_text: dict[tuple[str, str], list[str]] | None = None
    if warehouse.target == "spark" and scope != FULL:
        # One statement for every table (Spark pays per statement).
        free_text = free_text_columns_of(
            warehouse,
            [
                (schema, table, _unchosen(config, declared, schema, table, columns))
                for (schema, table), columns in sorted(tables.items())
            ],
        )
    for (schema, table), columns in sorted(tables.items()):
        text = [c for c in columns if _is_text(c)]
        if not text:
            continue
        if scope == FULL:
            plan.append(TableScan(schema, table, tuple(c.name for c in text)))
            continue
        rest = _unchosen(config, declared, schema, table, columns)
        chosen = {c.name for c in text if c.name not in rest}
        if free_text is None:
            chosen |= set(free_text_columns(warehouse, schema, table, rest))
        else:
            chosen |= set(free_text.get((schema, table), []))
        plan.append(
            TableScan(
                schema,
                table,
                tuple(c.name for c in text if c.name in chosen),
                tuple(c.name for c in text if c.name not in chosen),
            )
        )
    return plan


def _unchosen(
    config: ErasureConfig,
    declared: dict[tuple[str, str], tuple[str, set[str]]],
    schema: str,
    table: str,
    columns: Sequence[Column],
) -> list[str]:
    """The table's text columns the targeted scan reads only if they hold free text:
    none of its declarations, a nested type or an identifier's name marks them."""
    sql, named = declared.get((schema, table), ("", set()))
    return [
        c.name
        for c in columns
        if _is_text(c)
        and not (
            c.name in named
            or _is_nested(c)
            or identifier_named(config, c.name)
            or (sql and _references(sql, c.name))
        )
    ]


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


def file_strings(
    path: Path, ranges: Sequence[tuple[int, int]] | None = None
) -> Iterator[list[str]]:
    """The runs of six or more printable bytes of a file (or of its byte `ranges`,
    (offset, length) each), lower-cased, one list per chunk read (runs that cross a read
    boundary are read again with the next chunk), so a file of any size is scanned in
    bounded memory."""
    overlap = 4096
    with path.open("rb") as handle:
        for offset, length in ranges if ranges is not None else [(0, -1)]:
            handle.seek(offset)
            left = length
            tail = b""
            while left != 0:
                chunk = handle.read(_READ_SIZE if left < 0 else min(_READ_SIZE, left))
                if not chunk:
                    break
                if left > 0:
                    left -= len(chunk)
                data = tail + chunk
                yield [m.group().decode("ascii").lower() for m in _PRINTABLE_RUN.finditer(data)]
                tail = data[-overlap:]


# DuckDB's file: three 4 KiB headers, then blocks of `block_size` bytes, block n at
# HEADER_BYTES + n * block_size.
HEADER_BYTES = 3 * 4096


def unreferenced_ranges(warehouse: DuckDBWarehouse, path: Path) -> list[tuple[int, int]]:
    """(offset, length) of every run of blocks of the database file that no live table
    segment and no metadata block references: free blocks, where deleted rows' and dropped
    tables' bytes stay until reused, plus anything past the last block. A block whose use
    this cannot see (an index's) counts as unreferenced: read, never skipped."""
    (block_size,) = warehouse.query(
        "select block_size from pragma_database_size() where database_name = current_database()"
    )[0]
    tables = warehouse.query(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = current_database()"
    )
    metadata = warehouse.query("select block_id from pragma_metadata_info()")
    used: set[int] = {int(b) for (b,) in metadata}
    for schema, table in tables:
        name = literal(f"{quote_ident(str(schema))}.{quote_ident(str(table))}")
        used |= {
            int(b)
            for (b,) in warehouse.query(
                f"select distinct block_id from pragma_storage_info({name}) where block_id >= 0"
            )
        }
    size = path.stat().st_size
    blocks = max(0, (size - HEADER_BYTES) // int(block_size))
    ranges: list[tuple[int, int]] = []
    for block in range(blocks):
        if block in used:
            continue
        offset = HEADER_BYTES + block * int(block_size)
        if ranges and ranges[-1][0] + ranges[-1][1] == offset:
            ranges[-1] = (ranges[-1][0], ranges[-1][1] + int(block_size))
        else:
            ranges.append((offset, int(block_size)))
    tail = HEADER_BYTES + blocks * int(block_size)
    if size > tail:
        ranges.append((tail, size - tail))
    return ranges


def last_rewrite(warehouse: Warehouse, config: ErasureConfig) -> dt.datetime | None:
    """When `onefold erase` last rewrote the DuckDB file, if that was after the last
    statement any erasure (or sweep) journaled; None otherwise."""
    schema = config.privacy_schema
    if not warehouse.table_exists(schema, REWRITES_TABLE):
        return None
    (rewritten,) = warehouse.query(
        f"select max(rewritten_at) from {relation(schema, REWRITES_TABLE)}"
    )[0]
    if rewritten is None:
        return None
    (changed,) = warehouse.query(
        f"select max(finished_at) from {config.privacy_table('erasure_steps')}"
    )[0]
    if changed is not None and changed > rewritten:
        return None
    return rewritten  # type: ignore[no-any-return]


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
    paths: Sequence[tuple[Path, Sequence[tuple[int, int]] | None]],
) -> list[tuple[str, str, int]]:
    """(file, type:form, values) for each file whose bytes (all, or the given ranges)
    hold one of the request's spellings in readable form. A value also held by a table
    of an excluded schema (the demo's ground truth) is that table's, not a residual."""
    found: list[tuple[str, str, int]] = []
    kinds = {shape.suppression_hash: shape.identifier_type for shape in shapes}
    excluded = textual_columns(warehouse, list(config.verify_exclude_schemas))
    for path, ranges in paths:
        if not path.exists():
            continue
        hits = byte_hits(file_strings(path, ranges), salt, shapes)
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


def byte_scan_plan(
    warehouse: DuckDBWarehouse, config: ErasureConfig, scope: str
) -> tuple[list[tuple[Path, list[tuple[int, int]] | None]], list[FileScan], str]:
    """What of the database file and its WAL to read: everything (full scope, or no
    rewrite since the last erasure statement), else the WAL and the unreferenced blocks."""
    path, wal = database_files(warehouse)
    rewritten = last_rewrite(warehouse, config) if scope == TARGETED else None
    if rewritten is None:
        why = (
            "whole file: --full-scan"
            if scope == FULL
            else "whole file: not rewritten by onefold erase since the last erasure statement"
        )
        ranges: list[tuple[int, int]] | None = None
    else:
        why = (
            "free blocks and write-ahead log: the file was rewritten at "
            f"{rewritten:%Y-%m-%d %H:%M:%S} UTC, after the last erasure statement, so the "
            "erased rows' old bytes can only be in blocks no live table uses; live rows are "
            "the table scan's"
        )
        ranges = unreferenced_ranges(warehouse, path) if path.exists() else []
    plan: list[tuple[Path, list[tuple[int, int]] | None]] = []
    files: list[FileScan] = []
    for file, file_ranges in ((path, ranges), (wal, None)):
        if not file.exists():
            continue
        size = file.stat().st_size
        plan.append((file, file_ranges))
        scanned = size if file_ranges is None else sum(length for _, length in file_ranges)
        part = "whole" if file_ranges is None else "unreferenced"
        files.append(FileScan(file.name, part, scanned, size))
    return plan, files, why


def verify(
    warehouse: Warehouse,
    config: ErasureConfig,
    request_id: str,
    record: bool = True,
    salt: Salt | None = None,
    scope: str = TARGETED,
    progress: Callable[[str, int, int], None] | None = None,
) -> Verification:
    """Scan the tables for the request's erased identifiers (the columns that can hold
    them, or with scope FULL every text column), and on DuckDB the bytes of the database
    file (with `salt`). `warehouse` must carry the salt
    (`onefold.erasure.salt.connect_salted`). `progress(what, done, total)` hears each
    table before it is read, then the byte scan."""
    step = progress or (lambda what, done, total: None)
    if scope not in SCOPES:
        raise ConfigError(f"verify scope {scope!r}: use one of {', '.join(SCOPES)}.")
    store = Store(warehouse, config)
    receipt = store.receipt(request_id)
    if receipt is None:
        raise ConfigError(
            f"no erasure request {request_id!r}: run `onefold erase --execute` for it first."
        )
    hashes = store.request_hashes(request_id)
    result = Verification(request_id, hashes=len(hashes), scope=scope)
    started = time.perf_counter()
    fingerprint = warehouse.query(f"select {config.salt_fingerprint_sql}")[0][0]
    fingerprints = store.salt_fingerprints(request_id)
    if fingerprints and fingerprints != {str(fingerprint)}:
        raise ConfigError(
            "the salt in DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT is not the one this request's "
            "suppression hashes were written with: verify needs the same salt."
        )
    if hashes:
        tune_session(warehouse)
        load_hashes(warehouse, hashes)
        planned_tables = plan_scan(warehouse, config, scope)
        scanning = [planned for planned in planned_tables if planned.columns]
        # Spark pays per statement, not per row: every table at once there.
        batches = [scanning] if warehouse.target == "spark" else [[p] for p in scanning]
        scanned: dict[tuple[str, str], tuple[list[tuple[str, str, int]], int]] = {}
        seconds: dict[tuple[str, str], float | None] = {}
        for done, batch in enumerate(b for b in batches if b):
            first = f"{batch[0].schema}.{batch[0].table}"
            step(first if len(batch) == 1 else f"{len(batch)} tables", done, len(batches) + 1)
            batch_started = time.perf_counter()
            scanned.update(scan_tables(warehouse, config, batch))
            took = time.perf_counter() - batch_started
            seconds.update({(p.schema, p.table): took if len(batch) == 1 else None for p in batch})
        for planned in planned_tables:
            if not planned.columns:
                result.tables.append(planned)
                continue
            result.tables_scanned += 1
            result.columns_scanned += len(planned.columns)
            rows, text_bytes = scanned[(planned.schema, planned.table)]
            result.tables.append(
                replace(
                    planned,
                    text_bytes=text_bytes,
                    seconds=seconds[(planned.schema, planned.table)],
                )
            )
            found: dict[str, tuple[int, list[str]]] = {}
            for column, form, count in rows:
                values, forms = found.get(str(column), (0, []))
                found[str(column)] = (values + int(count), [*forms, str(form)])
            for column, (values, forms) in sorted(found.items()):
                result.residuals.append(
                    Residual(
                        planned.schema, planned.table, column, values, tuple(sorted(set(forms)))
                    )
                )
        shapes = spelling_shapes(hashes)
        if isinstance(warehouse, DuckDBWarehouse) and salt is not None and shapes:
            # Bytes too: a deleted row stays in the file's free blocks until they are
            # reused (erase --execute rewrites the file; this proves it).
            step("bytes of the database file", len(batches), len(batches) + 1)
            paths, result.files, result.byte_scan = byte_scan_plan(warehouse, config, scope)
            result.files_scanned = len(result.files)
            by_file: dict[str, tuple[int, list[str]]] = {}
            bytes_started = time.perf_counter()
            for name, form, count in scan_file_bytes(warehouse, config, salt, shapes, paths):
                values, forms = by_file.get(name, (0, []))
                by_file[name] = (values + count, [*forms, form])
            result.byte_scan_seconds = time.perf_counter() - bytes_started
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
