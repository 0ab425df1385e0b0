"""`postgres` destination: keep a table in another PostgreSQL database in sync.

The table is created on the first upsert or insert: the key column (text), one typed
column per payload field (text, bigint, numeric, double precision, boolean, date,
timestamp[tz] or jsonb, from the first non-null value seen) and `onefold_synced_at`.
Payload fields that appear later are added as columns; existing columns keep their type.

- upsert: `insert ... on conflict (key) do update`; the table's primary key is the key.
- insert: an append table whose primary key is (key, onefold_batch_key) and
  `on conflict do nothing`, so a replayed batch adds nothing.
- remove / erase: `delete ... where key = any(...)`.

Each batch is one transaction. A row PostgreSQL refuses (a value that does not fit its
column) is rejected on its own: the batch is retried row by row under savepoints and the
other rows commit. Connection failures raise DestinationUnavailable.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import psycopg2
import psycopg2.errorcodes
import psycopg2.extensions
import psycopg2.extras
from psycopg2 import sql
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from onefold.erasure.session_salt import foreign_options
from onefold.sync.destinations.base import (
    BatchResult,
    DestinationUnavailable,
    Operation,
    Record,
    Rejection,
)
from onefold.sync.destinations.settings import parse_settings, secret_from_env

SYNCED_AT_COLUMN = "onefold_synced_at"
BATCH_KEY_COLUMN = "onefold_batch_key"
POSTGRES_IDENTIFIER_BYTES = 63
TableShape = Literal["keyed", "append"]


def _fits_postgres_identifier(name: str) -> str:
    if not name or len(name.encode("utf-8")) > POSTGRES_IDENTIFIER_BYTES:
        # Longer names are silently truncated by PostgreSQL and could collide.
        raise ValueError(f"must be 1 to {POSTGRES_IDENTIFIER_BYTES} bytes")
    return name


class PostgresTableSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str
    port: int = Field(default=5432, ge=1, le=65535)
    user: str
    database: str
    password_env: str | None = Field(
        default=None, description="Name of the environment variable holding the password."
    )
    schema_name: str = Field(default="public", alias="schema")
    table: str
    key_column: str = "key"
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"
    connect_timeout_seconds: int = Field(default=10, ge=1, le=300)
    batch_size: int = Field(default=1000, ge=1, le=50_000)

    @field_validator("schema_name", "table", "key_column")
    @classmethod
    def _identifier(cls, value: str) -> str:
        return _fits_postgres_identifier(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def column_type_for(value: Any) -> str:
    """PostgreSQL type for a new column, from a sample payload value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float):
        return "double precision"
    if isinstance(value, Decimal):
        return "numeric"
    if isinstance(value, dt.datetime):
        return "timestamp with time zone" if value.tzinfo else "timestamp without time zone"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, Mapping | list | tuple):
        return "jsonb"
    return "text"


