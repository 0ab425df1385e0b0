"""One small connection interface over DuckDB, PostgreSQL and Spark (onefold.spark).

Everything in the package that reads or writes the warehouse goes through `connect()`,
so a feature written once works on every target.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import duckdb
import pandas as pd
import psycopg2
from psycopg2 import sql as pgsql

from onefold.erasure.session_salt import (
    salt_from_environment,
    set_salt_from_environment,
    warehouse_options,
)
from onefold.errors import ConfigError, WarehouseError
from onefold.phones import register_phone_function
from onefold.settings import TARGETS, DuckDBSettings, PostgresSettings, Target

if TYPE_CHECKING:
    from onefold.project import Target as Target_


class Warehouse(Protocol):
    target: Target

    def execute(self, statement: str, params: Sequence[Any] | None = None) -> None: ...

    def query(
        self, statement: str, params: Sequence[Any] | None = None
    ) -> list[tuple[Any, ...]]: ...

    def query_df(self, statement: str) -> pd.DataFrame: ...

    def write_df(self, schema: str, table: str, frame: pd.DataFrame) -> None:
        """Replace `schema.table` with the rows of `frame`."""
        ...

    def append_df(self, schema: str, table: str, frame: pd.DataFrame) -> None:
        """Append the rows of `frame` to `schema.table` (written by `write_df`), by
        column name."""
        ...

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Append `rows` to the existing `table`, no value in any statement's text."""
        ...

    def table_exists(self, schema: str, table: str) -> bool: ...

    def attached(self) -> AbstractContextManager[None]:
        """The warehouse is reachable inside the block: a released DuckDB file is
        attached again for it (and released after); everywhere else, nothing to do."""
        ...

    def release(self) -> None:
        """Let other processes open the warehouse until the next `attached()` block
        (a DuckDB file opened with `detachable=True`); elsewhere a no-op. Session-private
        (TEMP) tables stay readable."""
        ...

    def close(self) -> None: ...


def column_names(warehouse: Warehouse, schema: str, table: str) -> list[str]:
    """The columns of `schema.table` as the catalog names them, in table order (none
    when it does not exist)."""
    if warehouse.target == "spark":
        # Spark SQL has no information_schema.
        if not warehouse.table_exists(schema, table):
            return []
        return [str(name) for (name,) in warehouse.query(f"show columns in `{schema}`.`{table}`")]
    return [
        str(name)
        for (name,) in warehouse.query(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        )
    ]


def quote_ident(name: str) -> str:
    """Double-quote an identifier; both targets follow the SQL standard here."""
    return '"' + name.replace('"', '""') + '"'


def set_temp_directory(connection: duckdb.DuckDBPyConnection, path: str | Path) -> None:
    """Point DuckDB's spilling at `path`, unless it already is: DuckDB refuses to set
    temp_directory again, even to the same path, once something spilled there (a second
    connection to a file this process has open shares its database instance)."""
    wanted = str(path)
    ((current,),) = connection.execute("select current_setting('temp_directory')").fetchall()
    if current == wanted:
        return
    connection.execute("set temp_directory = '" + wanted.replace("'", "''") + "'")


def _is_lock_conflict(exc: duckdb.IOException) -> bool:
    """DuckDB's error when another process holds the file ("Could not set lock on
    file ...: Conflicting lock is held in ...")."""
    return "lock" in str(exc).lower()


