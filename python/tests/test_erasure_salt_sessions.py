"""The erasure salt reaches the warehouse session and no other PostgreSQL server.

dbt-postgres needs the salt in PGOPTIONS, which libpq sends to every server a process
connects to. Onefold's own connections pass an explicit libpq `options` instead: the
warehouse's carries the salt from DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT, a sync
destination's is PGOPTIONS without it.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg2
import pytest

from onefold.erasure.salt import Salt, connect_salted
from onefold.erasure.session_salt import (
    POSTGRES_SETTING,
    SALT_ENV,
    libpq_option,
    warehouse_options,
    without_salt,
)
from onefold.sync.destinations.base import Record
from onefold.sync.destinations.postgres_table import create_destination
from onefold.testing.postgres import PostgresServer, create_database
from onefold.warehouse import connect

SALT = "sessions-test-salt-0a1b2c3d4e5f"
SALT_SETTING = f"current_setting('{POSTGRES_SETTING}', true)"
SALT_QUERY = f"select {SALT_SETTING}"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("", ""),
        (f"-c {POSTGRES_SETTING}={SALT}", ""),
        (f"-c{POSTGRES_SETTING}={SALT}", ""),
        (f"--onefold.erasure-salt={SALT}", ""),
        (f"-c ONEFOLD.ERASURE_SALT={SALT}", ""),
        (
            f"-c statement_timeout=5s  -c {POSTGRES_SETTING}=a\\ b\\\\c -c search_path=x\\ y",
            "-c statement_timeout=5s -c search_path=x\\ y",
        ),
        ("-c onefold.other=1 --work-mem=4MB", "-c onefold.other=1 --work-mem=4MB"),
    ],
)
def test_without_salt_removes_only_the_salt_setting(options: str, expected: str) -> None:
    assert without_salt(options) == expected


def test_warehouse_options_replace_an_inherited_salt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGOPTIONS", f"-c {POSTGRES_SETTING}=inherited-salt -c jit=off")
    assert warehouse_options(SALT) == f"-c jit=off {libpq_option(POSTGRES_SETTING, SALT)}"
    assert warehouse_options(None) == "-c jit=off"


def _session_settings(server: PostgresServer, **connect: Any) -> tuple[Any, ...]:
    connection = psycopg2.connect(
        host=server.host, port=server.port, user=server.user, dbname=server.database, **connect
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"{SALT_QUERY}, current_setting('statement_timeout')")
            return tuple(cursor.fetchone() or ())
    finally:
        connection.close()


@pytest.mark.postgres
def test_the_salt_reaches_the_warehouse_session_but_not_a_postgres_destination(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse_db = create_database(postgres_server, f"onefold_wh_{uuid.uuid4().hex[:8]}")
    crm = create_database(postgres_server, f"onefold_crm_{uuid.uuid4().hex[:8]}")
    for key, value in warehouse_db.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv(SALT_ENV, SALT)
    # What dbt-postgres needs, process-wide, plus an unrelated setting that must survive.
    monkeypatch.setenv("PGOPTIONS", f"-c {POSTGRES_SETTING}={SALT} -c statement_timeout=61s")
    assert _session_settings(crm) == (SALT, "61s")  # what libpq alone would send

    # The destination's owner records what every session writing its table carries.
    connection = psycopg2.connect(
        host=crm.host, port=crm.port, user=crm.user, dbname=crm.database, options=""
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(
            "create schema exports; "
            "create table public.captured (salt text, statement_timeout text, who text); "
            "create table exports.contacts (customer_id text primary key, tier text, "
            "onefold_synced_at timestamptz not null default now()); "
            "create function public.capture() returns trigger language plpgsql as $$ begin "
            f"insert into public.captured values ({SALT_SETTING}, "
            "current_setting('statement_timeout'), current_setting('application_name')); "
            "return new; end $$; "
            "create trigger capture before insert or update on exports.contacts "
            "for each row execute function public.capture()"
        )
    destination = create_destination(
        "crm_writer",
        {
            "host": crm.host,
            "port": crm.port,
            "user": crm.user,
            "database": crm.database,
            "schema": "exports",
            "table": "contacts",
            "key_column": "customer_id",
        },
    )
    try:
        result = destination.send("upsert", [Record("cus_1", {"tier": "gold"})], "batch-1")
        assert not result.rejected
        result = destination.send("erase", [Record("cus_1", {"tier": "gold"})], "erase:E-1")
        assert not result.rejected
    finally:
        destination.close()
    with connection.cursor() as cursor:
        cursor.execute("select salt, statement_timeout, who from public.captured")
        captured = cursor.fetchall()
    connection.close()
    # The salt stayed home; the rest of PGOPTIONS still applies.
    assert captured == [(None, "61s", "onefold sync crm_writer")]

    # The warehouse sessions have it: from the environment's secret, not from PGOPTIONS.
    for opened in (connect("postgres"), connect_salted("postgres", Salt(SALT))):
        try:
            assert opened.query(SALT_QUERY) == [(SALT,)]
            assert opened.query("select current_setting('statement_timeout')") == [("61s",)]
        finally:
            opened.close()
    monkeypatch.setenv("PGOPTIONS", "-c onefold.erasure_salt=not-the-secret-salt")
    opened = connect("postgres")
    try:
        assert opened.query(SALT_QUERY) == [(SALT,)]
    finally:
        opened.close()
    monkeypatch.delenv("PGOPTIONS")
    opened = connect("postgres")
    try:
        assert opened.query(SALT_QUERY) == [(SALT,)]
    finally:
        opened.close()
