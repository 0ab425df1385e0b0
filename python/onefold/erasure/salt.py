"""The erasure salt: a secret from the environment that keys every suppression hash.

A suppression hash is SHA-256 of `salt | match_key`. Unsalted digests of emails and
phone numbers are reversible by guessing (hash every address you can think of); with a
secret salt, someone who can read the warehouse learns nothing from the list. The salt
lives in `DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT` only: dbt scrubs `DBT_ENV_SECRET_*`
values from its logs, the Python side never logs or stores it, and the warehouse holds
only `fingerprint` (a hash of the salt) so staging can tell a wrong salt from a right one.

Warehouse sessions that must hash (staging's filter, `--verify`'s scan) get the salt as
connection state, never as SQL text: a DuckDB session variable set with a bound
parameter, a PostgreSQL setting passed in the connection's startup options (libpq
`options`, which the warehouse connection sets explicitly and a sync destination's
connection sets without it; see `session_salt`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from onefold.erasure.session_salt import (
    POSTGRES_SETTING,
    SALT_ENV,
    SPARK_SETTING,
    demo_salt_file,
    libpq_option,
    read_demo_salt,
    set_salt,
)
from onefold.errors import ConfigError
from onefold.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse

if TYPE_CHECKING:
    from onefold.project import Target

__all__ = ["POSTGRES_SETTING", "Salt", "connect_salted", "libpq_option", "load_salt"]
MIN_LENGTH = 16
_FINGERPRINT_PREFIX = "onefold-erasure-salt|"


@dataclass(frozen=True)
class Salt:
    """The secret; `repr` and `str` never show it."""

    _secret: str = field(repr=False)
    #: set when this is the demo's salt (`make demo`), read from this file
    demo_file: Path | None = field(default=None, compare=False)

    def hash(self, match_key: str) -> str:
        """The suppression hash of a match key (same as SQL `suppression_hash()`)."""
        return hashlib.sha256(f"{self._secret}|{match_key}".encode()).hexdigest()

    @property
    def fingerprint(self) -> str:
        """A check value of the salt (same as SQL `salt_fingerprint()`)."""
        return hashlib.sha256(f"{_FINGERPRINT_PREFIX}{self._secret}".encode()).hexdigest()

    def reveal(self) -> str:
        """The secret itself, for configuring a connection. Never log it."""
        return self._secret

    def __str__(self) -> str:
        return "Salt(**********)"


def load_salt(required: bool = True, database: str | Path | None = None) -> Salt | None:
    """The salt from the environment, else the demo salt beside the DuckDB file
    `database` (`make demo`); ConfigError when required and missing or weak."""
    value = os.environ.get(SALT_ENV, "")
    demo_file = None
    if not value and database is not None:
        value = read_demo_salt(database) or ""
        demo_file = demo_salt_file(database) if value else None
    if not value:
        if required:
            raise ConfigError(
                f"{SALT_ENV} is not set: erasure writes salted hashes to the suppression list "
                "and needs the secret salt dbt's staging uses. Generate one once "
                "(`openssl rand -hex 32`), keep it in your secret store, and set it for "
                "`onefold erase` and for dbt (PostgreSQL: dbt also needs PGOPTIONS='-c "
                f"{POSTGRES_SETTING}=<salt>' in its own environment)."
            )
        return None
    if len(value) < MIN_LENGTH:
        where = f"the demo salt in {demo_file}" if demo_file else SALT_ENV
        raise ConfigError(
            f"{where} is shorter than {MIN_LENGTH} characters: use a long random value "
            "(`openssl rand -hex 32`) so the suppression list cannot be reversed by guessing."
        )
    return Salt(value, demo_file)


def connect_salted(target: str | Target, salt: Salt, read_only: bool = False) -> Warehouse:
    """A warehouse connection on which staging and `suppression_hash()` see the salt.
    `target`: a dbt profile's target (onefold.project.Target), or an adapter type whose
    connection comes from the ONEFOLD_* environment."""
    kind = target if isinstance(target, str) else target.type
    if kind == "duckdb":
        duckdb_warehouse = DuckDBWarehouse(
            None if isinstance(target, str) else target.duckdb, read_only=read_only
        )
        set_salt(duckdb_warehouse.connection, salt.reveal())
        return duckdb_warehouse
    if kind == "postgres":
        return PostgresWarehouse(
            None if isinstance(target, str) else target.postgres, salt=salt.reveal()
        )
    if kind == "spark":
        from onefold.spark import SparkWarehouse

        spark_warehouse = SparkWarehouse(None if isinstance(target, str) else target.spark)
        # Read where a statement is parsed (connection_salt); dbt in this process shares it.
        spark_warehouse.session.conf.set(SPARK_SETTING, salt.reveal())
        return spark_warehouse
    raise ConfigError(f"unknown adapter type {kind!r}: choose duckdb, postgres or spark")
