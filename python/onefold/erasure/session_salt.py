"""The erasure salt as DuckDB session state, shared by every DuckDB connection we open.

Staging's suppression filter reads the salt with `getvariable('onefold_erasure_salt')`;
dbt's connections get it from the dbt-duckdb plugin, the package's own connections
(`onefold summary`, `validate`, syncs) from `onefold.warehouse`. Both call this module,
which imports nothing heavy so the plugin and the warehouse layer can use it.
"""

from __future__ import annotations

import os
from typing import Any

SALT_ENV = "DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT"
DUCKDB_VARIABLE = "onefold_erasure_salt"


def set_salt(connection: Any, salt: str) -> None:
    """Put `salt` on a DuckDB connection or cursor, as a bound parameter (never SQL text)."""
    connection.execute(f"set variable {DUCKDB_VARIABLE} = ?", [salt])


def set_salt_from_environment(connection: Any) -> None:
    """Put the salt from DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT on the connection, if set."""
    salt = os.environ.get(SALT_ENV)
    if salt:
        set_salt(connection, salt)
