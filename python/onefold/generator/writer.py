"""Writing generated frames to the warehouse, replacing earlier demo data."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from onefold.warehouse import Warehouse

RAW_SCHEMA = "raw"
TRUTH_SCHEMA = "raw_truth"


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
