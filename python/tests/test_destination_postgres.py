"""The `postgres` destination against a real (throwaway) PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg2
import pytest

from onefold.errors import ConfigError
from onefold.sync.destinations.base import Destination, DestinationUnavailable, Record
from onefold.sync.destinations.postgres_table import (
    PostgresTableDestination,
    create_destination,
)
from onefold.testing.postgres import PostgresServer, create_database, free_port

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def target_database(postgres_server: PostgresServer) -> PostgresServer:
    return create_database(postgres_server, f"onefold_destination_{uuid.uuid4().hex[:8]}")


@pytest.fixture
def table_name() -> str:
    return f"crm_{uuid.uuid4().hex[:8]}"


def settings_for(server: PostgresServer, table: str, **extra: Any) -> dict[str, Any]:
    return {
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "database": server.database,
        "schema": "exports",
        "table": table,
        "key_column": "customer_id",
        **extra,
    }


@pytest.fixture
def destination(
    target_database: PostgresServer, table_name: str
) -> Iterator[PostgresTableDestination]:
    created = create_destination("crm_export", settings_for(target_database, table_name))
    yield created
    created.close()


def query(server: PostgresServer, statement: str) -> list[tuple[Any, ...]]:
    connection = psycopg2.connect(
        host=server.host, port=server.port, user=server.user, dbname=server.database
    )
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(statement)
            return list(cursor.fetchall()) if cursor.description else []
    finally:
        connection.close()


def column_types(server: PostgresServer, table: str) -> dict[str, str]:
    rows = query(
        server,
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = 'exports' and table_name = '{table}'",
    )
    return {str(name): str(kind) for name, kind in rows}


def test_upsert_creates_a_typed_table_and_updates_in_place(
    destination: PostgresTableDestination, target_database: PostgresServer, table_name: str
) -> None:
    as_protocol: Destination = destination
    seen_at = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    first = [
        Record(
            "c1",
            {
                "email": "a@example.com",
                "orders_count": 3,
                "lifetime_value": Decimal("120.50"),
                "is_vip": True,
                "last_seen_at": seen_at,
                "segments": ["vip", "newsletter"],
            },
        ),
        Record("c2", {"email": "b@example.com", "orders_count": None, "is_vip": False}),
    ]
    assert as_protocol.send("upsert", first, "b1").rejected == []
    assert column_types(target_database, table_name) == {
        "customer_id": "text",
        "email": "text",
        "orders_count": "bigint",
        "lifetime_value": "numeric",
        "is_vip": "boolean",
        "last_seen_at": "timestamp with time zone",
        "segments": "jsonb",
        "onefold_synced_at": "timestamp with time zone",
    }

    # A changed row and a payload field the table does not have yet.
    second = [Record("c1", {"email": "new@example.com", "orders_count": 4, "city": "Leeds"})]
    assert destination.send("upsert", second, "b2").rejected == []
    rows = query(
        target_database,
        f"select customer_id, email, orders_count, lifetime_value, segments, city "
        f"from exports.{table_name} order by customer_id",
    )
    assert rows == [
        ("c1", "new@example.com", 4, Decimal("120.50"), ["vip", "newsletter"], "Leeds"),
        ("c2", "b@example.com", None, None, None, None),
    ]

    destination.send("remove", [Record("c2", {})], "b3")
    destination.send("erase", [Record("c1", {}), Record("unknown", {})], "b4")
    assert query(target_database, f"select count(*) from exports.{table_name}") == [(0,)]


def test_duplicate_keys_in_one_batch_keep_the_last(
    destination: PostgresTableDestination, target_database: PostgresServer, table_name: str
) -> None:
    batch = [Record("c1", {"email": "old@example.com"}), Record("c1", {"email": "new@example.com"})]
    assert destination.send("upsert", batch, "b1").rejected == []
    assert query(target_database, f"select email from exports.{table_name}") == [
        ("new@example.com",)
    ]


def test_insert_appends_and_a_replayed_batch_adds_nothing(
    destination: PostgresTableDestination, target_database: PostgresServer, table_name: str
) -> None:
    events = [Record("e1", {"event": "signup"}), Record("e2", {"event": "order"})]
    destination.send("insert", events, "run1-b1")
    destination.send("insert", events, "run1-b1")
    destination.send("insert", [Record("e1", {"event": "signup"})], "run2-b1")
    assert query(
        target_database,
        f"select customer_id, onefold_batch_key from exports.{table_name} order by 1, 2",
    ) == [("e1", "run1-b1"), ("e1", "run2-b1"), ("e2", "run1-b1")]

    with pytest.raises(DestinationUnavailable, match="created for insert \\(append\\) syncs"):
        destination.send("upsert", events, "run3-b1")


def test_a_row_that_does_not_fit_is_rejected_alone(
    destination: PostgresTableDestination, target_database: PostgresServer, table_name: str
) -> None:
    destination.send("upsert", [Record("c1", {"orders_count": 1})], "b1")
    result = destination.send(
        "upsert",
        [
            Record("c2", {"orders_count": 2}),
            Record("c3", {"orders_count": "three, secret"}),
            Record("c4", {"orders_count": 4, "customer_id": "clash"}),
        ],
        "b2",
    )
    rejected = {rejection.key: rejection.error for rejection in result.rejected}
    assert set(rejected) == {"c3", "c4"}
    assert "INVALID_TEXT_REPRESENTATION" in rejected["c3"]
    assert "secret" not in rejected["c3"]
    assert "clashes with a column Onefold manages" in rejected["c4"]
    assert query(
        target_database, f"select customer_id, orders_count from exports.{table_name} order by 1"
    ) == [("c1", 1), ("c2", 2)]


def test_remove_before_any_upsert_creates_nothing(
    destination: PostgresTableDestination, target_database: PostgresServer, table_name: str
) -> None:
    assert destination.send("erase", [Record("c1", {})], "b1").rejected == []
    assert column_types(target_database, table_name) == {}


def test_a_dropped_connection_is_unavailable_then_reconnects(
    destination: PostgresTableDestination, target_database: PostgresServer, table_name: str
) -> None:
    destination.send("upsert", [Record("c1", {"email": "a@example.com"})], "b1")
    query(
        target_database,
        "select pg_terminate_backend(pid) from pg_stat_activity "
        "where application_name = 'onefold sync crm_export'",
    )
    with pytest.raises(DestinationUnavailable, match="sync 'crm_export'"):
        destination.send("upsert", [Record("c2", {"email": "b@example.com"})], "b2")
    destination.send("upsert", [Record("c2", {"email": "b@example.com"})], "b2")
    assert query(target_database, f"select count(*) from exports.{table_name}") == [(2,)]


def test_an_unreachable_server_is_unavailable_without_leaking_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRM_EXPORT_PASSWORD", "s3cret-value")
    settings = {
        "host": "127.0.0.1",
        "port": free_port(),
        "user": "writer",
        "database": "crm",
        "table": "customers",
        "password_env": "CRM_EXPORT_PASSWORD",
        "connect_timeout_seconds": 2,
    }
    destination = create_destination("crm_export", settings)
    with pytest.raises(DestinationUnavailable) as raised:
        destination.send("upsert", [Record("c1", {})], "b1")
    assert "cannot connect to PostgreSQL at 127.0.0.1" in str(raised.value)
    assert "s3cret-value" not in str(raised.value)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"host": "h", "user": "u", "database": "d"}, "destination.table: field required"),
        (
            {"host": "h", "user": "u", "database": "d", "table": "t" * 64},
            "destination.table: must be 1 to 63 bytes",
        ),
        (
            {"host": "h", "user": "u", "database": "d", "table": "t", "password_env": "NOPE_X"},
            "destination.password_env: environment variable NOPE_X is not set",
        ),
    ],
)
def test_settings_errors_name_the_sync_and_field(
    settings: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOPE_X", raising=False)
    with pytest.raises(ConfigError) as raised:
        create_destination("crm_export", settings)
    assert str(raised.value).startswith("sync 'crm_export': ")
    assert message in str(raised.value)
