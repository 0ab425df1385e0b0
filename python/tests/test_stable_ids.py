"""customer_id stability across runs, merges, splits and --full-refresh, on both targets.

Bob exists first; Ann arrives; an order placed on Bob's account with Ann's email merges
them (Bob's older id survives); a full refresh changes nothing; removing the order
splits them again (Bob's larger part keeps the id, Ann gets a new one); only a full
refresh with onefold__reset_identity_history starts the id history afresh. One
sequence of runs per target (each run costs a dbt start-up and the identity chain).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onefold.testing.dbt import run_dbt
from onefold.testing.raw import write_raw_tables
from onefold.testing.warehouse import connect_with, target_environment
from onefold.warehouse import Warehouse

pytestmark = pytest.mark.e2e

LOADED_AT = dt.datetime(2026, 10, 1, 12, 0)
IDENTITY_MODELS = ["+customer_records", "+identity_changes", "+int_customer_id_history"]

BOB = {
    "shop_customers": [
        {
            "customer_id": "c2",
            "email": "bob@shop.test",
            "first_name": "Bob",
            "updated_at": "2026-09-01T10:00:00Z",
        }
    ],
    "email_events": [
        {
            "event_id": f"e{i}",
            "email_address": "Bob@Shop.test",
            "event_type": "open",
            "occurred_at": f"2026-09-0{i}T10:00:00Z",
        }
        for i in (1, 2)
    ],
}
ANN = {
    "shop_customers": [
        {
            "customer_id": "c1",
            "email": "ann@shop.test",
            "first_name": "Ann",
            "updated_at": "2026-09-02T10:00:00Z",
        }
    ],
}
LINKING_ORDER = {
    "shop_orders": [
        {
            "order_id": "o1",
            "customer_id": "c2",
            "email": " ANN@shop.test",
            "currency": "EUR",
            "total_price": "10.00",
            "created_at": "2026-09-03T10:00:00Z",
            "updated_at": "2026-09-03T10:00:00Z",
        }
    ],
}


def combine(*parts: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {}
    for part in parts:
        for table, table_rows in part.items():
            rows.setdefault(table, []).extend(table_rows)
    return rows


class Scenario:
    def __init__(self, target: str, env: dict[str, str], target_path: Path) -> None:
        self.target, self.env, self.target_path = target, env, target_path

    def connect(self) -> Warehouse:
        return connect_with(self.env)

    def load_and_run(self, rows: dict[str, list[dict[str, Any]]], *flags: str) -> None:
        warehouse = self.connect()
        try:
            write_raw_tables(warehouse, rows, LOADED_AT)
        finally:
            warehouse.close()
        # Only the identity chain: ids are all these tests read (27 of the demo's 65
        # models; ten runs per target made this the suite's slowest module).
        run_dbt(["run", "--select", *IDENTITY_MODELS, *flags], self.env, self.target_path)

    def customer_of(self, source: str, record_key: str) -> str:
        warehouse = self.connect()
        try:
            rows = warehouse.query(
                "select customer_id from onefold_marts.customer_records "
                "where source = ? and record_key = ?",
                [source, record_key],
            )
        finally:
            warehouse.close()
        assert len(rows) == 1, (source, record_key, rows)
        return str(rows[0][0])

    def changes(self) -> list[tuple[Any, ...]]:
        warehouse = self.connect()
        try:
            return warehouse.query(
                "select change_type, customer_id, previous_customer_id, cause "
                "from onefold_marts.identity_changes order by changed_at, change_type, customer_id"
            )
        finally:
            warehouse.close()


# PostgreSQL's leg is `make extended` (CI's time budget): test_e2e_build and
# test_erasure_postgres_e2e build on PostgreSQL in `make test`.
@pytest.fixture(
    params=["duckdb", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.extended])]
)
def scenario(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Scenario]:
    env = target_environment(
        request.param, tmp_path, "onefold_ids", lambda: request.getfixturevalue("postgres_server")
    )
    run_dbt(["seed"], env, tmp_path / "target")
    yield Scenario(request.param, env, tmp_path / "target")


def test_ids_survive_merge_full_refresh_and_split_and_reset_only_when_asked(
    scenario: Scenario,
) -> None:
    scenario.load_and_run(BOB)
    bob = scenario.customer_of("shop_customers", "c2")
    assert scenario.customer_of("email_events", "e1") == bob

    scenario.load_and_run(combine(BOB, ANN))
    ann = scenario.customer_of("shop_customers", "c1")
    assert ann != bob
    assert scenario.customer_of("shop_customers", "c2") == bob, "a new person changed Bob's id"

    scenario.load_and_run(combine(BOB, ANN, LINKING_ORDER))
    assert scenario.customer_of("shop_customers", "c1") == bob, "merge: the older id survives"
    assert scenario.customer_of("shop_orders", "o1") == bob
    merges = [c for c in scenario.changes() if c[0] == "merged"]
    assert merges == [("merged", bob, ann, "shared_email")]

    scenario.load_and_run(combine(BOB, ANN, LINKING_ORDER), "--full-refresh")
    assert scenario.customer_of("shop_customers", "c1") == bob, "--full-refresh changed ids"
    assert scenario.customer_of("shop_customers", "c2") == bob
    # The merge closed Ann's id in the history; a full refresh kept that.
    assert closed_history_rows(scenario) > 0

    scenario.load_and_run(combine(BOB, ANN))
    assert scenario.customer_of("shop_customers", "c2") == bob, "split: the larger part keeps it"
    ann_again = scenario.customer_of("shop_customers", "c1")
    assert ann_again not in (bob, ann), "split: the smaller part gets a new id"
    splits = [c for c in scenario.changes() if c[0] == "split"]
    assert splits == [("split", ann_again, bob, "link no longer present")]

    # Only when asked does a full refresh reset the history (one sequence of runs with
    # the test above: the runs up to the merge are what both need).
    scenario.load_and_run(
        combine(BOB, ANN, LINKING_ORDER),
        "--full-refresh",
        "--vars",
        "{onefold__reset_identity_history: true}",
    )
    assert closed_history_rows(scenario) == 0, "a reset starts the history afresh"
    # Ids are minted from the data, so a reset of unchanged data gives the same ids.
    assert scenario.customer_of("shop_customers", "c2") == bob


def closed_history_rows(scenario: Scenario) -> int:
    warehouse = scenario.connect()
    try:
        return int(
            warehouse.query(
                "select count(*) from onefold_intermediate.int_customer_id_history "
                "where valid_to is not null"
            )[0][0]
        )
    finally:
        warehouse.close()
