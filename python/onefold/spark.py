"""Onefold's connection to Spark: the session dbt-spark's `session` method runs in.

Spark SQL runs in this process's own Spark (a JVM pyspark starts on first use, in about
6 s on 2 cores here), configured by onefold.settings.SparkSettings, the same settings
profiles.yml gives dbt-spark. A process has one Spark session: dbt invoked in-process
(dbtRunner) and these connections share it, and with it the metastore. The local
metastore (Derby) admits one process at a time: a second process on the same directory
cannot open it until the first ends. A cluster's metastore has no such limit.

pyspark is the `spark` extra: nothing here is imported until a Spark target is used.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd

from onefold.errors import ConfigError, WarehouseError
from onefold.settings import SparkSettings, Target

# The commands that run on a Spark target so far (docs/spark.md, "Status").
SPARK_COMMANDS = frozenset({"generate", "explain"})
# Why each of the others does not, yet.
SPARK_GAPS = {
    "summary": "its counts are not yet checked against DuckDB's on Spark",
    "evaluate": "it scores in session temporary tables, which Spark SQL cannot create from a query",
    "sync": "it keeps its state in warehouse tables it updates and deletes from, which "
    "Spark cannot do to parquet tables",
    "erase": "deleting a person's rows on Spark means rewriting the tables that hold "
    "them, which `onefold erase` does not do yet",
}
UNCHECKED = "it is not yet checked against a Spark warehouse"

# pandas dtype kind -> Spark SQL type, for frames written as tables.
_SPARK_TYPES = {"b": "boolean", "i": "bigint", "u": "bigint", "f": "double", "M": "timestamp"}


def session(settings: SparkSettings | None = None) -> Any:
    """This process's Spark session, started with `settings` if none runs yet."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError("the Spark target needs pyspark: pip install 'onefold[spark]'") from exc
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in (settings or SparkSettings()).session_config().items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # py4j and Java start-up errors have no common base
        raise WarehouseError(f"cannot start Spark: {exc}") from exc


def check_command_supported(command: str) -> None:
    """ConfigError saying why, for a command that does not run on Spark yet."""
    if command not in SPARK_COMMANDS:
        reason = SPARK_GAPS.get(command, UNCHECKED)
        raise ConfigError(
            f"`onefold {command}` does not run on a Spark target yet: {reason} "
            f"(docs/spark.md, Status). On Spark: {', '.join(sorted(SPARK_COMMANDS))}; "
            "dbt builds every model there."
        )


def spark_type(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    return _SPARK_TYPES.get(kind, "string")


class SparkWarehouse:
    """Onefold's Warehouse over the process's Spark session. Statements take DuckDB's
    `?` placeholders, which Spark SQL binds itself (`args`)."""

    target: Target = "spark"

    def __init__(self, settings: SparkSettings | None = None) -> None:
        self.settings = settings or SparkSettings()
        self.session = session(self.settings)

    def _sql(self, statement: str, params: Sequence[Any] | None) -> Any:
        from pyspark.errors import PySparkException

        try:
            return self.session.sql(statement, args=list(params) if params else None)
        except PySparkException as exc:
            raise WarehouseError(f"Spark refused the statement: {exc}") from exc

    def execute(self, statement: str, params: Sequence[Any] | None = None) -> None:
        self._sql(statement, params).collect()

    def query(self, statement: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._sql(statement, params).collect()]

    def query_df(self, statement: str) -> pd.DataFrame:
        frame = self._sql(statement, None)
        rows = frame.collect()
        return pd.DataFrame([tuple(row) for row in rows], columns=frame.columns)

    def _frame(self, frame: pd.DataFrame) -> Any:
        schema = ", ".join(f"`{name}` {spark_type(dtype)}" for name, dtype in frame.dtypes.items())
        # Through Arrow (session_config enables it), pandas' missing values become nulls.
        # pandas' Arrow-backed strings arrive in chunks Spark's converter refuses.
        strings = {
            name: object for name, dtype in frame.dtypes.items() if dtype.kind not in "biufM"
        }
        return self.session.createDataFrame(frame.astype(strings), schema=schema)

    def write_df(self, schema: str, table: str, frame: pd.DataFrame) -> None:
        """Replace the table with `frame` (a parquet table in the warehouse directory)."""
        self.execute(f"create schema if not exists `{schema}`")
        self._frame(frame).write.mode("overwrite").format("parquet").saveAsTable(
            f"`{schema}`.`{table}`"
        )

    def append_df(self, schema: str, table: str, frame: pd.DataFrame) -> None:
        columns = self.session.table(f"`{schema}`.`{table}`").columns
        self._frame(frame).select(*columns).write.insertInto(f"`{schema}`.`{table}`")

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        frame = pd.DataFrame([list(row) for row in rows], columns=list(columns), dtype=object)
        self._frame(frame).write.insertInto(table)

    def table_exists(self, schema: str, table: str) -> bool:
        return bool(self.session.catalog.tableExists(f"{schema}.{table}"))

    @contextmanager
    def attached(self) -> Iterator[None]:
        yield

    def release(self) -> None:
        """Spark arbitrates its own jobs: nothing to let go of."""

    def close(self) -> None:
        """The session stays: it is the process's, and dbt in this process shares it."""
