"""The demo's erasure salt: `make demo` writes a labelled one next to the demo's DuckDB
file, and dbt (the DuckDB plugin), Onefold's connections and `onefold erase` use it when
no real salt (DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT) is set — and never when one is."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from onefold.erasure import demo_salt
from onefold.erasure.salt import MIN_LENGTH, load_salt
from onefold.erasure.session_salt import (
    DUCKDB_VARIABLE,
    SALT_ENV,
    demo_salt_file,
    salt_from_environment,
)
from onefold.errors import ConfigError
from onefold.settings import DuckDBSettings
from onefold.warehouse import DuckDBWarehouse

REAL_SALT = "a-real-salt-from-the-secret-store-0123"


@pytest.fixture(autouse=True)
def _no_real_salt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SALT_ENV, raising=False)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "onefold.duckdb"


def _salt_of(connection: duckdb.DuckDBPyConnection) -> str | None:
    value = connection.execute(f"select getvariable('{DUCKDB_VARIABLE}')").fetchall()[0][0]
    return None if value is None else str(value)


def test_make_demo_writes_a_labelled_private_salt_once(database: Path) -> None:
    written = demo_salt.ensure(database)
    assert (
        written == demo_salt_file(database) == database.parent / "onefold.duckdb.demo-erasure-salt"
    )
    text = written.read_text()
    assert "demo" in text.splitlines()[0].lower()
    assert SALT_ENV in text  # says what to use instead for real data
    value = salt_from_environment(database)
    assert value is not None and len(value) >= MIN_LENGTH and value in text
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    demo_salt.ensure(database)  # a second `make demo` keeps it
    assert salt_from_environment(database) == value


def test_the_module_entry_point_writes_it(database: Path) -> None:
    subprocess.run([sys.executable, "-m", "onefold.erasure.demo_salt", str(database)], check=True)
    assert salt_from_environment(database) is not None


def test_no_demo_file_no_salt(database: Path) -> None:
    assert salt_from_environment(database) is None
    assert salt_from_environment() is None


def test_a_real_salt_always_wins(database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    demo_salt.ensure(database)
    monkeypatch.setenv(SALT_ENV, REAL_SALT)
    assert salt_from_environment(database) == REAL_SALT
    salt = load_salt(database=database)
    assert salt is not None and salt.reveal() == REAL_SALT and salt.demo_file is None


def test_erase_loads_the_demo_salt_and_says_so(database: Path) -> None:
    with pytest.raises(ConfigError, match=SALT_ENV):
        load_salt(database=database)
    demo_salt.ensure(database)
    salt = load_salt(database=database)
    assert salt is not None and salt.demo_file == demo_salt_file(database)
    assert salt.reveal() == salt_from_environment(database)


def test_onefolds_duckdb_connections_carry_the_demo_salt(database: Path) -> None:
    demo_salt.ensure(database)
    warehouse = DuckDBWarehouse(DuckDBSettings(path=database))
    try:
        assert _salt_of(warehouse.connection) == salt_from_environment(database)
    finally:
        warehouse.close()


def test_dbts_duckdb_plugin_sets_the_demo_salt(database: Path) -> None:
    from dbt.adapters.duckdb.credentials import DuckDBCredentials
    from dbt.adapters.duckdb.plugins import BasePlugin

    demo_salt.ensure(database)
    credentials = DuckDBCredentials(database="onefold", schema="main", path=str(database))
    plugin = BasePlugin.create("onefold.duckdb_plugin", credentials=credentials)
    connection = duckdb.connect(str(database))
    try:
        plugin.configure_connection(connection)
        assert _salt_of(connection) == salt_from_environment(database)
        cursor = connection.cursor()
        plugin.configure_cursor(cursor)
        assert _salt_of(cursor) == salt_from_environment(database)
    finally:
        connection.close()


def test_erase_tells_the_user_it_uses_the_demo_salt(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`onefold erase --sweep` needs the salt; on a project without a manifest it stops
    after loading it, which is enough to see the notice (and no secret)."""
    from onefold.cli import main

    demo_salt.ensure(database)
    env = {"ONEFOLD_DUCKDB_PATH": str(database), "ONEFOLD_TARGET": "duckdb"}
    duckdb.connect(str(database)).close()
    result = CliRunner().invoke(
        main, ["erase", "--sweep", "--target-path", str(database.parent / "no-target")], env=env
    )
    value = salt_from_environment(database)
    assert value is not None and value not in result.output
    notice = [line for line in result.stderr.splitlines() if "demo erasure salt" in line]
    assert notice and str(demo_salt_file(database)) in notice[0], result.stderr
