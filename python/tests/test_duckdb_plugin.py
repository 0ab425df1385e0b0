"""The dbt-duckdb plugin profiles.yml loads: what dbt's DuckDB connections get from it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dbt.adapters.duckdb.plugins import BasePlugin

from onefold.erasure.session_salt import SALT_ENV
from onefold.settings import DuckDBSettings
from onefold.warehouse import DuckDBWarehouse


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> duckdb.DuckDBPyConnection:
    """A connection configured the way dbt-duckdb configures its own."""
    monkeypatch.setenv(SALT_ENV, "0123456789abcdef-secret")
    plugin = BasePlugin.create("onefold.duckdb_plugin")
    connection = duckdb.connect(":memory:")
    plugin.configure_connection(connection)
    return connection


def test_connections_carry_the_salt(configured: duckdb.DuckDBPyConnection) -> None:
    cursor = configured.cursor()
    BasePlugin.create("onefold.duckdb_plugin").configure_cursor(cursor)
    assert cursor.execute("select getvariable('onefold_erasure_salt')").fetchall() == [
        ("0123456789abcdef-secret",)
    ]


def test_sql_problem_returns_the_binder_error_instead_of_raising(
    configured: duckdb.DuckDBPyConnection,
) -> None:
    probe = (
        "select count(*) from (select cast(null as decimal(18, 2)) as lifetime_value) "
        "as customers where (lifetime_value > current_date)"
    )
    ((problem,),) = configured.execute("select onefold_sql_problem(?)", [probe]).fetchall()
    assert problem.startswith("Binder Error: Cannot compare values of type DECIMAL(18,2)")
    assert "\n\n" not in problem  # not the echo of the probe statement
    assert configured.execute(
        "select onefold_sql_problem('select 1'), onefold_sql_problem(null)"
    ).fetchall() == [(None, None)]


def test_the_spill_directory_is_set_once_and_survives_a_spill(tmp_path: Path) -> None:
    # dbt-duckdb repeats a profile's `settings:` on every cursor, and DuckDB refuses
    # `SET temp_directory` (same path or not) once something spilled: the plugin sets it.
    spill = tmp_path / "spill"
    plugin = BasePlugin.create("onefold.duckdb_plugin", config={"temp_directory": str(spill)})
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    plugin.configure_connection(connection)
    assert connection.execute("select current_setting('temp_directory')").fetchall() == [
        (str(spill),)
    ]
    connection.execute("set memory_limit = '64MB'")
    connection.execute("set threads = 1")
    connection.execute(
        "create table sorted as select range as i, md5(cast(range as varchar)) as s "
        "from range(1500000) order by s"
    )
    assert spill.exists()  # it spilled there
    # The package opening the file dbt (in-process) has open shares its database
    # instance, and sets the same directory again.
    shared = DuckDBWarehouse(
        DuckDBSettings(path=tmp_path / "w.duckdb", temp_directory=spill, memory_limit="64MB")
    )
    try:
        assert shared.query("select count(*) from sorted") == [(1500000,)]
    finally:
        shared.close()