class PostgresTableDestination:
    """Upserts into, appends to or deletes from one table; see the module docstring."""

    # A database has no documented rate limit; batches are paced by their transactions.
    requests_per_second = 50.0

    def __init__(
        self, sync_name: str, settings: PostgresTableSettings, password: SecretStr | None
    ) -> None:
        self.sync_name = sync_name
        self.settings = settings
        self.max_batch_size = settings.batch_size
        self._password = password
        self._connection: psycopg2.extensions.connection | None = None
        self._columns: dict[str, str] | None = None
        self._shape: TableShape | None = None
        self.table = sql.Identifier(settings.schema_name, settings.table)
        self.key = sql.Identifier(settings.key_column)
        self.table_name = f"{settings.schema_name}.{settings.table}"

    # -- the Destination interface ------------------------------------------------------

    def send(
        self, operation: Operation, records: Sequence[Record], idempotency_key: str
    ) -> BatchResult:
        connection = self._connect()
        try:
            with connection, connection.cursor() as cursor:
                if operation in ("remove", "erase"):
                    return self._delete(cursor, records)
                return self._write(cursor, operation, records, idempotency_key)
        except psycopg2.Error as error:
            self._discard_connection()
            raise DestinationUnavailable(self._describe(error)) from error
        except BaseException:
            # The transaction rolled back: columns added in it are gone again.
            self._columns, self._shape = None, None
            raise

    def close(self) -> None:
        self._discard_connection()

    # -- connection ----------------------------------------------------------------------

    def _connect(self) -> psycopg2.extensions.connection:
        if self._connection is not None and not self._connection.closed:
            return self._connection
        settings = self.settings
        try:
            self._connection = psycopg2.connect(
                host=settings.host,
                port=settings.port,
                user=settings.user,
                dbname=settings.database,
                password=self._password.get_secret_value() if self._password else None,
                sslmode=settings.sslmode,
                connect_timeout=settings.connect_timeout_seconds,
                application_name=f"onefold sync {self.sync_name}"[:63],
                # Explicit, so libpq does not send this server PGOPTIONS as they are: the
                # erasure salt there is for the warehouse only.
                options=foreign_options(),
            )
        except psycopg2.Error as error:
            raise DestinationUnavailable(
                f"sync '{self.sync_name}': cannot connect to PostgreSQL at "
                f"{settings.host}:{settings.port} database {settings.database} as "
                f"{settings.user}: {str(error).strip()}"
            ) from error
        # The cached table layout may be stale after a reconnect.
        self._columns = None
        self._shape = None
        return self._connection

    def _discard_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def _describe(self, error: psycopg2.Error) -> str:
        code = psycopg2.errorcodes.lookup(error.pgcode) if error.pgcode else None
        detail = (error.diag.message_primary if error.pgcode else None) or str(error).strip()
        prefix = f"sync '{self.sync_name}': PostgreSQL table {self.table_name}"
        return f"{prefix}: {detail}" + (f" ({code})" if code else "")

    # -- table layout --------------------------------------------------------------------

    def _load_layout(self, cursor: psycopg2.extensions.cursor) -> None:
        qualified = self.table.as_string(cursor)
        cursor.execute(
            "select attname, format_type(atttypid, atttypmod) from pg_attribute "
            "where attrelid = to_regclass(%s) and attnum > 0 and not attisdropped",
            (qualified,),
        )
        columns = dict(cursor.fetchall())
        if not columns:
            self._columns, self._shape = None, None
            return
        cursor.execute(
            "select a.attname from pg_index i join pg_attribute a "
            "on a.attrelid = i.indrelid and a.attnum = any(i.indkey) "
            "where i.indrelid = to_regclass(%s) and i.indisprimary",
            (qualified,),
        )
        primary_key = {name for (name,) in cursor.fetchall()}
        self._columns = columns
        self._shape = (
            "append" if primary_key == {self.settings.key_column, BATCH_KEY_COLUMN} else "keyed"
        )

    def _ensure_table(
        self,
        cursor: psycopg2.extensions.cursor,
        shape: TableShape,
        sample_values: Mapping[str, Any],
    ) -> dict[str, str]:
        if self._columns is None:
            self._load_layout(cursor)
        if self._columns is None:
            self._create_table(cursor, shape, sample_values)
            self._load_layout(cursor)
        assert self._columns is not None
        if self._shape != shape:
            created_for = "insert (append)" if self._shape == "append" else "upsert/mirror"
            raise DestinationUnavailable(
                f"sync '{self.sync_name}': table {self.table_name} was created for "
                f"{created_for} syncs and cannot take '{shape}' writes; point this sync "
                "at another table"
            )
        missing = {
            name: value for name, value in sample_values.items() if name not in self._columns
        }
        for name, value in missing.items():
            cursor.execute(
                sql.SQL("alter table {} add column if not exists {} {}").format(
                    self.table, sql.Identifier(name), sql.SQL(column_type_for(value))
                )
            )
        if missing:
            self._load_layout(cursor)
        return self._columns

    def _create_table(
        self,
        cursor: psycopg2.extensions.cursor,
        shape: TableShape,
        sample_values: Mapping[str, Any],
    ) -> None:
        cursor.execute(
            "select 1 from pg_namespace where nspname = %s", (self.settings.schema_name,)
        )
        if cursor.fetchone() is None:
            cursor.execute(
                sql.SQL("create schema if not exists {}").format(
                    sql.Identifier(self.settings.schema_name)
                )
            )
        definitions = [sql.SQL("{} text not null").format(self.key)]
        primary_key = [self.key]
        if shape == "append":
            definitions.append(sql.SQL("{} text not null").format(sql.Identifier(BATCH_KEY_COLUMN)))
            primary_key.append(sql.Identifier(BATCH_KEY_COLUMN))
        definitions += [
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(column_type_for(value)))
            for name, value in sample_values.items()
        ]
        definitions.append(
            sql.SQL("{} timestamp with time zone not null default now()").format(
                sql.Identifier(SYNCED_AT_COLUMN)
            )
        )
        definitions.append(sql.SQL("primary key ({})").format(sql.SQL(", ").join(primary_key)))
        cursor.execute(
            sql.SQL("create table if not exists {} ({})").format(
                self.table, sql.SQL(", ").join(definitions)
            )
        )

    # -- writes --------------------------------------------------------------------------

    def _field_problem(self, name: str) -> str | None:
        if name in (self.settings.key_column, SYNCED_AT_COLUMN, BATCH_KEY_COLUMN):
            return f"payload field {name!r} clashes with a column Onefold manages"
        if not name or len(name.encode("utf-8")) > POSTGRES_IDENTIFIER_BYTES:
            return f"payload field {name!r} is not a usable column name (1 to 63 bytes)"
        return None

    def _write(
        self,
        cursor: psycopg2.extensions.cursor,
        operation: Operation,
        records: Sequence[Record],
        idempotency_key: str,
    ) -> BatchResult:
        rejected: list[Rejection] = []
        accepted: dict[str, Record] = {}
        for record in records:
            problem = next(filter(None, map(self._field_problem, record.payload)), None)
            if problem:
                rejected.append(
                    Rejection(record.key, f"{problem}; rename it in the sync's mapping")
                )
            else:
                # One row per key: `on conflict do update` cannot touch a row twice.
                accepted[record.key] = record
        if not accepted:
            return BatchResult(rejected=rejected)

        sample_values: dict[str, Any] = {}
        for record in accepted.values():
            for name, value in record.payload.items():
                if sample_values.get(name) is None:
                    sample_values[name] = value
        shape: TableShape = "append" if operation == "insert" else "keyed"
        column_types = self._ensure_table(cursor, shape, sample_values)
        payload_columns = list(sample_values)
        statement = self._insert_statement(shape, payload_columns)
        rows = [
            self._row(record, payload_columns, column_types, shape, idempotency_key)
            for record in accepted.values()
        ]
        template = "(" + ", ".join(["%s"] * len(rows[0])) + ", now())"

        cursor.execute("savepoint onefold_batch")
        try:
            psycopg2.extras.execute_values(
                cursor, statement, rows, template=template, page_size=len(rows)
            )
        except (psycopg2.DataError, psycopg2.IntegrityError):
            cursor.execute("rollback to savepoint onefold_batch")
            rejected += self._write_row_by_row(cursor, statement, template, accepted, rows)
        cursor.execute("release savepoint onefold_batch")
        return BatchResult(rejected=rejected)

    def _insert_statement(self, shape: TableShape, payload_columns: Sequence[str]) -> sql.Composed:
        columns = [self.key]
        if shape == "append":
            columns.append(sql.Identifier(BATCH_KEY_COLUMN))
        columns += [sql.Identifier(name) for name in payload_columns]
        columns.append(sql.Identifier(SYNCED_AT_COLUMN))
        if shape == "append":
            conflict = sql.SQL("on conflict ({}, {}) do nothing").format(
                self.key, sql.Identifier(BATCH_KEY_COLUMN)
            )
        else:
            updates = [
                sql.SQL("{0} = excluded.{0}").format(sql.Identifier(name))
                for name in [*payload_columns, SYNCED_AT_COLUMN]
            ]
            conflict = sql.SQL("on conflict ({}) do update set {}").format(
                self.key, sql.SQL(", ").join(updates)
            )
        return sql.SQL("insert into {} ({}) values %s {}").format(
            self.table, sql.SQL(", ").join(columns), conflict
        )

    @staticmethod
    def _row(
        record: Record,
        payload_columns: Sequence[str],
        column_types: Mapping[str, str],
        shape: TableShape,
        idempotency_key: str,
    ) -> tuple[Any, ...]:
        values: list[Any] = [record.key]
        if shape == "append":
            values.append(idempotency_key)
        for name in payload_columns:
            value = record.payload.get(name)
            if value is not None and column_types[name] in ("jsonb", "json"):
                value = psycopg2.extras.Json(value, dumps=_dumps)
            elif isinstance(value, Mapping | list | tuple):
                value = _dumps(value)
            values.append(value)
        return tuple(values)

    def _write_row_by_row(
        self,
        cursor: psycopg2.extensions.cursor,
        statement: sql.Composed,
        template: str,
        accepted: Mapping[str, Record],
        rows: Sequence[tuple[Any, ...]],
    ) -> list[Rejection]:
        rejected = []
        for key, row in zip(accepted, rows, strict=True):
            cursor.execute("savepoint onefold_row")
            try:
                psycopg2.extras.execute_values(cursor, statement, [row], template=template)
            except (psycopg2.DataError, psycopg2.IntegrityError) as error:
                cursor.execute("rollback to savepoint onefold_row")
                rejected.append(Rejection(key, self._refused_row_message(error)))
            else:
                cursor.execute("release savepoint onefold_row")
        return rejected

    def _refused_row_message(self, error: psycopg2.Error) -> str:
        # The server's own message can quote the value (PII); name the error class and
        # the column instead.
        code = psycopg2.errorcodes.lookup(error.pgcode) if error.pgcode else type(error).__name__
        column = error.diag.column_name
        where = f" in column {column}" if column else ""
        return (
            f"PostgreSQL refused the row for {self.table_name}{where} ({code}); make the "
            "model's column types match the table's columns"
        )

    def _delete(self, cursor: psycopg2.extensions.cursor, records: Sequence[Record]) -> BatchResult:
        if self._columns is None:
            self._load_layout(cursor)
        if self._columns is None:
            return BatchResult()
        cursor.execute(
            sql.SQL("delete from {} where {} = any(%s)").format(self.table, self.key),
            ([record.key for record in records],),
        )
        return BatchResult()


def create_destination(sync_name: str, settings: Mapping[str, Any]) -> PostgresTableDestination:
    """Registry factory for `type: postgres`."""
    parsed = parse_settings(PostgresTableSettings, sync_name, settings)
    password = (
        secret_from_env(sync_name, "password_env", parsed.password_env)
        if parsed.password_env
        else None
    )
    return PostgresTableDestination(sync_name, parsed, password)
