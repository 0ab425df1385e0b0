"""The warehouse interface sends SQL text the same way on both targets."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from onefold.errors import WarehouseError
from onefold.settings import DuckDBSettings
from onefold.sql import transaction
from onefold.testing.postgres import PostgresServer, create_database
from onefold.testing.warehouse import connect_with
from onefold.warehouse import DuckDBWarehouse, Warehouse


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    if request.param == "duckdb":
        env = {"ONEFOLD_TARGET": "duckdb", "ONEFOLD_DUCKDB_PATH": str(tmp_path / "w.duckdb")}
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        env = {"ONEFOLD_TARGET": "postgres", **create_database(server, "warehouse").environment()}
    opened = connect_with(env)
    try:
        yield opened
    finally:
        opened.close()


def test_question_marks_and_percents_without_parameters_are_sql(warehouse: Warehouse) -> None:
    # A regex group `(?:…)` and a LIKE wildcard: neither is a placeholder.
    rows = warehouse.query(
        "select 'abc' like 'a%', "
        + (
            "regexp_full_match('ab', '(?:a)b')"
            if warehouse.target == "duckdb"
            else "'ab' ~ '^(?:a)b$'"
        )
    )
    assert rows == [(True, True)]


def test_placeholders_bind_values_beside_literal_percents(warehouse: Warehouse) -> None:
    assert warehouse.query("select ? || '%'", ["50"]) == [("50%",)]


def _hold_in_another_process(path: Path, seconds: float) -> subprocess.Popen[str]:
    """A second process (dbt, a loader) that opens the file read-write for `seconds`."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', "
            "flush=True); time.sleep(float(sys.argv[2])); c.close()",
            str(path),
            str(seconds),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_released_duckdb_file_is_free_and_attached_again_for_a_write(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    settings = DuckDBSettings(path=path, lock_wait_seconds=1.0)
    warehouse = DuckDBWarehouse(settings, detachable=True)
    try:
        warehouse.execute("create schema shop")
        warehouse.execute("create table shop.orders as select 1 as order_id")
        warehouse.execute("create view shop.order_ids as select order_id from shop.orders")
        warehouse.execute("create temp table plan as select 41 as order_id")
        warehouse.release()

        # while released: another process writes the file; the TEMP table is still there
        _hold_in_another_process(path, 0.0).wait()
        assert warehouse.query("select order_id from temp.main.plan") == [(41,)]

        # a writer that lets go within the wait is waited for
        brief = _hold_in_another_process(path, 0.4)
        with transaction(warehouse):
            warehouse.execute("insert into shop.orders select order_id + 1 from temp.main.plan")
        brief.wait()
        with warehouse.attached():  # attached under its own name: dbt's views resolve
            assert warehouse.query("select * from shop.order_ids order by 1") == [(1,), (42,)]

        # one that does not is named, with how long we waited
        stuck = _hold_in_another_process(path, 1.6)
        with pytest.raises(WarehouseError) as raised, warehouse.attached():
            pass
        stuck.wait()
        assert f"cannot open DuckDB file {path} (waited 1." in str(raised.value)
        assert "Only one process may write it at a time" in str(raised.value)
    finally:
        warehouse.close()


@pytest.mark.parametrize("detachable", [False, True], ids=["direct", "detachable"])
def test_opening_a_duckdb_file_waits_for_a_brief_holder_and_names_a_stuck_one(
    tmp_path: Path, detachable: bool
) -> None:
    path = tmp_path / "warehouse.duckdb"
    settings = DuckDBSettings(path=path, lock_wait_seconds=1.0)
    DuckDBWarehouse(settings).close()

    # a sync's state write, a loader's short insert: the open waits for it
    brief = _hold_in_another_process(path, 0.4)
    opened = DuckDBWarehouse(settings, detachable=detachable)
    try:
        assert opened.query("select 1") == [(1,)]
    finally:
        opened.close()
    brief.wait()

    # a dbt build that keeps the file: the open stops after the wait, saying so
    stuck = _hold_in_another_process(path, 1.6)
    with pytest.raises(WarehouseError) as raised:
        DuckDBWarehouse(settings, detachable=detachable)
    stuck.wait()
    assert f"cannot open DuckDB file {path} (waited 1." in str(raised.value)


def test_a_file_that_is_not_a_duckdb_database_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("x" * 5000)
    with pytest.raises(WarehouseError) as raised:
        DuckDBWarehouse(DuckDBSettings(path=path, lock_wait_seconds=30.0))
    assert f"cannot open DuckDB file {path}: " in str(raised.value)
    assert "not a valid DuckDB database file" in str(raised.value)
    assert "waited" not in str(raised.value)


def _duckdb_resources(warehouse: Warehouse) -> tuple[object, ...]:
    return tuple(
        warehouse.query(
            "select current_setting('memory_limit'), current_setting('threads'), "
            "current_setting('temp_directory')"
        )[0]
    )


def test_duckdb_memory_threads_and_temp_directory_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a user sets for dbt (profiles.yml) bounds the package's own connections too.
    spill = tmp_path / "spill"
    monkeypatch.setenv("ONEFOLD_DUCKDB_MEMORY_LIMIT", "1GB")
    monkeypatch.setenv("ONEFOLD_DUCKDB_THREADS", "1")
    monkeypatch.setenv("ONEFOLD_DUCKDB_TEMP_DIRECTORY", str(spill))
    opened = DuckDBWarehouse(DuckDBSettings(path=tmp_path / "w.duckdb"))
    try:
        assert _duckdb_resources(opened) == ("953.6 MiB", 1, str(spill))
    finally:
        opened.close()


def test_the_profile_and_the_package_give_duckdb_the_same_resources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onefold.project import render_target

    repo = Path(__file__).resolve().parents[2]
    path = tmp_path / "w.duckdb"
    monkeypatch.setenv("ONEFOLD_DUCKDB_PATH", str(path))
    for name in ("MEMORY_LIMIT", "THREADS", "TEMP_DIRECTORY"):
        monkeypatch.delenv(f"ONEFOLD_DUCKDB_{name}", raising=False)
    target = render_target(repo, "onefold", "duckdb")
    assert target.duckdb is not None
    # dbt's connection gets the profile's `settings:`; the package's, its defaults.
    assert {
        name: target.duckdb.config[name] for name in ("memory_limit", "threads", "temp_directory")
    } == DuckDBSettings(path=path).resources()
    from_profile = DuckDBWarehouse(target.duckdb)
    try:
        resources = _duckdb_resources(from_profile)
    finally:
        from_profile.close()
    from_environment = DuckDBWarehouse()
    try:
        assert _duckdb_resources(from_environment) == resources
    finally:
        from_environment.close()
    assert resources[1:] == (2, f"{path}.tmp")
