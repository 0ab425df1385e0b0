"""One small connection interface over DuckDB and PostgreSQL.

Everything in the package that reads or writes the warehouse goes through `connect()`,
so a feature written once works on both targets.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Append `rows` to the existing `table`, no value in any statement's text."""
        ...

    def table_exists(self, schema: str, table: str) -> bool: ...

    def close(self) -> None: ...


def quote_ident(name: str) -> str:
    """Double-quote an identifier; both targets follow the SQL standard here."""
    return '"' + name.replace('"', '""') + '"'


class DuckDBWarehouse:
    target: Target = "duckdb"

    def __init__(self, settings: DuckDBSettings | None = None, read_only: bool = False) -> None:
        self.settings = settings or DuckDBSettings()
        path = self.settings.path
        if read_only and not path.exists():
            raise ConfigError(
                f"DuckDB file {path} does not exist: run `onefold generate` and `dbt build` "
                "first, or check the target's path in profiles.yml (Onefold's own reads "
                "ONEFOLD_DUCKDB_PATH)."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            try:
                self.connection = duckdb.connect(str(path), read_only=read_only)
            except duckdb.ConnectionException:
                # This process already has the file open read-write (dbt in-process, a
                # scheduler): DuckDB refuses a second, read-only configuration.
                self.connection = duckdb.connect(str(path))
        except duckdb.IOException as exc:  # another writer holds the file
            raise WarehouseError(
                f"cannot open DuckDB file {path}: {exc}. Only one process may write it at a "
                "time; wait for the running dbt or onefold command to finish."
            ) from exc
        # The profile's `settings:` (after connecting: some need an extension DuckDB
        # loads on first use, which a connect-time config cannot), then UTC regardless.
        for name, value in self.settings.config.items():
            literal = "'" + str(value).replace("'", "''") + "'"
            self.connection.execute(f"set {quote_ident(name)} = {literal}")
        self.connection.execute("set TimeZone = 'UTC'")
        # Staging views screen erased people with the salt once the suppression list is
        # not empty; a reader of staging needs it like dbt does (the demo's: beside `path`).
        set_salt_from_environment(self.connection, path)

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


_INSERT_CHUNK = 400
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
        buffer = io.StringIO()
        frame.to_csv(
            buffer, index=False, header=False, na_rep="\\N", date_format="%Y-%m-%d %H:%M:%S.%f%z"
        )
        buffer.seek(0)
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
                copy = pgsql.SQL("copy {} from stdin with (format csv, null '\\N')").format(target)
                cursor.copy_expert(copy.as_string(cursor), buffer)
                cursor.execute("commit")
            except Exception:
                cursor.execute("rollback")
                raise

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

    def close(self) -> None:
        self.connection.close()


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


def connect_target(target: Target_, read_only: bool = False) -> Warehouse:
    """Open the warehouse of a dbt profile's target (onefold.project.Target)."""
    if target.type == "duckdb":
        return DuckDBWarehouse(target.duckdb, read_only=read_only)
    if target.type == "postgres":
        return PostgresWarehouse(target.postgres)
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
    raise ConfigError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")


@contextmanager
def connection(target: str, read_only: bool = False) -> Iterator[Warehouse]:
    warehouse = connect(target, read_only=read_only)
    try:
        yield warehouse
    finally:
        warehouse.close()
