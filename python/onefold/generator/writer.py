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
