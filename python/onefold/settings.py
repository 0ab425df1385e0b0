"""Connection settings, read from the environment.

The same variables feed `profiles.yml`, so dbt and the Python package always talk to
the same warehouse.
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
    """`ONEFOLD_DBT_SCHEMA`: dbt's base schema; layers live in `<base>_staging`,
    `<base>_intermediate` and `<base>_marts` (profiles.yml reads the same variable)."""

    model_config = SettingsConfigDict(env_prefix="ONEFOLD_")

    dbt_schema: str = "onefold"
    raw_schema: str = "raw"
    truth_schema: str = "raw_truth"

    def layer_schema(self, layer: str) -> str:
        return f"{self.dbt_schema}_{layer}"


class DuckDBSettings(BaseSettings):
    """`ONEFOLD_DUCKDB_PATH`: the DuckDB file (relative paths resolve from the cwd)."""

    model_config = SettingsConfigDict(env_prefix="ONEFOLD_DUCKDB_")

    path: Path = DEFAULT_DUCKDB_PATH


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
