"""Writing generated frames to the warehouse, replacing earlier demo data."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pandas as pd

from onefold.warehouse import DuckDBWarehouse, Warehouse

RAW_SCHEMA = "raw"
TRUTH_SCHEMA = "raw_truth"

#: DuckDB keeps the blocks a connection writes in its buffer pool up to `memory_limit`
#: (by default 80% of RAM), so a long generation would grow by about 5 MB per 1,000
#: persons; a run caps the limit at this many bytes (a lower configured one stays).
DUCKDB_MEMORY_CAP = 1 << 30
_UNITS = {"": 1, "B": 1, "BYTES": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4}
_UNITS |= {"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}


def write_tables(warehouse: Warehouse, schema: str, frames: Mapping[str, pd.DataFrame]) -> None:
    """Replace each `schema.table` with its frame, in the mapping's (fixed) order."""
    for table, frame in frames.items():
        warehouse.write_df(schema, table, frame)


class TableWriter:
    """Writes a run's tables chunk by chunk: the first write of a table replaces what a
    previous run left (DuckDB: create or replace; PostgreSQL: truncate or recreate, then
    COPY), every later one appends (DuckDB: insert from the frame; PostgreSQL: COPY).

    `add` buffers a frame; with `flush` the table's buffered frames are written as one.
    """

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.rows: dict[tuple[str, str], int] = {}
        self._pending: dict[tuple[str, str], list[pd.DataFrame]] = {}

    def add(self, schema: str, table: str, frame: pd.DataFrame, *, flush: bool) -> None:
        key = (schema, table)
        pending = self._pending.setdefault(key, [])
        pending.append(frame)
        if not flush:
            return
        whole = pending[0] if len(pending) == 1 else pd.concat(pending, ignore_index=True)
        del self._pending[key]
        if key in self.rows:
            self.warehouse.append_df(schema, table, whole)
        else:
            self.warehouse.write_df(schema, table, whole)
        self.rows[key] = self.rows.get(key, 0) + len(whole)


@contextmanager
def bounded_writes(warehouse: Warehouse) -> Iterator[None]:
    """Within the block a DuckDB connection holds at most DUCKDB_MEMORY_CAP of written
    data and draws no progress bar of its own on stdout; both settings are restored
    after. Elsewhere nothing changes (PostgreSQL streams COPY to the server)."""
    if warehouse.target != "duckdb":
        yield
        return
    before = dict(
        warehouse.query(
            "select name, value from duckdb_settings() "
            "where name in ('memory_limit', 'enable_progress_bar')"
        )
    )
    changes = {"enable_progress_bar": "false"}
    limit = _bytes(str(before.get("memory_limit", "")))
    if limit is None or limit > DUCKDB_MEMORY_CAP:
        changes["memory_limit"] = f"{DUCKDB_MEMORY_CAP}B"
    for name, value in changes.items():
        warehouse.execute(f"set {name} = '{value}'")
    # What to give back: the connection's configured value where Onefold set one (its
    # text, e.g. '50%', not DuckDB's rounded reading of it), else DuckDB's default.
    configured = warehouse.settings.resources() if isinstance(warehouse, DuckDBWarehouse) else {}
    try:
        yield
    finally:
        for name in changes:
            if name in configured:
                warehouse.execute(f"set {name} = '{configured[name]}'")
                continue
            warehouse.execute(f"reset {name}")
            now = warehouse.query("select value from duckdb_settings() where name = ?", [name])
            if now[0][0] != before[name]:
                warehouse.execute(f"set {name} = '{before[name]}'")


def _bytes(setting: str) -> int | None:
    """'18.8 GiB' -> bytes; None for what is not a size (e.g. no limit)."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", setting)
    if not match or match.group(2).upper() not in _UNITS:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])
