"""An incremental build after a new day of data gives exactly the marts of a full rebuild.

The raw tables are cut at a load time: first the warehouse holds what the loader had
written by the day before the end date, then the rest arrives (including late events
that happened earlier) and `dbt build` runs incrementally. Then `dbt build
--full-refresh` rebuilds everything from scratch; every mart must be identical.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from onefold.generator import GeneratorConfig, generate
from onefold.testing.dbt import run_dbt
from onefold.testing.postgres import PostgresServer, create_database
from onefold.testing.warehouse import connect_with

pytestmark = pytest.mark.e2e

END_DATE = dt.date(2026, 11, 1)
CUTOFF = dt.datetime(2026, 10, 31)
MARTS = {
    "orders": "order_id",
    "web_sessions": "session_id",
    "email_activity": "email_event_id",
    "web_activity": "event_id",
    "customers": "customer_id",
    "customer_attributes": "customer_id, attribute, source, record_key",
    "customer_records": "source, record_key",
    "identity_map": "identifier_type, match_key",
}
VARS = "{onefold__now: '2026-11-01'}"


def snapshot(target: str, env: dict[str, str]) -> dict[str, pd.DataFrame]:
    warehouse = connect_with(env)
    try:
        frames = {}
        for table, order in MARTS.items():
            frame = warehouse.query_df(f"select * from onefold_marts.{table} order by {order}")
            frames[table] = frame.reset_index(drop=True)
        return frames
    finally:
        warehouse.close()


# The comparison is of the marts: the data and unit tests run in the other e2e builds,
# and three builds with them cost this test minutes on PostgreSQL.
MODELS_AND_SEEDS = ("--resource-type", "seed", "--resource-type", "model")


@pytest.mark.parametrize("target", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_incremental_build_equals_full_refresh(
    target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if target == "duckdb":
        env = {"ONEFOLD_TARGET": "duckdb", "ONEFOLD_DUCKDB_PATH": str(tmp_path / "inc.duckdb")}
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        env = {"ONEFOLD_TARGET": "postgres", **create_database(server, "onefold_inc").environment()}
    data = generate(GeneratorConfig(persons=600, seed=5, end_date=END_DATE))
    target_path = tmp_path / "target"

    warehouse = connect_with(env)
    try:
        late_rows = 0
        for table, landed in data.raw.items():
            frame = landed.frame
            early = frame[frame["_loaded_at"] < CUTOFF]
            late_rows += len(frame) - len(early)
            warehouse.write_df("raw", table, early.reset_index(drop=True))
    finally:
        warehouse.close()
    assert late_rows > 0
    run_dbt(["build", *MODELS_AND_SEEDS, "--vars", VARS], env, target_path)
    before = snapshot(target, env)

    warehouse = connect_with(env)
    try:
        for table, landed in data.raw.items():
            warehouse.write_df("raw", table, landed.frame)
    finally:
        warehouse.close()
    run_dbt(["build", *MODELS_AND_SEEDS, "--vars", VARS], env, target_path)
    incremental = snapshot(target, env)
    assert len(incremental["orders"]) > len(before["orders"]), "the new day added orders"

    run_dbt(["build", *MODELS_AND_SEEDS, "--full-refresh", "--vars", VARS], env, target_path)
    full = snapshot(target, env)
    for table in MARTS:
        pd.testing.assert_frame_equal(
            incremental[table], full[table], check_dtype=False, obj=f"{target} {table}"
        )
