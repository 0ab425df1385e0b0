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

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd

from onefold.errors import ConfigError, WarehouseError
from onefold.settings import SparkSettings, Target

# The commands that run on a Spark target so far (docs/spark.md, "Status").
SPARK_COMMANDS = frozenset({"generate", "explain", "erase"})
# Why each of the others does not, yet.
SPARK_GAPS = {
    "summary": "its counts are not yet checked against DuckDB's on Spark",
    "evaluate": "its scoring SQL is not yet ported to Spark's session tables (temporary "
    "views, which `onefold erase` uses) nor checked against DuckDB's scores",
    "sync": "it keeps its state in warehouse tables it updates and deletes from, which "
    "Spark cannot do to parquet tables",
}
UNCHECKED = "it is not yet checked against a Spark warehouse"

# pandas dtype kind -> Spark SQL type, for frames written as tables.
_SPARK_TYPES = {"b": "boolean", "i": "bigint", "u": "bigint", "f": "double", "M": "timestamp"}
# Suffix of the work table a copy-on-write rewrite keeps a table's new rows in.
REWRITE_SUFFIX = "__onefold_rewrite"
# A double-quoted identifier, a standard single-quoted literal (a quote doubled in it,
# backslash not special) or a backquoted name, and the word varchar: what spark_sql reads.
_SPELLINGS = re.compile(
    r""""((?:[^"]|"")*)"|'((?:[^']|'')*)'|(`(?:[^`]|``)*`)|\b(varchar)\b""", re.IGNORECASE
)


_NAME_PART = re.compile(r"`((?:[^`]|``)*)`|([^.`\s]+)")


def name_parts(relation: str) -> list[str]:
    """The names of a relation written as SQL (`a.b`, `"a"."b"`, `` `a`.`b` ``): quoted
    ones as written, bare ones lower-cased (Spark's names are case-insensitive)."""
    return [
        quoted.replace("``", "`") if quoted else bare.lower()
        for quoted, bare in _NAME_PART.findall(spark_sql(relation.strip()))
    ]


def spark_literal(value: str) -> str:
    """`value` as a Spark SQL text literal. Spark reads literals as written
    (escapedStringLiterals, profiles.yml), so none can hold a quote ('it''s' is two
    literals, 'its') or end in a backslash (its lexer reads `\\'` as an escape): such
    text travels as the hex of its UTF-8 bytes, as macro spark__sql_text writes it."""
    if "'" in value or value.endswith("\\"):
        return f"cast(unhex('{value.encode().hex()}') as string)"
    return f"'{value}'"


