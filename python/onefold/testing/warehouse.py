"""Point a test or benchmark at a fresh warehouse, and open what an environment names."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from onefold.testing.dbt import environment
from onefold.testing.postgres import PostgresServer, create_database
from onefold.warehouse import Warehouse, connect


def connect_with(env: Mapping[str, str]) -> Warehouse:
    """`onefold.warehouse.connect` for the target and settings in `env` (ONEFOLD_*)."""
    with environment(env):
        return connect(env["ONEFOLD_TARGET"])


def target_environment(
    target: str,
    directory: Path,
    name: str,
    postgres: Callable[[], PostgresServer] | None = None,
) -> dict[str, str]:
    """The ONEFOLD_* environment of an empty warehouse called `name` on `target`.

    DuckDB: a new file `directory/<name>/onefold.duckdb` (every test warehouse has the
    catalog name `onefold`, the file's stem, so one parsed manifest serves them all:
    onefold.testing.parsed_manifests). PostgreSQL: database `name`, created
    (dropped first if it exists) on the server `postgres()` returns; it is only called
    for PostgreSQL, so a test can pass `lambda: request.getfixturevalue("postgres_server")`.
    """
    if target == "duckdb":
        (directory / name).mkdir(parents=True, exist_ok=True)
        return {
            "ONEFOLD_TARGET": "duckdb",
            "ONEFOLD_DUCKDB_PATH": str(directory / name / "onefold.duckdb"),
        }
    if target == "spark":
        return {"ONEFOLD_TARGET": "spark", "ONEFOLD_SPARK_DIR": str(directory / name)}
    if target != "postgres" or postgres is None:
        raise ValueError(f"no warehouse for target {target!r} (PostgreSQL needs a server)")
    return {"ONEFOLD_TARGET": "postgres", **create_database(postgres(), name).environment()}


def snapshot(
    env: Mapping[str, str], schema: str, tables: Mapping[str, str]
) -> dict[str, pd.DataFrame]:
    """Whole tables of `schema`, for comparing two builds: {table: "order by columns"} ->
    {table: its rows in that order, index reset}."""
    warehouse = connect_with(env)
    try:
        return {
            table: warehouse.query_df(
                f"select * from {schema}.{table} order by {order}"
            ).reset_index(drop=True)
            for table, order in tables.items()
        }
    finally:
        warehouse.close()
