"""Onefold's dbt-duckdb plugin, listed in profiles.yml under the DuckDB output
(`plugins: [{module: onefold.duckdb_plugin}]`). On every connection and cursor dbt opens:

- the erasure salt: DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT becomes the session variable
  `onefold_erasure_salt` that staging's suppression filter reads with getvariable(), so
  it never appears in compiled SQL, dbt's logs or the database file. Without it staging
  still works while the suppression list is empty, and fails clearly once it is not.
  Unset, the demo salt `make demo` wrote beside the DuckDB file is used, if there is one
  (`session_salt.read_demo_salt`).
- DuckDB's spill directory: the plugin's `temp_directory` config (profiles.yml).
- `onefold_sql_problem(statement)`: the error DuckDB reports when binding `statement`,
  or NULL. Jinja cannot catch a failed query, so without this the on-run-start checks
  could only surface DuckDB's bare error; with it they say which segment is wrong (the
  PostgreSQL build has a PL/pgSQL function of the same name).
- `onefold_phone_e164(value, calling_code)`: the phone normalizer (onefold.phones), run
  by libphonenumber itself (PostgreSQL runs a PL/pgSQL port of it).
"""

from __future__ import annotations

from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb.func import FunctionNullHandling
from duckdb.sqltypes import VARCHAR

from onefold.erasure.session_salt import set_salt_from_environment
from onefold.phones import register_phone_function
from onefold.warehouse import set_temp_directory

SQL_PROBLEM_FUNCTION = "onefold_sql_problem"


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.temp_directory = plugin_config.get("temp_directory")

    def configure_connection(self, conn: Any) -> None:
        # The spill directory, once per connection (profiles.yml says why not per cursor).
        temp_directory = self.temp_directory
        if temp_directory:
            set_temp_directory(conn, str(temp_directory))
        set_salt_from_environment(conn, self._database())
        register_sql_problem(conn)
        register_phone_function(conn)

    def configure_cursor(self, cursor: Any) -> None:
        set_salt_from_environment(cursor, self._database())

    def _database(self) -> str | None:
        """The DuckDB file of the profile's target (where a demo salt may sit beside it)."""
        path = getattr(self.creds, "path", None)
        return None if path is None else str(path)


def register_sql_problem(connection: duckdb.DuckDBPyConnection) -> None:
    """Create `onefold_sql_problem(varchar) -> varchar` on the connection."""

    def sql_problem(statement: str | None) -> str | None:
        if statement is None:
            return None
        # A cursor of its own: EXPLAIN binds the statement without running it.
        cursor = connection.cursor()
        try:
            cursor.execute(f"explain {statement}")
        except duckdb.Error as exc:
            # The first paragraph; the rest quotes the probe statement back.
            return str(exc).strip().split("\n\n")[0]
        finally:
            cursor.close()
        return None

    connection.create_function(
        SQL_PROBLEM_FUNCTION,
        sql_problem,
        [VARCHAR],
        VARCHAR,
        null_handling=FunctionNullHandling.SPECIAL,
        side_effects=True,
    )
