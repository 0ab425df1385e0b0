"""Settings read from the environment.

The command line connects through the dbt profile's target (onefold.project), whose
repo `profiles.yml` reads these same ONEFOLD_* variables; `DuckDBSettings` and
`PostgresSettings` also carry a rendered target's connection, and
`onefold.warehouse.connect(adapter_type)` reads them straight from the environment
(tests, benchmarks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Target = Literal["duckdb", "postgres"]
TARGETS: tuple[Target, ...] = ("duckdb", "postgres")

DEFAULT_DUCKDB_PATH = Path("warehouse/onefold.duckdb")


class ProjectSettings(BaseSettings):
    """`ONEFOLD_RAW_SCHEMA` / `ONEFOLD_TRUTH_SCHEMA`: where the demo generator writes its
    raw tables and ground truth. `ONEFOLD_DBT_SCHEMA` is read by Onefold's own
    profiles.yml (the target's schema); the package finds dbt's relations in the
    manifest (onefold.project), never from this."""

    model_config = SettingsConfigDict(env_prefix="ONEFOLD_")

    dbt_schema: str = "onefold"
    raw_schema: str = "raw"
    truth_schema: str = "raw_truth"


class DuckDBSettings(BaseSettings):
    """`ONEFOLD_DUCKDB_PATH`: the DuckDB file (relative paths resolve from the cwd);
    `ONEFOLD_DUCKDB_LOCK_WAIT_SECONDS`: how long a sync waits for another process to let
    go of the file before a state write [30]."""

    model_config = SettingsConfigDict(env_prefix="ONEFOLD_DUCKDB_")

    path: Path = DEFAULT_DUCKDB_PATH
    lock_wait_seconds: float = Field(default=30.0, ge=0)
    #: DuckDB settings applied at connect (a profile's `settings:`, e.g. TimeZone)
    config: dict[str, str] = Field(default_factory=dict)


class PostgresSettings(BaseSettings):
    """`ONEFOLD_PG_HOST`, `_PORT`, `_USER`, `_DATABASE`; password in
    `DBT_ENV_SECRET_ONEFOLD_PG_PASSWORD` so dbt scrubs it from its logs."""

    model_config = SettingsConfigDict(env_prefix="ONEFOLD_PG_")

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    database: str = "onefold"
    password: SecretStr = Field(
        default=SecretStr(""), validation_alias="DBT_ENV_SECRET_ONEFOLD_PG_PASSWORD"
    )

    def dsn(self) -> str:
        """A libpq connection string, values quoted by libpq's own rules."""
        from psycopg2.extensions import make_dsn

        secret = self.password.get_secret_value()
        return str(
            make_dsn(
                host=self.host,
                port=self.port,
                user=self.user,
                dbname=self.database,
                password=secret or None,
            )
        )