def spark_sql(statement: str) -> str:
    """The package's standard SQL as Spark SQL reads it. Three spellings differ: Spark
    reads a double-quoted name as a string (`"customer_id"` -> `` `customer_id` ``), a
    literal holding a quote differently (spark_literal) and has no varchar without a
    length (-> string). Other literals and backquoted names are left as they are, so
    SQL rendered by dbt for Spark (whose literals hold no quote) passes unchanged."""

    def spelled(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return "`" + match.group(1).replace('""', '"').replace("`", "``") + "`"
        if match.group(2) is not None:
            return spark_literal(match.group(2).replace("''", "'"))
        if match.group(4) is not None:
            return "string"
        return match.group(0)

    return _SPELLINGS.sub(spelled, statement)


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
            return self.session.sql(spark_sql(statement), args=list(params) if params else None)
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

    # -- session tables: Spark SQL has no temporary tables; a temporary view of a
    # checkpointed frame is one (its rows stay in this session's blocks on local disk,
    # Spark's local directory, never in the warehouse's files: they may be a person's
    # values).

    def _keep(self, name: str, frame: Any) -> None:
        from pyspark import StorageLevel

        # On local disk: checkpoints in memory outlive their views until the JVM
        # collects them, and a 1 GB driver ran out of memory in `erase --verify`.
        frame.localCheckpoint(
            eager=True, storageLevel=StorageLevel.DISK_ONLY
        ).createOrReplaceTempView(name)

    def fill_session_table(
        self, name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """(Re)create the session table `name`: text columns holding `rows`."""
        schema = ", ".join(f"`{column}` string" for column in columns)
        values = [tuple(None if v is None else str(v) for v in row) for row in rows]
        self._keep(name, self.session.createDataFrame(values, schema=schema))

    def session_table_as(self, name: str, select_sql: str) -> None:
        """(Re)create the session table `name` holding a query's rows."""
        self._keep(name, self._sql(select_sql, None))

    def append_session_table(self, name: str, select_sql: str) -> None:
        """Add a query's rows (by position) to the session table `name`; the query may
        read that table."""
        self._keep(name, self.session.table(name).union(self._sql(select_sql, None)))

    # -- catalog ------------------------------------------------------------------------

    def schemas(self) -> list[str]:
        return sorted(str(db.name) for db in self.session.catalog.listDatabases())

    def table_types(self, schema: str) -> dict[str, str]:
        """The tables and views of `schema` as information_schema names their kind
        (BASE TABLE, VIEW); temporary views are not in a schema."""
        # SHOW statements: a tenth of catalog.listTables' time here.
        views = {str(row[1]) for row in self.query(f"show views in `{schema}`") if not row[2]}
        return {
            str(name): "VIEW" if name in views else "BASE TABLE"
            for _, name, temporary in self.query(f"show tables in `{schema}`")
            if not temporary
        }

    def columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        """(name, Spark type) of each column of `schema.table`, in table order."""
        # A frame's types: a third of catalog.listColumns' time here.
        return [
            (str(name), str(data_type))
            for name, data_type in self.session.table(f"`{schema}`.`{table}`").dtypes
        ]

    # -- copy on write -------------------------------------------------------------------

    def rewrite(self, relation: str, select_sql: str, params: Sequence[Any] = ()) -> None:
        """Replace the rows of the table `relation` with a query's, which may read it.

        Spark deletes and updates no rows of a parquet table, and refuses to overwrite a
        table the same statement reads: the new rows go to a work table beside it, which
        then overwrites the table, and is dropped. A work table left by an interrupted
        rewrite holds complete new rows (Spark registers a table once its data is
        written): it overwrites the table first, so a rerun finishes that rewrite rather
        than reading a table the crash may have left half written."""
        *_, schema, name = name_parts(relation)
        table = f"`{schema}`.`{name}`"
        work = f"`{schema}`.`{name}{REWRITE_SUFFIX}`"
        if self.table_exists(schema, name + REWRITE_SUFFIX):
            self.execute(f"insert overwrite table {table} select * from {work}")
            self.execute(f"drop table {work}")
        else:
            self.remove_unregistered_files(schema, name + REWRITE_SUFFIX)
        self.execute(f"create table {work} using parquet as {select_sql}", params)
        self.execute(f"insert overwrite table {table} select * from {work}")
        self.execute(f"drop table {work}")

    def remove_unregistered_files(self, schema: str, table: str) -> None:
        """Delete the files at table `table`'s place in `schema`, where the caller found
        no such table registered: what an interrupted `create table … as` left there.
        Spark registers the table only once its data is written, and will not create one
        where a directory exists (LOCATION_ALREADY_EXISTS), so the rerun would stop there."""
        jvm, context = self.session._jvm, self.session.sparkContext._jsc
        location = self.session.catalog.getDatabase(schema).locationUri.rstrip("/")
        path = jvm.org.apache.hadoop.fs.Path(f"{location}/{table.lower()}")
        files = path.getFileSystem(context.hadoopConfiguration())
        if files.exists(path):
            files.delete(path, True)

    @contextmanager
    def attached(self) -> Iterator[None]:
        yield

    def release(self) -> None:
        """Spark arbitrates its own jobs: nothing to let go of."""

    def close(self) -> None:
        """The session stays: it is the process's, and dbt in this process shares it."""
