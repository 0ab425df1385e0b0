"""The floor the scale benchmarks are measured against: one scan of all raw rows.

A build cannot cost less than reading every raw row once, parsing its JSON and grouping
by the source's own key (staging's deduplication). The floor is that, and nothing
else, on the same warehouse and data as the build it is compared with. The raw tables
and their keys come from the sources' declarations (`meta.onefold.erasure.record_key`
in models/staging/*/_*__sources.yml); every column that can hold JSON or free text
(`json:` identifiers and `free_text`) goes through the same safe parse staging uses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from onefold.testing.dbt import PACKAGE_DIR
from onefold.testing.raw import declared_raw_tables
from onefold.warehouse import Warehouse, quote_ident


@dataclass(frozen=True)
class RawSource:
    table: str
    record_key: str
    parsed_columns: tuple[str, ...]


@dataclass(frozen=True)
class FloorScan:
    seconds: float
    rows: int
    keys: int
    parsed_values: int


def raw_sources(project_dir: Path = PACKAGE_DIR) -> list[RawSource]:
    """Every declared raw table with its record key (its erasure declaration's, or
    `meta.onefold.record_key` for a table without identifiers) and its JSON / free-text
    columns."""
    found = []
    for table in declared_raw_tables(project_dir):
        onefold = table.get("meta", {}).get("onefold", {})
        erasure = onefold.get("erasure", {})
        record_key = erasure.get("record_key") or onefold.get("record_key")
        if record_key is None:
            continue
        parsed = [i["json"] for i in erasure.get("identifiers", []) if "json" in i]
        parsed += erasure.get("free_text", [])
        found.append(RawSource(table["name"], record_key, tuple(dict.fromkeys(parsed))))
    return found


def _parse(target: str, column: str, function_schema: str) -> str:
    quoted = quote_ident(column)
    if target == "postgres":
        # What staging calls (macros/casting: safe_parse_json), created by dbt's on-run-start.
        return f"{quote_ident(function_schema)}.onefold_try_jsonb({quoted})"
    return f"case when json_valid({quoted}) then cast({quoted} as json) end"


def floor_query(target: str, source: RawSource, raw_schema: str, function_schema: str) -> str:
    key = quote_ident(source.record_key)
    parsed = (
        " + ".join(
            f"count({_parse(target, column, function_schema)})" for column in source.parsed_columns
        )
        or "0"
    )
    return (
        f"select count(*), coalesce(sum(row_count), 0), coalesce(sum(parsed_count), 0) from ("
        f"select {key}, count(*) as row_count, {parsed} as parsed_count "
        f"from {quote_ident(raw_schema)}.{quote_ident(source.table)} group by {key}) as by_key"
    )


def scan_floor(
    warehouse: Warehouse,
    target: str,
    raw_schema: str = "raw",
    function_schema: str = "onefold",
    project_dir: Path = PACKAGE_DIR,
) -> FloorScan:
    """Run the floor scan over every raw table that exists; its wall time and counts."""
    rows = keys = parsed = 0
    started = time.perf_counter()
    for source in raw_sources(project_dir):
        if not warehouse.table_exists(raw_schema, source.table):
            continue
        ((table_keys, table_rows, table_parsed),) = warehouse.query(
            floor_query(target, source, raw_schema, function_schema)
        )
        keys, rows, parsed = (
            keys + int(table_keys),
            rows + int(table_rows),
            parsed + int(table_parsed),
        )
    return FloorScan(time.perf_counter() - started, rows, keys, parsed)
