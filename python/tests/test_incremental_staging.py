"""The event staging tables are incremental, and hold exactly what a full build holds.

Day one's raw events are staged; then the rest arrives together with the awkward
deliveries an event stream gets: a late repeat of an event already staged (the first
delivery stays), a back-dated earlier copy of a staged event, loaded before it and
older than the lookback window (it is the first delivery now, and replaces it), a new
event with an old load time, a clean copy of a key that day one quarantined, and raw
rows deleted (a staged event's only delivery; the first of two deliveries). The
incremental run must give the tables `dbt build --full-refresh` gives. A row edited in
place after day one (its load time unchanged, outside the lookback window) shows the
run did not read its staged rows again: only the full refresh sees the edit. On
PostgreSQL the tables have statistics and an index on their key (table_maintenance).
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
VARS = "{onefold__now: '2026-11-01'}"
SELECT = ("--select", "+stg_web__events", "+stg_email__events", "--resource-type", "model")
TABLES = {"stg_web__events": "event_id", "stg_email__events": "email_event_id"}


def staged(env: dict[str, str]) -> dict[str, pd.DataFrame]:
    return snapshot(env, "onefold_staging", TABLES)


def assert_indexed_and_analyzed(env: dict[str, str]) -> None:
    """PostgreSQL plans from statistics, which a table just written lacks, and each
    incremental run deletes by the unique key: the build leaves both behind."""
    warehouse = connect_with(env)
    try:
        for table, key in TABLES.items():
            indexes = warehouse.query(
                "select indexdef from pg_indexes where schemaname = 'onefold_staging' "
                "and tablename = ?",
                [table],
            )
            assert any(f"({key})" in str(definition) for (definition,) in indexes), (
                table,
                indexes,
            )
            ((analyzed,),) = warehouse.query(
                "select last_analyze is not null from pg_stat_user_tables "
                "where schemaname = 'onefold_staging' and relname = ?",
                [table],
            )
            assert analyzed, f"{table} has no statistics"
    finally:
        warehouse.close()


def with_row(frame: pd.DataFrame, **values: object) -> pd.DataFrame:
    row = {column: None for column in frame.columns}
    row.update(values)
    return pd.concat([frame, pd.DataFrame([row])], ignore_index=True)


def copy_of(frame: pd.DataFrame, index: object, **changes: object) -> pd.DataFrame:
    row = frame.loc[[index]].copy()
    for column, value in changes.items():
        row[column] = value
    return pd.concat([frame, row], ignore_index=True)


@pytest.mark.parametrize("target", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_incremental_event_staging_equals_full_refresh(
    target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = target_environment(
        target, tmp_path, "onefold_stg", lambda: request.getfixturevalue("postgres_server")
    )
    data = generate(GeneratorConfig(persons=200, seed=11, end_date=END_DATE))
    web = data.raw["web_events"].frame.reset_index(drop=True)
    email = data.raw["email_events"].frame.reset_index(drop=True)
    assert pd.api.types.is_datetime64_any_dtype(web["_loaded_at"])
    delivered_once = web["message_id"].map(web["message_id"].value_counts()) == 1
    old = web[
        (web["_loaded_at"] < CUTOFF - dt.timedelta(days=10))
        & (web["type"] == "track")
        & delivered_once
    ]
    assert len(old) >= 5
    late_repeat, back_dated, edited, vanished, first_gone = old.index[:5]
    old_loaded = web.loc[back_dated, "_loaded_at"]

    # Day one: what was loaded before the cut, and a key staging must quarantine.
    web = with_row(
        web,
        message_id="quarantined-first",
        type="track",
        original_timestamp="not a date",
        _loaded_at=CUTOFF - dt.timedelta(days=1),
    )
    # A key delivered twice, well before the cut: the first delivery is staged.
    web = copy_of(
        web,
        first_gone,
        event="Second Delivery",
        _loaded_at=web.loc[first_gone, "_loaded_at"] + dt.timedelta(days=1),
    )
    day_one_web = web[web["_loaded_at"] < CUTOFF]
    day_one_email = email[email["_loaded_at"] < CUTOFF]
    warehouse = connect_with(env)
    try:
        warehouse.write_df("raw", "web_events", day_one_web)
        warehouse.write_df("raw", "email_events", day_one_email)
    finally:
        warehouse.close()
    run_dbt(["build", *SELECT, "--vars", VARS], env, tmp_path / "target")

    # Day two: the rest, and the awkward deliveries.
    # Deleted from raw (a source delete, `onefold erase --sweep`): a staged event whose
    # only delivery is gone, and the first of two deliveries (the second is kept now).
    day_two_web = web.drop(index=[vanished, first_gone])
    # The row edited in place: not a new delivery, so the incremental run does not see it.
    day_two_web.loc[edited, "event"] = "Edited In Place"
    day_two_web = copy_of(
        day_two_web, late_repeat, event="Late Repeat", _loaded_at=CUTOFF + dt.timedelta(hours=3)
    )
    day_two_web = copy_of(
        day_two_web,
        back_dated,
        message_id=f"  {web.loc[back_dated, 'message_id']} ",  # staging trims keys
        event="Back Dated First Delivery",
        _loaded_at=old_loaded - dt.timedelta(days=1),
    )
    day_two_web = copy_of(
        day_two_web,
        back_dated,
        message_id="new-but-back-dated",
        _loaded_at=CUTOFF - dt.timedelta(days=20),
    )
    day_two_web = copy_of(
        day_two_web,
        back_dated,
        message_id="quarantined-first",
        _loaded_at=CUTOFF - dt.timedelta(days=15),
    )
    day_two_email = copy_of(
        email, email.index[0], event_type="click", _loaded_at=CUTOFF + dt.timedelta(hours=5)
    )
    day_two_email = copy_of(
        day_two_email,
        email.index[0],
        event_id="email-back-dated",
        _loaded_at=CUTOFF - dt.timedelta(days=30),
    )
    warehouse = connect_with(env)
    try:
        warehouse.write_df("raw", "web_events", day_two_web)
        warehouse.write_df("raw", "email_events", day_two_email)
    finally:
        warehouse.close()
    run_dbt(["build", *SELECT, "--vars", VARS], env, tmp_path / "target")
    incremental = staged(env)
    if target == "postgres":
        assert_indexed_and_analyzed(env)
    run_dbt(["build", *SELECT, "--full-refresh", "--vars", VARS], env, tmp_path / "target")
    full = staged(env)

    events = incremental["stg_web__events"].set_index("event_id")
    names = events["event_name"]
    assert names[web.loc[late_repeat, "message_id"]] != "Late Repeat"
    assert names[web.loc[back_dated, "message_id"]] == "Back Dated First Delivery"
    assert "new-but-back-dated" in events.index
    assert "quarantined-first" in events.index
    assert web.loc[vanished, "message_id"] not in events.index
    assert names[web.loc[first_gone, "message_id"]] == "Second Delivery"
    assert "email-back-dated" in set(incremental["stg_email__events"]["email_event_id"])

    # Only a full refresh reads the staged rows again.
    edited_id = web.loc[edited, "message_id"]
    assert names[edited_id] != "Edited In Place"
    assert full["stg_web__events"].set_index("event_id").loc[edited_id, "event_name"] == (
        "Edited In Place"
    )
    for table, key in TABLES.items():
        kept = incremental[table][incremental[table][key] != edited_id]
        rebuilt = full[table][full[table][key] != edited_id]
        pd.testing.assert_frame_equal(
            kept.reset_index(drop=True),
            rebuilt.reset_index(drop=True),
            check_dtype=False,
            obj=f"{target} {table}",
        )
