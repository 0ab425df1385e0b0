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

from onefold.erasure.session_salt import SPARK_SETTING as SPARK_SALT_SETTING
from onefold.erasure.session_salt import salt_from_environment

Target = Literal["duckdb", "postgres", "spark"]
TARGETS: tuple[Target, ...] = ("duckdb", "postgres", "spark")

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


#: Defaults of DuckDB's resource settings; the repo's profiles.yml spells the same ones
#: (python/tests/test_warehouse.py checks that they agree).
DEFAULT_DUCKDB_MEMORY_LIMIT = "50%"
DEFAULT_DUCKDB_THREADS = 2


class DuckDBSettings(BaseSettings):
    """`ONEFOLD_DUCKDB_PATH`: the DuckDB file (relative paths resolve from the cwd);
    `ONEFOLD_DUCKDB_LOCK_WAIT_SECONDS`: how long a sync waits for another process to let
    go of the file before a state write [30].

    DuckDB's resources, the same variables the repo's profiles.yml gives dbt:
    `ONEFOLD_DUCKDB_MEMORY_LIMIT` (DuckDB's `memory_limit`: `4GB`, or a share of the
    machine's memory like `50%`) [50%], `ONEFOLD_DUCKDB_THREADS` (worker threads of
    one query) [2], `ONEFOLD_DUCKDB_TEMP_DIRECTORY` (where DuckDB spills what does not
    fit in memory) [the database file's path + `.tmp`, DuckDB's own default]."""

    model_config = SettingsConfigDict(env_prefix="ONEFOLD_DUCKDB_")

    path: Path = DEFAULT_DUCKDB_PATH
    lock_wait_seconds: float = Field(default=30.0, ge=0)
    memory_limit: str = Field(default=DEFAULT_DUCKDB_MEMORY_LIMIT, min_length=1)
    threads: int = Field(default=DEFAULT_DUCKDB_THREADS, ge=1)
    temp_directory: Path | None = None
    #: DuckDB settings applied at connect (a profile's `settings:`, e.g. TimeZone); they
    #: override the resource settings above
    config: dict[str, str] = Field(default_factory=dict)

    def resources(self) -> dict[str, str]:
        """memory_limit, threads and temp_directory as DuckDB `SET`s them."""
        settings = {"memory_limit": self.memory_limit, "threads": str(self.threads)}
        temp_directory = self.temp_directory
        if temp_directory is None and str(self.path) != ":memory:":
            temp_directory = Path(f"{self.path}.tmp")
        if temp_directory is not None:
            settings["temp_directory"] = str(temp_directory)
        return settings


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


#: Defaults of local Spark's settings; the repo's profiles.yml spells the same ones
#: (python/tests/test_spark.py checks that they agree).
DEFAULT_SPARK_MASTER = "local[*]"
DEFAULT_SPARK_DIR = Path("warehouse/spark")
DEFAULT_SPARK_DRIVER_MEMORY = "4g"
DEFAULT_SPARK_SHUFFLE_PARTITIONS = 8


class SparkSettings(BaseSettings):
    """Spark in this process (dbt-spark's `session` method): `ONEFOLD_SPARK_MASTER`
    [local[*]], `ONEFOLD_SPARK_DIR`, the local warehouse's directory: its tables under
    `tables/`, the Derby metastore that names them in `metastore_db/` [warehouse/spark],
    `ONEFOLD_SPARK_DRIVER_MEMORY` [4g], `ONEFOLD_SPARK_SHUFFLE_PARTITIONS` [8: Spark's
    200 suit a cluster, not a laptop's data].

    `config`: a profile's `server_side_parameters`, which override these."""

    model_config = SettingsConfigDict(env_prefix="ONEFOLD_SPARK_")

    master: str = Field(default=DEFAULT_SPARK_MASTER, min_length=1)
    dir: Path = DEFAULT_SPARK_DIR
    driver_memory: str = Field(default=DEFAULT_SPARK_DRIVER_MEMORY, min_length=1)
    shuffle_partitions: int = Field(default=DEFAULT_SPARK_SHUFFLE_PARTITIONS, ge=1)
    config: dict[str, str] = Field(default_factory=dict)

    def session_config(self) -> dict[str, str]:
        """The Spark configuration of the session (what profiles.yml gives dbt-spark)."""
        directory = str(self.dir)
        return {
            "spark.master": self.master,
            "spark.driver.memory": self.driver_memory,
            "spark.sql.shuffle.partitions": str(self.shuffle_partitions),
            "spark.sql.warehouse.dir": f"{directory}/tables",
            # Derby keeps its files (and derby.log) in its system home.
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={directory}",
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                "jdbc:derby:;databaseName=metastore_db;create=true"
            ),
            "spark.sql.session.timeZone": "UTC",
            "spark.ui.enabled": "false",
            # String literals as written: a regex's backslashes reach the regex (Spark
            # would otherwise read '\.' as '.'). Text with quotes: onefold.sql_text.
            "spark.sql.parser.escapedStringLiterals": "true",
            # pandas frames cross into Spark as Arrow batches, not row by row.
            "spark.sql.execution.arrow.pyspark.enabled": "true",
            # dbt-spark sets it too: SQL that fails a cast gives null, as on Spark 3.
            "spark.sql.ansi.enabled": "false",
            # The phone normalizer nests about 25 lambdas (onefold.sql_let), and Spark's
            # analyser takes a few of its rounds per level: near its default of 100.
            "spark.sql.analyzer.maxIterations": "200",
            # Staging's suppression check reads the erasure salt from here (docs/spark.md).
            SPARK_SALT_SETTING: salt_from_environment() or "",
            **self.config,
        }
