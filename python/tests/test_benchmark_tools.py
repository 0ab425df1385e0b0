"""The measuring tools behind benchmarks/scale.py: the floor scan and process-tree memory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from onefold.generator.run import RAW_TABLES
from onefold.settings import DuckDBSettings
from onefold.testing.floor import raw_sources, scan_floor
from onefold.testing.memory import sampled_peak, tree_memory
from onefold.warehouse import DuckDBWarehouse


def test_raw_sources_come_from_the_declarations() -> None:
    sources = {source.table: source for source in raw_sources()}
    assert sources["web_events"].record_key == "message_id"
    assert set(sources["web_events"].parsed_columns) == {"context", "properties", "traits"}
    assert sources["shop_orders"].record_key == "order_id"
    assert set(sources) == set(RAW_TABLES)  # what the generator lands, nothing of Onefold's


def test_floor_scans_every_row_groups_by_key_and_parses_json(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(DuckDBSettings(path=tmp_path / "floor.duckdb"))
    try:
        web = pd.DataFrame(
            {
                "message_id": ["m1", "m1", "m2", "m3"],  # m1 delivered twice
                "context": ['{"a": 1}', '{"a": 1}', '{"a": ', None],  # m2's is cut short
                "properties": ["{}", "{}", "{}", "{}"],
                "traits": [None, None, '{"email": "x@example.com"}', None],
            }
        )
        warehouse.write_df("raw", "web_events", web)
        warehouse.write_df("raw", "crm_contacts", pd.DataFrame({"contact_id": ["c1", "c2"]}))
        scan = scan_floor(warehouse, "duckdb")
    finally:
        warehouse.close()
    assert (scan.rows, scan.keys) == (6, 5)  # tables that are absent are skipped
    assert scan.parsed_values == 2 + 4 + 1  # valid context values, properties, traits
    assert scan.seconds > 0


_ALLOCATE = (
    "import time; block = bytearray(300 * 1024 * 1024); print('ready', flush=True); time.sleep(30)"
)


def test_tree_memory_counts_a_child_process() -> None:
    before = tree_memory(os.getpid())
    with sampled_peak(os.getpid(), interval_seconds=0.05) as peak:
        child = subprocess.Popen(
            [sys.executable, "-c", _ALLOCATE], stdout=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
            time.sleep(0.3)
            during = tree_memory(os.getpid())
        finally:
            child.kill()
            child.wait()
    assert during - before > 250 * 1024**2
    assert peak.peak_bytes >= during - 50 * 1024**2
    assert peak.samples >= 2
