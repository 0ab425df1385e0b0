"""Hand-written raw tables for scenario tests, shaped by the sources' own YAML.

The column lists come from models/staging/*/_*__sources.yml, so a test can never drift
from what staging expects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from onefold.testing.dbt import PACKAGE_DIR
from onefold.warehouse import Warehouse


def declared_raw_tables(project_dir: Path = PACKAGE_DIR) -> Iterator[dict[str, Any]]:
    """Every raw table's entry in the sources YAML (models/staging/*/_*__sources.yml)."""
    for path in sorted((project_dir / "models" / "staging").glob("*/_*__sources.yml")):
        document = yaml.safe_load(path.read_text())
        for source in document.get("sources", []):
            if source["name"] == "onefold_privacy":  # Onefold's own tables, not raw data
                continue
            yield from source.get("tables", [])


def source_columns(project_dir: Path = PACKAGE_DIR) -> dict[str, list[str]]:
    """Raw table name -> its columns, as declared in the sources YAML."""
    return {
        table["name"]: [column["name"] for column in table.get("columns", [])]
        for table in declared_raw_tables(project_dir)
    }


def write_raw_tables(
    warehouse: Warehouse,
    rows: Mapping[str, Sequence[Mapping[str, Any]]],
    loaded_at: dt.datetime,
    schema: str = "raw",
) -> None:
    """Write every raw table (empty unless given rows); columns missing in a row are null."""
    for table, columns in source_columns().items():
        records = [
            {
                column: (row.get(column) if column != "_loaded_at" else row.get(column, loaded_at))
                for column in columns
            }
            for row in rows.get(table, [])
        ]
        frame = pd.DataFrame.from_records(records, columns=columns)
        for column in columns:
            if column == "_loaded_at":
                frame[column] = pd.to_datetime(frame[column])
            else:
                frame[column] = frame[column].astype("string")
        warehouse.write_df(schema, table, frame)
