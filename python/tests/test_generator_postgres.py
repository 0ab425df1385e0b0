"""The generator writes the same tables to PostgreSQL (COPY) as to DuckDB, appending
shard after shard whatever the chunk size."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from onefold import warehouse as warehouse_module
from onefold.generator import GeneratorConfig, generate_demo_data
from onefold.settings import DuckDBSettings, PostgresSettings
from onefold.testing.postgres import PostgresServer, create_database
from onefold.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse

pytestmark = pytest.mark.postgres

# Three shards: PostgreSQL gets them two at a time (the first COPY into a fresh table,
# the next appended), DuckDB one at a time.
CONFIG = GeneratorConfig(
    persons=300, seed=21, end_date=dt.date(2026, 3, 1), days=60, shard_persons=120
)
TABLES = [
    ("raw", "web_events"),
    ("raw", "shop_customers"),
    ("raw", "shop_orders"),
    ("raw", "crm_contacts"),
    ("raw", "pos_transactions"),
    ("raw", "email_events"),
    ("raw", "consent_events"),
    ("raw", "erasure_requests"),
    ("raw_truth", "record_owners"),
    ("raw_truth", "persons"),
    ("raw_truth", "noise_log"),
    ("raw_truth", "generation_runs"),
]


def _rows(warehouse: Warehouse, schema: str, table: str) -> list[tuple[object, ...]]:
    rows = warehouse.query(f'select * from "{schema}"."{table}"')
    return sorted(rows, key=lambda row: tuple((v is None, str(v)) for v in row))


def test_postgres_gets_the_same_rows_as_duckdb(
    postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warehouse_module, "_COPY_ROWS", 500)  # several COPYs per table
    database = create_database(postgres_server, "onefold_generator_test")
    postgres = PostgresWarehouse(
        PostgresSettings(
            host=database.host, port=database.port, user=database.user, database=database.database
        )
    )
    duck = DuckDBWarehouse(DuckDBSettings(path=tmp_path / "same.duckdb"))
    try:
        generate_demo_data(postgres, CONFIG, chunk_shards=2)
        generate_demo_data(duck, CONFIG)
        for schema, table in TABLES:
            assert _rows(postgres, schema, table) == _rows(duck, schema, table), table
        loaded_type = postgres.query(
            "select data_type from information_schema.columns where table_schema = 'raw' "
            "and table_name = 'web_events' and column_name = '_loaded_at'"
        )[0][0]
        assert loaded_type == "timestamp without time zone"
    finally:
        postgres.close()
        duck.close()
