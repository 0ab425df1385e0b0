"""Golden attributes, traits, consent, segments and audiences, built incrementally over a
sequence of loads, equal a full refresh over the same data, and the incremental runs
recompute only the customers the loads touched.

The raw tables arrive in three loads (cut by `_loaded_at`; the last also deletes some
CRM contacts and shop customers upstream), each followed by an incremental
`dbt build` with "now" moved to the load's date; then `--full-refresh` rebuilds
everything from the same data. Only the downstream marts and their ancestors are built.
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
# Each load holds the rows loaded before its cut; "now" is the cut's date.
LOADS = [dt.datetime(2026, 10, 18), dt.datetime(2026, 10, 25), None]
MARTS = {
    "customers": "customer_id",
    "customer_attributes": "customer_id, attribute, source, record_key",
    "consent_history": "consent_history_id",
    "consent_current": "customer_id, purpose",
    "segment_memberships": "segment_membership_id",
    "activation_audiences": "activation_audience_id",
}
SELECT = (
    "--resource-type",
    "seed",
    "--resource-type",
    "model",
    "--select",
    "+customers",
    "+customer_attributes",
    "+consent_current",
    "+activation_audiences",
    "+int_downstream_state",
)


def now_vars(cut: dt.datetime | None) -> str:
    day = (cut.date() if cut else END_DATE).isoformat()
    return f"{{onefold__now: '{day}'}}"


def marts(env: dict[str, str]) -> dict[str, pd.DataFrame]:
    return snapshot(env, "onefold_marts", MARTS)


def scalar(env: dict[str, str], sql: str) -> int:
    warehouse = connect_with(env)
    try:
        return int(warehouse.query(sql)[0][0])
    finally:
        warehouse.close()


@pytest.mark.parametrize("target", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_downstream_loads_equal_full_refresh(
    target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = target_environment(
        target, tmp_path, "onefold_down", lambda: request.getfixturevalue("postgres_server")
    )
    data = generate(GeneratorConfig(persons=250, seed=11, end_date=END_DATE))
    target_path = tmp_path / "target"
    # Deleted upstream before the last load: records that disappear, customers that
    # lose records or cease to exist.
    deleted = {
        "crm_contacts": set(data.raw["crm_contacts"].frame.index[:6]),
        "shop_customers": set(data.raw["shop_customers"].frame.index[:4]),
    }

    affected_counts = []
    for number, cut in enumerate(LOADS):
        warehouse = connect_with(env)
        try:
            for table, landed in data.raw.items():
                frame = landed.frame
                if cut is not None:
                    frame = frame[frame["_loaded_at"] < cut]
                else:
                    frame = frame.drop(index=list(deleted.get(table, ())))
                warehouse.write_df("raw", table, frame.reset_index(drop=True))
        finally:
            warehouse.close()
        run_dbt(["build", *SELECT, "--vars", now_vars(cut)], env, target_path)
        if number > 0:
            affected_counts.append(
                scalar(env, "select count(*) from onefold_intermediate.int_customers_affected")
            )
    incremental = marts(env)
    customers = len(incremental["customers"])

    # The incremental runs recomputed some customers, not all of them.
    assert all(0 < count < customers for count in affected_counts), (affected_counts, customers)

    run_dbt(["build", *SELECT, "--full-refresh", "--vars", now_vars(None)], env, target_path)
    full = marts(env)
    assert (
        scalar(env, "select count(*) from onefold_intermediate.int_customers_affected") >= customers
    ), "a full refresh recomputes every customer"
    for table in MARTS:
        assert len(full[table]) > 0, table
        pd.testing.assert_frame_equal(
            incremental[table], full[table], check_dtype=False, obj=f"{target} {table}"
        )