class DuckDBWarehouse:
    """A DuckDB file.

    With `detachable=True` the connection is an in-memory database that ATTACHes the
    file under the catalog name dbt gives it (the file's stem, so dbt's three-part names
    in views resolve) and makes it the default. `release()` DETACHes the file, so other
    processes (dbt, a BI tool, a dry run) can open it while this one waits on something
    else; TEMP tables live in the in-memory database and survive. `attached()` attaches
    it again for a block, waiting up to `settings.lock_wait_seconds` for another writer
    to let go. When this process already has the file open (dbt in-process), the file
    is opened directly and `release()` does nothing.
    """

    target: Target = "duckdb"

    def __init__(
        self,
        settings: DuckDBSettings | None = None,
        read_only: bool = False,
        detachable: bool = False,
    ) -> None:
        self.settings = settings or DuckDBSettings()
        self.read_only = read_only
        path = self.settings.path
        if read_only and not path.exists():
            raise ConfigError(
                f"DuckDB file {path} does not exist: run `onefold generate` and `dbt build` "
                "first, or check the target's path in profiles.yml (Onefold's own reads "
                "ONEFOLD_DUCKDB_PATH)."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        #: the file's catalog name while it can be detached, else None
        self.catalog: str | None = None
        self.is_attached = True
        if detachable and str(path) != ":memory:" and path.stem not in _RESERVED_CATALOGS:
            self.connection = duckdb.connect(":memory:")
            self.catalog = path.stem
            self._configure()
            try:
                self._wait_for_file(self._attach)
            except duckdb.ResourceInUseException:
                # This process already has the file open (dbt in-process): share it.
                self.connection.close()
                self.catalog = None
            except WarehouseError:
                self.connection.close()
                raise
            else:
                return
        self._wait_for_file(self._connect)
        self._configure()

    def _connect(self) -> None:
        path = str(self.settings.path)
        try:
            self.connection = duckdb.connect(path, read_only=self.read_only)
        except duckdb.ConnectionException:
            # This process already has the file open read-write (dbt in-process, a
            # scheduler): DuckDB refuses a second, read-only configuration.
            self.connection = duckdb.connect(path)

    def _wait_for_file(self, open_file: Callable[[], None]) -> None:
        """Open or attach the file, retrying while another process holds its lock (a
        sync's state write takes milliseconds), for at most `settings.lock_wait_seconds`.
        Any other I/O error is not waited on."""
        started = time.monotonic()
        pause = 0.05
        while True:
            try:
                open_file()
                return
            except duckdb.IOException as exc:
                waited = time.monotonic() - started
                if not _is_lock_conflict(exc):
                    raise WarehouseError(
                        f"cannot open DuckDB file {self.settings.path}: {exc}"
                    ) from exc
                if waited >= self.settings.lock_wait_seconds:
                    raise self._held_error(exc, waited) from exc
                time.sleep(min(pause, self.settings.lock_wait_seconds - waited))
                pause = min(pause * 2, 1.0)

    def _held_error(self, exc: Exception, waited: float) -> WarehouseError:
        return WarehouseError(
            f"cannot open DuckDB file {self.settings.path} (waited {waited:.1f}s): {exc}. "
            "Only one process "
            "may write it at a time; wait for the running dbt or onefold command to finish."
        )

    def _configure(self) -> None:
        # Memory, threads and spill directory (ONEFOLD_DUCKDB_*, as in profiles.yml), the
        # profile's `settings:` (after connecting: some need an extension DuckDB loads
        # on first use, which a connect-time config cannot), then UTC regardless.
        for name, value in {**self.settings.resources(), **self.settings.config}.items():
            if name == "temp_directory":
                set_temp_directory(self.connection, value)
                continue
            literal = "'" + str(value).replace("'", "''") + "'"
            self.connection.execute(f"set {quote_ident(name)} = {literal}")
        self.connection.execute("set TimeZone = 'UTC'")
        # Staging views screen erased people with the salt once the suppression list is
        # not empty; a reader of staging needs it like dbt does (the demo's: beside `path`).
        set_salt_from_environment(self.connection, self.settings.path)
        # The phone normalizer the identity macros call (the dbt plugin registers it too).
        register_phone_function(self.connection)

    def _attach(self) -> None:
        catalog = quote_ident(str(self.catalog))
        path = "'" + str(self.settings.path).replace("'", "''") + "'"
        mode = " (read_only)" if self.read_only else ""
        self.connection.execute(f"attach {path} as {catalog}{mode}")
        self.connection.execute(f"use {catalog}")
        self.is_attached = True

    def _detach(self) -> None:
        if self.catalog is None or not self.is_attached:
            return
        self.connection.execute("use memory")
        self.connection.execute(f"detach {quote_ident(self.catalog)}")
        self.is_attached = False

    @contextmanager
    def attached(self) -> Iterator[None]:
        if self.is_attached:
            yield
            return
        self._wait_for_file(self._attach)
        try:
            yield
        finally:
            self._detach()

    def release(self) -> None:
        self._detach()

    def execute(self, statement: str, params: Sequence[Any] | None = None) -> None:
        self.connection.execute(statement, params)

    def query(self, statement: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.connection.execute(statement, params).fetchall()

    def query_df(self, statement: str) -> pd.DataFrame:
        return self.connection.execute(statement).df()

    def write_df(self, schema: str, table: str, frame: pd.DataFrame) -> None:
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        self.connection.execute(f"create schema if not exists {quote_ident(schema)}")
        self.connection.register("_onefold_frame", frame)
        try:
            self.connection.execute(
                f"create or replace table {target} as select * from _onefold_frame"
            )
        finally:
            self.connection.unregister("_onefold_frame")

    def append_df(self, schema: str, table: str, frame: pd.DataFrame) -> None:
        """One INSERT that scans the frame in place (no per-row work in Python)."""
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        self.connection.register("_onefold_frame", frame)
        try:
            self.connection.execute(f"insert into {target} by name select * from _onefold_frame")
        finally:
            self.connection.unregister("_onefold_frame")

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Multi-row inserts with bound parameters, a few hundred rows per statement."""
        column_list = ", ".join(columns)
        one = "(" + ", ".join("?" for _ in columns) + ")"
        for start in range(0, len(rows), _INSERT_CHUNK):
            chunk = rows[start : start + _INSERT_CHUNK]
            params = [value for row in chunk for value in row]
            self.connection.execute(
                f"insert into {table} ({column_list}) values {', '.join(one for _ in chunk)}",
                params,
            )

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.query(
            "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        )
        return bool(rows)

    def close(self) -> None:
        self.connection.close()


# Catalog names DuckDB uses itself: a file with such a stem is opened directly.
_RESERVED_CATALOGS = {"memory", "system", "temp", "main"}
_INSERT_CHUNK = 400
_COPY_ROWS = 50_000  # rows per COPY of a frame
_PG_TYPES = {"b": "boolean", "i": "bigint", "u": "bigint", "f": "double precision"}
# information_schema spells some types differently from how we create them.
_PG_TYPE_NAMES = {
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
}


def _postgres_type(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    if kind == "M":
        return "timestamptz" if getattr(dtype, "tz", None) is not None else "timestamp"
    return _PG_TYPES.get(kind, "text")


class PostgresWarehouse:
    """A connection to the warehouse database. Its session carries the erasure salt
    (`salt`, else DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT) as the setting
    `onefold.erasure_salt`, in an explicit libpq `options` that replaces PGOPTIONS: a salt
    in PGOPTIONS (which dbt-postgres needs) is not what this connection relies on."""

    target: Target = "postgres"

    def __init__(self, settings: PostgresSettings | None = None, salt: str | None = None) -> None:
        self.settings = settings or PostgresSettings()
        options = warehouse_options(salt or salt_from_environment())
        try:
            self.connection = psycopg2.connect(
                self.settings.dsn(), connect_timeout=10, options=options
            )
        except psycopg2.OperationalError as exc:
            s = self.settings
            raise WarehouseError(
                f"cannot connect to PostgreSQL at {s.host}:{s.port} database {s.database!r} "
                f"as {s.user!r}: {str(exc).strip()}. Check the target in profiles.yml "
                "(Onefold's own reads the ONEFOLD_PG_* variables)."
            ) from exc
        self.connection.autocommit = True
        with self.connection.cursor() as cursor:
            cursor.execute("set timezone = 'UTC'")

    def execute(self, statement: str, params: Sequence[Any] | None = None) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(*_pg_statement(statement, params))

    def query(self, statement: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(*_pg_statement(statement, params))
            return list(cursor.fetchall())

    def query_df(self, statement: str) -> pd.DataFrame:
        with self.connection.cursor() as cursor:
            cursor.execute(statement)
            columns = [c.name for c in cursor.description or []]
            return pd.DataFrame(cursor.fetchall(), columns=columns)

    def write_df(self, schema: str, table: str, frame: pd.DataFrame) -> None:
        """Replace the table's rows with `frame`, bulk-loaded with COPY, in one transaction.

        A table whose columns already match is truncated, so views built on it (staging)
        survive a reload; otherwise it is recreated, and dependent views go with it until
        the next `dbt build` recreates them.
        """
        target = pgsql.SQL("{}.{}").format(pgsql.Identifier(schema), pgsql.Identifier(table))
        wanted = [(str(name), _postgres_type(dtype)) for name, dtype in frame.dtypes.items()]
        columns = pgsql.SQL(", ").join(
            pgsql.SQL("{} {}").format(pgsql.Identifier(name), pgsql.SQL(kind))
            for name, kind in wanted
        )
        existing = self.query(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        )
        same_shape = [(name, _PG_TYPE_NAMES.get(kind, kind)) for name, kind in existing] == [
            (name, _PG_TYPE_NAMES.get(kind, kind)) for name, kind in wanted
        ]
        with self.connection.cursor() as cursor:
            cursor.execute("begin")
            try:
                cursor.execute(
                    pgsql.SQL("create schema if not exists {}").format(pgsql.Identifier(schema))
                )
                if same_shape:
                    cursor.execute(pgsql.SQL("truncate table {}").format(target))
                else:
                    cursor.execute(pgsql.SQL("drop table if exists {} cascade").format(target))
                    cursor.execute(pgsql.SQL("create table {} ({})").format(target, columns))
                _copy_frame(cursor, target, frame)
                cursor.execute("commit")
            except Exception:
                cursor.execute("rollback")
                raise

    def append_df(self, schema: str, table: str, frame: pd.DataFrame) -> None:
        """COPY the frame's rows into the existing table, its columns named."""
        target = pgsql.SQL("{}.{}").format(pgsql.Identifier(schema), pgsql.Identifier(table))
        with self.connection.cursor() as cursor:
            _copy_frame(cursor, target, frame)

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """COPY FROM STDIN: psycopg2 inlines bound parameters into the statement text,
        which `log_statement` writes to the server log; COPY's rows travel as data, and
        the log records only the command. Erasure loads the person's values this way."""
        buffer = io.StringIO()
        for row in rows:
            buffer.write(",".join(_copy_field(value) for value in row) + "\n")
        buffer.seek(0)
        column_list = ", ".join(columns)
        with self.connection.cursor() as cursor:
            cursor.copy_expert(
                f"copy {table} ({column_list}) from stdin with (format csv, null '{_COPY_NULL}')",
                buffer,
            )

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.query(
            "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        )
        return bool(rows)

    @contextmanager
    def attached(self) -> Iterator[None]:
        yield

    def release(self) -> None:
        """The server arbitrates concurrent sessions: nothing to let go of."""

    def close(self) -> None:
        self.connection.close()


def _csv_buffer(frame: pd.DataFrame) -> io.StringIO:
    """The frame as COPY's CSV (NULL as \\N, timestamps with microseconds)."""
    buffer = io.StringIO()
    frame.to_csv(
        buffer, index=False, header=False, na_rep="\\N", date_format="%Y-%m-%d %H:%M:%S.%f%z"
    )
    buffer.seek(0)
    return buffer


def _copy_frame(cursor: Any, target: pgsql.Composed, frame: pd.DataFrame) -> None:
    """COPY the frame in slices of _COPY_ROWS rows: the CSV text of a whole large frame
    would take several times the frame's memory."""
    columns = pgsql.SQL(", ").join(pgsql.Identifier(str(name)) for name in frame.columns)
    copy = pgsql.SQL("copy {} ({}) from stdin with (format csv, null '\\N')").format(
        target, columns
    )
    statement = copy.as_string(cursor)
    for start in range(0, max(len(frame), 1), _COPY_ROWS):
        cursor.copy_expert(statement, _csv_buffer(frame.iloc[start : start + _COPY_ROWS]))


# COPY's null marker, unquoted; every value is quoted, so a text \N stays text.
_COPY_NULL = "\\N"


def _copy_field(value: Any) -> str:
    """One CSV field for COPY: the null marker, or the value quoted."""
    if value is None:
        return _COPY_NULL
    if isinstance(value, dt.datetime | dt.date):
        text = value.isoformat()
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    if "\x00" in text:
        raise ValueError("PostgreSQL text cannot contain NUL characters")
    return '"' + text.replace('"', '""') + '"'


def _pg_statement(statement: str, params: Sequence[Any] | None) -> tuple[str, Sequence[Any] | None]:
    """Queries are written with DuckDB's `?` placeholders; psycopg2 wants `%s`. Without
    parameters psycopg2 sends the text as is, so it must stay untouched: a `?` or `%`
    there is SQL (a regex, a LIKE pattern), not a placeholder."""
    if not params:
        return statement, None
    return statement.replace("%", "%%").replace("?", "%s"), params


def connect_target(target: Target_, read_only: bool = False, detachable: bool = False) -> Warehouse:
    """Open the warehouse of a dbt profile's target (onefold.project.Target);
    `detachable`: see DuckDBWarehouse."""
    if target.type == "duckdb":
        return DuckDBWarehouse(target.duckdb, read_only=read_only, detachable=detachable)
    if target.type == "postgres":
        return PostgresWarehouse(target.postgres)
    if target.type == "spark":
        from onefold.spark import SparkWarehouse

        return SparkWarehouse(target.spark)
    raise ConfigError(
        f"target {target.name!r} has adapter type {target.type!r}: choose one of "
        f"{', '.join(TARGETS)}"
    )


def connect(target: str, read_only: bool = False) -> Warehouse:
    """Open the warehouse of adapter type `target` using the environment's ONEFOLD_*
    settings (tests and benchmarks; the command line goes through the dbt profile)."""
    if target == "duckdb":
        return DuckDBWarehouse(read_only=read_only)
    if target == "postgres":
        return PostgresWarehouse()
    if target == "spark":
        from onefold.spark import SparkWarehouse

        return SparkWarehouse()
    raise ConfigError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")


@contextmanager
def connection(target: str, read_only: bool = False) -> Iterator[Warehouse]:
    warehouse = connect(target, read_only=read_only)
    try:
        yield warehouse
    finally:
        warehouse.close()
