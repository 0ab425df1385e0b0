"""dbt-duckdb plugin: puts the erasure salt on every DuckDB cursor dbt opens.

profiles.yml lists it under the DuckDB output (`plugins: [{module:
onefold.erasure.duckdb_plugin}]`). The salt comes from DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT
and is set as the session variable `onefold_erasure_salt`, which staging's suppression
filter reads with getvariable(): it never appears in compiled SQL, dbt's logs or the
database file. Without the variable set, staging still works as long as the suppression
list is empty, and fails with a clear message once it is not.
"""

from __future__ import annotations

import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

SALT_ENV = "DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT"
SALT_VARIABLE = "onefold_erasure_salt"


class Plugin(BasePlugin):
    def configure_connection(self, conn: Any) -> None:
        self._set_salt(conn)

    def configure_cursor(self, cursor: Any) -> None:
        self._set_salt(cursor)

    @staticmethod
    def _set_salt(connection: Any) -> None:
        salt = os.environ.get(SALT_ENV)
        if salt:
            connection.execute(f"set variable {SALT_VARIABLE} = ?", [salt])
