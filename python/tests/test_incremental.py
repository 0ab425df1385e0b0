"""Daily loads built incrementally give exactly what `--full-refresh` gives.

One sequence of loads per warehouse covers identity, the activity marts and everything
downstream of identity (golden attributes, traits, consent, segments, audiences), so
the builds are shared instead of repeated per area:

- The raw tables arrive in three loads, cut by `_loaded_at` (rows loaded later include
  events that happened earlier); the last load also deletes CRM contacts and shop
  customers upstream. "Now" moves to each load's date, so 30- and 90-day windows move
  for customers without new data.
- Warehouse `inc` builds every model incrementally after each load; warehouse `full`
  gets the same loads and rebuilds the identity models with `--full-refresh` (the
  reference; the id history survives it). After every load the record -> customer
  assignments, the identity change log, `identity_map` and `identity_edges` must be the
  same, and an incremental run recomputes some components and customers, not all.
- After the last load `inc` is rebuilt with `--full-refresh`: every mart must equal
  what the incremental runs left.

The event staging tables' awkward deliveries are test_incremental_staging.py.
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
# Each load holds the rows loaded before its cut (None: everything); "now" is its date.
DAY_CUTOFFS = (dt.datetime(2026, 10, 1), dt.datetime(2026, 10, 20), None)
MARTS = {
    "orders": "order_id",
    "web_sessions": "session_id",
    "email_activity": "email_event_id",
    "web_activity": "event_id",
    "customers": "customer_id",
    "customer_attributes": "customer_id, attribute, source, record_key",
    "customer_records": "source, record_key",
    "identity_map": "identifier_type, match_key",
    "consent_history": "consent_history_id",
    "consent_current": "customer_id, purpose",
    "segment_memberships": "segment_membership_id",
    "activation_audiences": "activation_audience_id",
}
# The comparison is of the marts: the data and unit tests run in the other e2e builds,
# and builds with them cost this test minutes on PostgreSQL.
MODELS_AND_SEEDS = ("--resource-type", "seed", "--resource-type", "model")
IDENTITY_MODELS = (
    "--select",
    "+customer_records +identity_changes +identity_map +identity_edges +identity_blocked_values",
)
# Source deletes on the last day: CRM contacts and shop customers gone upstream.
DELETED = {"crm_contacts": "contact_id", "shop_customers": "customer_id"}


def now_vars(cutoff: dt.datetime | None) -> list[str]:
    day = (cutoff.date() if cutoff else END_DATE).isoformat()
    return ["--vars", f"{{onefold__now: '{day}'}}"]


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


def count(env: dict[str, str], sql: str) -> int:
    warehouse = connect_with(env)
    try:
        return int(warehouse.query(sql)[0][0])
    finally:
        warehouse.close()


def assert_same_identity(
    target: str,
    day: int,
    incremental: dict[str, pd.DataFrame],
    full: dict[str, pd.DataFrame],
    renamed: dict[str, str],
) -> None:
    """Same partition into customers, and the same identity tables once the ids that
    were minted differently are mapped (`renamed` accumulates over the days).

    A new id whose natural form was used before mixes in the run's start time, which
    differs between the two warehouses: such ids are matched by the records they hold."""
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


@pytest.mark.parametrize("target", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_daily_incremental_loads_equal_full_refresh(
    target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    server = lambda: request.getfixturevalue("postgres_server")  # noqa: E731
    incremental_env = target_environment(target, tmp_path, "onefold_daily_inc", server)
    full_env = target_environment(target, tmp_path, "onefold_daily_full", server)
    data = generate(GeneratorConfig(persons=300, seed=11, end_date=END_DATE))
    raw = {table: landed.frame for table, landed in data.raw.items()}
    incremental_target, full_target = tmp_path / "target_inc", tmp_path / "target_full"

    renamed: dict[str, str] = {}
    orders = []
    for day, cutoff in enumerate(DAY_CUTOFFS):
        load_day(incremental_env, raw, cutoff)
        run_dbt(
            ["build", *MODELS_AND_SEEDS, *now_vars(cutoff)], incremental_env, incremental_target
        )
        load_day(full_env, raw, cutoff)
        refresh = ["--full-refresh"] if day else []
        run_dbt(
            ["build", *MODELS_AND_SEEDS, *IDENTITY_MODELS, *refresh, *now_vars(cutoff)],
            full_env,
            full_target,
        )
        full = identity_snapshot(full_env)
        assert_same_identity(target, day, identity_snapshot(incremental_env), full, renamed)
        orders.append(count(incremental_env, "select count(*) from onefold_marts.orders"))
        if day:
            # A day recomputes the components and customers it touched, not all of them.
            scoped = count(
                incremental_env, "select count(*) from onefold_intermediate.int_identity_scope"
            )
            records = count(incremental_env, "select count(*) from onefold_marts.customer_records")
            assert 0 < scoped < records, (day, scoped, records)
            affected = count(
                incremental_env, "select count(*) from onefold_intermediate.int_customers_affected"
            )
            customers = count(incremental_env, "select count(*) from onefold_marts.customers")
            assert 0 < affected < customers, (day, affected, customers)
    renamed_ids = sum(mine != theirs for mine, theirs in renamed.items())
    assert renamed_ids <= 3, f"{renamed_ids} ids differ: only re-minted ids may"
    changes = set(full["changes"]["change_type"])
    assert {"created", "merged", "split", "retired"} <= changes, changes
    assert orders[0] < orders[1] < orders[2], f"each load added orders: {orders}"

    # The reference for everything downstream: a full refresh of the same warehouse.
    incremental = snapshot(incremental_env, "onefold_marts", MARTS)
    customers = len(incremental["customers"])
    run_dbt(
        ["build", *MODELS_AND_SEEDS, "--full-refresh", *now_vars(None)],
        incremental_env,
        incremental_target,
    )
    assert (
        count(incremental_env, "select count(*) from onefold_intermediate.int_customers_affected")
        >= customers
    ), "a full refresh recomputes every customer"
    full_marts = snapshot(incremental_env, "onefold_marts", MARTS)
    for table in MARTS:
        assert len(full_marts[table]) > 0, table
        pd.testing.assert_frame_equal(
            incremental[table], full_marts[table], check_dtype=False, obj=f"{target} {table}"
        )
