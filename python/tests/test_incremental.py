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
from onefold.testing.warehouse import connect_with, snapshot, target_environment

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


def marts(env: dict[str, str]) -> dict[str, pd.DataFrame]:
    return snapshot(env, "onefold_marts", MARTS)


# The comparison is of the marts: the data and unit tests run in the other e2e builds,
# and three builds with them cost this test minutes on PostgreSQL.
MODELS_AND_SEEDS = ("--resource-type", "seed", "--resource-type", "model")


@pytest.mark.parametrize("target", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_incremental_build_equals_full_refresh(
    target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = target_environment(
        target, tmp_path, "onefold_inc", lambda: request.getfixturevalue("postgres_server")
    )
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
    before = marts(env)

    warehouse = connect_with(env)
    try:
        for table, landed in data.raw.items():
            warehouse.write_df("raw", table, landed.frame)
    finally:
        warehouse.close()
    run_dbt(["build", *MODELS_AND_SEEDS, "--vars", VARS], env, target_path)
    incremental = marts(env)
    assert len(incremental["orders"]) > len(before["orders"]), "the new day added orders"

    run_dbt(["build", *MODELS_AND_SEEDS, "--full-refresh", "--vars", VARS], env, target_path)
    full = marts(env)
    for table in MARTS:
        pd.testing.assert_frame_equal(
            incremental[table], full[table], check_dtype=False, obj=f"{target} {table}"
        )


# --- Identity over a sequence of daily loads ----------------------------------------------
# Two warehouses get the same loads: one builds incrementally every day, the other with
# --full-refresh (the reference; the id history survives it). After every day the
# record -> customer assignments and the identity change log must be the same.

DAY_CUTOFFS = (dt.datetime(2026, 10, 1), dt.datetime(2026, 10, 20), None)
IDENTITY_MODELS = (
    "--select",
    "+customer_records +identity_changes +identity_map +identity_edges +identity_blocked_values",
)
# Source deletes on the last day: CRM contacts and shop customers gone upstream.
DELETED = {"crm_contacts": "contact_id", "shop_customers": "customer_id"}


def identity_snapshot(env: dict[str, str]) -> dict[str, pd.DataFrame]:
    warehouse = connect_with(env)
    try:
        return {
            "assignments": warehouse.query_df(
                "select source, record_key, customer_id from onefold_marts.customer_records "
                "order by source, record_key"
            ),
            "changes": warehouse.query_df(
                "select change_type, customer_id, previous_customer_id, cause, records_moved "
                "from onefold_marts.identity_changes "
                "order by change_type, customer_id, previous_customer_id, cause, records_moved"
            ),
            "identity_map": warehouse.query_df(
                "select customer_id, identifier_type, match_key, record_count "
                "from onefold_marts.identity_map order by identifier_type, match_key"
            ),
            "edges": warehouse.query_df(
                "select customer_id, source, record_key, identifier_type, match_key, drop_rule "
                "from onefold_marts.identity_edges "
                "order by source, record_key, identifier_type, match_key"
            ),
        }
    finally:
        warehouse.close()


def load_day(env: dict[str, str], raw: dict[str, pd.DataFrame], cutoff: dt.datetime | None) -> None:
    warehouse = connect_with(env)
    try:
        for table, frame in raw.items():
            landed = frame if cutoff is None else frame[frame["_loaded_at"] < cutoff]
            if cutoff is None and table in DELETED:
                # Every third record loaded on the first day is deleted upstream.
                early = landed["_loaded_at"] < DAY_CUTOFFS[0]
                key = landed[DELETED[table]].astype(str)
                gone = early & key.isin(sorted(key[early])[::3])
                landed = landed[~gone]
            warehouse.write_df("raw", table, landed.reset_index(drop=True))
    finally:
        warehouse.close()


def scope_size(env: dict[str, str]) -> tuple[int, int]:
    """Records the last run recomputed, and records in the graph."""
    warehouse = connect_with(env)
    try:
        scoped = warehouse.query("select count(*) from onefold_intermediate.int_identity_scope")
        records = warehouse.query("select count(*) from onefold_marts.customer_records")
        return int(scoped[0][0]), int(records[0][0])
    finally:
        warehouse.close()


@pytest.mark.parametrize("target", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_daily_incremental_identity_equals_full_refresh(
    target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    server = lambda: request.getfixturevalue("postgres_server")  # noqa: E731
    incremental_env = target_environment(target, tmp_path, "onefold_daily_inc", server)
    full_env = target_environment(target, tmp_path, "onefold_daily_full", server)
    data = generate(GeneratorConfig(persons=300, seed=11, end_date=END_DATE))
    raw = {table: landed.frame for table, landed in data.raw.items()}
    build = ["build", *MODELS_AND_SEEDS, *IDENTITY_MODELS, "--vars", VARS]

    # A new id whose natural form was used before mixes in the run's start time, which
    # differs between the two warehouses: such ids are matched by the records they hold.
    renamed: dict[str, str] = {}
    for day, cutoff in enumerate(DAY_CUTOFFS):
        for env, extra in ((incremental_env, []), (full_env, ["--full-refresh"] if day else [])):
            load_day(env, raw, cutoff)
            run_dbt([*build, *extra], env, tmp_path / f"target_{id(env)}")
        incremental = identity_snapshot(incremental_env)
        full = identity_snapshot(full_env)
        pairs = incremental["assignments"].merge(
            full["assignments"], on=["source", "record_key"], how="outer", suffixes=("", "_full")
        )
        assert pairs["customer_id"].notna().all() and pairs["customer_id_full"].notna().all()
        for mine, theirs in (
            pairs[["customer_id", "customer_id_full"]].drop_duplicates().itertuples(index=False)
        ):
            assert renamed.setdefault(mine, theirs) == theirs, (day, mine, theirs)
        assert len(set(renamed.values())) == len(renamed), "the same partition into customers"
        for name, frame in incremental.items():
            for column in ("customer_id", "previous_customer_id"):
                if column in frame:
                    frame[column] = frame[column].map(lambda v: renamed.get(v, v))
            order = list(frame.columns)
            pd.testing.assert_frame_equal(
                frame.sort_values(order).reset_index(drop=True),
                full[name].sort_values(order).reset_index(drop=True),
                check_dtype=False,
                obj=f"{target} day {day} {name}",
            )
        if day:
            # A day recomputes the components it touched, not the whole graph.
            scoped, records = scope_size(incremental_env)
            assert 0 < scoped < records, (scoped, records)
    renamed_ids = sum(mine != theirs for mine, theirs in renamed.items())
    assert renamed_ids <= 3, f"{renamed_ids} ids differ: only re-minted ids may"
    changes = set(full["changes"]["change_type"])
    assert {"created", "merged", "split", "retired"} <= changes, changes
