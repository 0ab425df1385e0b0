"""The dbt-duckdb plugin profiles.yml loads: what dbt's DuckDB connections get from it."""

from __future__ import annotations

import duckdb
import pytest
from dbt.adapters.duckdb.plugins import BasePlugin

from onefold.erasure.session_salt import SALT_ENV


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
