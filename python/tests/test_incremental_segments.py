"""Segments and activation audiences, built incrementally over a sequence of loads with
"now" moving, stay exact: after each run `segment_memberships` holds exactly the
customers whose `customers` row satisfies each demo segment's predicate, the history
records exactly the entries and exits since the previous run, and after the last load
`activation_audiences`, `customers` and the incremental `int_consent_signals` equal a
`--full-refresh`.

`segment_memberships` is the open spells of `segment_membership_history`, which
`--full-refresh` does not rebuild, so the predicates are checked directly rather than
against a refresh. Some membership changes must come from time alone (customers no
load touched: the time-based pass of docs/consent-and-segments.md).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml

from onefold.generator import GeneratorConfig, generate
from onefold.testing.dbt import DEMO_PROJECT_DIR, run_dbt
from onefold.testing.warehouse import connect_with, snapshot, target_environment

pytestmark = pytest.mark.e2e

END_DATE = dt.date(2026, 11, 1)
LOADS = [dt.datetime(2026, 10, 18), dt.datetime(2026, 10, 25), None]
SELECT = (
    "--resource-type",
    "seed",
    "--resource-type",
    "model",
    "--select",
    "+activation_audiences",
    "+segment_sizes",
    "+int_downstream_state",
)
MARTS = "onefold_marts"
INTERMEDIATE = "onefold_intermediate"


def day_of(cut: dt.datetime | None) -> dt.date:
    return cut.date() if cut else END_DATE


def segments() -> dict[str, dict[str, object]]:
    project = yaml.safe_load((DEMO_PROJECT_DIR / "dbt_project.yml").read_text())
    declared: dict[str, dict[str, object]] = project["vars"]["onefold__segments"]
    return declared


def rows(env: dict[str, str], sql: str) -> set[tuple[str, str]]:
    warehouse = connect_with(env)
    try:
        return {(str(a), str(b)) for a, b in warehouse.query(sql)}
    finally:
        warehouse.close()


def expected_members(env: dict[str, str]) -> set[tuple[str, str]]:
    """Each segment's predicate evaluated over the whole customers table."""
    return set().union(
        *(
            rows(
                env,
                f"select '{name}', customer_id from {MARTS}.customers "
                f"where ({segment['predicate']})",
            )
            for name, segment in segments().items()
        )
    )


def spells_at(env: dict[str, str], column: str, day: dt.date) -> set[tuple[str, str]]:
    return rows(
        env,
        f"select segment_name, customer_id from {MARTS}.segment_membership_history "
        f"where cast({column} as date) = cast('{day.isoformat()}' as date)",
    )


@pytest.mark.parametrize("target", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_segments_and_audiences_follow_loads_and_time(
    target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = target_environment(
        target, tmp_path, "onefold_seg", lambda: request.getfixturevalue("postgres_server")
    )
    data = generate(GeneratorConfig(persons=250, seed=11, end_date=END_DATE))
    target_path = tmp_path / "target"
    deleted = {"crm_contacts": set(data.raw["crm_contacts"].frame.index[:6])}

    previous: set[tuple[str, str]] = set()
    time_only_changes = 0
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
        day = day_of(cut)
        run_dbt(["build", *SELECT, "--vars", f"{{onefold__now: '{day}'}}"], env, target_path)

        members = expected_members(env)
        assert members, "the demo segments have members"
        assert rows(env, f"select segment_name, customer_id from {MARTS}.segment_memberships") == (
            members
        ), f"{target} load {number}: memberships equal the predicates"
        assert spells_at(env, "entered_at", day) == members - previous, f"entries, load {number}"
        assert spells_at(env, "exited_at", day) == previous - members, f"exits, load {number}"
        if number > 0:
            time_only_changes += len(
                rows(
                    env,
                    "select changes.segment_name, changes.customer_id "
                    f"from {INTERMEDIATE}.int_segment_changes as changes "
                    f"left join {INTERMEDIATE}.int_customers_affected as affected "
                    "on changes.customer_id = affected.customer_id "
                    "where affected.customer_id is null",
                )
            )
        previous = members
    assert time_only_changes > 0, "some memberships changed with time alone"

    tables = {
        "activation_audiences": "activation_audience_id",
        "customers": "customer_id",
        "segment_memberships": "segment_membership_id",
    }
    signals = {"int_consent_signals": "signal_id"}
    incremental = snapshot(env, MARTS, tables) | snapshot(env, INTERMEDIATE, signals)
    run_dbt(
        ["build", *SELECT, "--full-refresh", "--vars", f"{{onefold__now: '{END_DATE}'}}"],
        env,
        target_path,
    )
    full = snapshot(env, MARTS, tables) | snapshot(env, INTERMEDIATE, signals)
    for table in [*tables, *signals]:
        assert len(full[table]) > 0, table
        pd.testing.assert_frame_equal(
            incremental[table], full[table], check_dtype=False, obj=f"{target} {table}"
        )
