"""Malformed, late and oversized input found by outside testing (issue 12), on both targets.

Crafted raw rows only, so a build takes seconds. The same rows must give the same
quarantine reasons on DuckDB and PostgreSQL; late-loaded rows must reach the
incremental marts; rows loaded "in the future" are quarantined and counted; and the BI
role reads a PII-free copy of the marts while PII needs its own role.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from onefold.testing.dbt import WITHOUT_UNIT_TESTS, run_dbt
from onefold.testing.raw import write_raw_tables
from onefold.testing.warehouse import connect_with, target_environment
from onefold.warehouse import Warehouse

pytestmark = pytest.mark.e2e

LOADED_AT = dt.datetime(2026, 10, 20, 12, 0)
LATE_LOADED_AT = dt.datetime(2026, 10, 1, 12, 0)  # far older than the 3-day lookback
NEXT_LOADED_AT = dt.datetime(2026, 10, 21, 12, 0)
FUTURE_LOADED_AT = dt.datetime(2099, 1, 1)
SPECIAL_TIMESTAMPS = ["yesterday", "today", "now", "tomorrow", "epoch", "infinity", "-infinity"]
BAD_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e309", "1e20", "99999999999999999"]
ONE_MEGABYTE = "x" * 1_000_000

Rows = dict[str, list[dict[str, Any]]]


def web_event(
    message_id: str, at: str, anonymous_id: str = "anon-1", **extra: Any
) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "anonymous_id": anonymous_id,
        "type": "page",
        "original_timestamp": at,
        "context": '{"page": {"path": "/"}}',
        "properties": "{}",
        "traits": "{}",
        **extra,
    }


def order(order_id: str, total: str, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer_id": "c-ok",
        "email": "ok@shop.test",
        "currency": "EUR",
        "total_price": total,
        "created_at": "2026-09-10T10:00:00Z",
        "updated_at": "2026-09-10T10:00:00Z",
        **extra,
    }


def email_event(event_id: str, at: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "email_address": "ok@shop.test",
        "event_type": "open",
        "occurred_at": at,
        **extra,
    }


def contact(contact_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "contact_id": contact_id,
        "email": f"{contact_id}@crm.test",
        "updated_at": "2026-09-01T10:00:00Z",
        **extra,
    }


FIRST_LOAD: Rows = {
    "pos_transactions": [
        {
            "transaction_id": f"t-bad-{i}",
            "amount": amount,
            "currency": "EUR",
            "transacted_at": "2026-09-05T10:00:00Z",
        }
        for i, amount in enumerate(BAD_NUMBERS)
    ]
    + [
        {
            "transaction_id": "t-ok",
            "phone": "+14155550100",
            "amount": "12.50",
            "currency": "EUR",
            "transacted_at": "2026-09-05T10:00:00Z",
        }
    ],
    "shop_orders": [order(f"o-bad-{i}", total) for i, total in enumerate(BAD_NUMBERS)]
    + [order("o-ok", "20.00")],
    "web_events": [web_event(f"w-special-{word}", word) for word in SPECIAL_TIMESTAMPS]
    + [
        web_event("w-1", "2026-09-10T10:00:00Z"),
        # One message delivered twice, once with a padded id: one event, one duplicate.
        web_event("w-pad", "2026-09-10T10:05:00Z"),
        web_event(" w-pad ", "2026-09-10T10:05:00Z", _loaded_at=NEXT_LOADED_AT),
    ],
    "email_events": [email_event(f"e-special-{word}", word) for word in SPECIAL_TIMESTAMPS]
    + [email_event("e-1", "2026-09-10T10:00:00Z")],
    "shop_customers": [
        {"customer_id": "c-ok", "email": "ok@shop.test", "updated_at": "2026-09-01T10:00:00Z"},
        # The same customer, its key padded with whitespace and updated later.
        {"customer_id": " c-pad", "email": "pad@shop.test", "updated_at": "2026-09-01T10:00:00Z"},
        {"customer_id": "c-pad ", "email": "pad@shop.test", "updated_at": "2026-09-02T10:00:00Z"},
        {
            "customer_id": "c-huge",
            "email": "huge@shop.test",
            "first_name": ONE_MEGABYTE,
            "updated_at": "2026-09-01T10:00:00Z",
        },
        {
            "customer_id": "c-marketing",
            "email": "m@shop.test",
            "accepts_marketing": "sometimes",
            "updated_at": "2026-09-01T10:00:00Z",
        },
    ],
    "crm_contacts": [
        contact("k-ok", birth_date="1980-02-03", is_deleted="false", first_name="Kim"),
        contact("k-zero", birth_date="0000-00-00"),
        contact("k-max", birth_date="9999-12-31"),
        contact("k-old", birth_date="1850-06-01"),
        contact("k-maybe", is_deleted="maybe"),
    ],
    "consent_events": [
        {
            "consent_event_id": "ce-gpc",
            "identifier_type": "email",
            "identifier_value": "ok@shop.test",
            "purpose": "analytics",
            "status": "granted",
            "gpc": "perhaps",
            "occurred_at": "2026-09-01T10:00:00Z",
        }
    ],
}

# (quarantine model, raw key column, raw key) -> (reason, column)
EXPECTED_QUARANTINE: dict[tuple[str, str, str], tuple[str, str]] = {
    **{
        ("stg_pos__transactions_quarantine", "transaction_id", f"t-bad-{i}"): (
            "invalid_number",
            "amount",
        )
        for i in range(len(BAD_NUMBERS))
    },
    **{
        ("stg_shop__orders_quarantine", "order_id", f"o-bad-{i}"): (
            "invalid_number",
            "total_price",
        )
        for i in range(len(BAD_NUMBERS))
    },
    **{
        ("stg_web__events_quarantine", "message_id", f"w-special-{word}"): (
            "invalid_timestamp",
            "original_timestamp",
        )
        for word in SPECIAL_TIMESTAMPS
    },
    **{
        ("stg_email__events_quarantine", "event_id", f"e-special-{word}"): (
            "invalid_timestamp",
            "occurred_at",
        )
        for word in SPECIAL_TIMESTAMPS
    },
    ("stg_shop__customers_quarantine", "customer_id", "c-huge"): ("value_too_long", "first_name"),
    ("stg_shop__customers_quarantine", "customer_id", "c-marketing"): (
        "unexpected_value",
        "accepts_marketing",
    ),
    ("stg_crm__contacts_quarantine", "contact_id", "k-zero"): ("invalid_date", "birth_date"),
    ("stg_crm__contacts_quarantine", "contact_id", "k-max"): ("date_out_of_range", "birth_date"),
    ("stg_crm__contacts_quarantine", "contact_id", "k-old"): ("date_out_of_range", "birth_date"),
    ("stg_crm__contacts_quarantine", "contact_id", "k-maybe"): ("unexpected_value", "is_deleted"),
    ("stg_consent__events_quarantine", "consent_event_id", "ce-gpc"): ("unexpected_value", "gpc"),
}

# Rows that arrive after the first build: late ones (loaded long before the newest
# load already in the marts), a next batch, and rows whose loader clock says 2099.
SECOND_LOAD: Rows = {
    "web_events": [
        web_event("w-late", "2026-09-10T10:10:00Z", _loaded_at=LATE_LOADED_AT),
        web_event("w-next", "2026-09-11T10:00:00Z", _loaded_at=NEXT_LOADED_AT),
        web_event("w-future", "2026-09-11T11:00:00Z", _loaded_at=FUTURE_LOADED_AT),
    ],
    "email_events": [
        email_event("e-late", "2026-09-09T10:00:00Z", _loaded_at=LATE_LOADED_AT),
        email_event("e-future", "2026-09-09T11:00:00Z", _loaded_at=FUTURE_LOADED_AT),
    ],
    "shop_orders": [
        order("o-late", "30.00", _loaded_at=LATE_LOADED_AT),
        order("o-future", "40.00", _loaded_at=FUTURE_LOADED_AT),
    ],
    "pos_transactions": [
        {
            "transaction_id": "t-late",
            "amount": "5.00",
            "currency": "EUR",
            "transacted_at": "2026-09-06T10:00:00Z",
            "_loaded_at": LATE_LOADED_AT,
        }
    ],
}
# After the second load, one more batch: a row loaded in 2099 must not stop it arriving.
THIRD_LOAD: Rows = {
    "web_events": [web_event("w-third", "2026-09-12T10:00:00Z", _loaded_at=NEXT_LOADED_AT)],
}


def combine(*parts: Rows) -> Rows:
    rows: Rows = {}
    for part in parts:
        for table, table_rows in part.items():
            rows.setdefault(table, []).extend(table_rows)
    return rows


@dataclass
class Built:
    target: str
    env: dict[str, str]
    target_path: Path
    failures: list[str] = field(default_factory=list)

    def run(self, *commands: list[str]) -> None:
        """Run dbt commands, recording (not raising) failing nodes, so each test below
        checks its own item even where a data test fails."""
        for command in commands:
            result = run_dbt(command, self.env, self.target_path, expect_success=False)
            self.failures += [
                f"dbt {command[0]}: {getattr(r.node, 'unique_id', '?')}: {r.status} {r.message}"
                for r in result.results
                if str(r.status) not in ("success", "pass", "skipped", "no-op")
            ]
            if not result.success and not result.results:
                self.failures.append(f"dbt {' '.join(command)} failed before running nodes")

    def connect(self) -> Warehouse:
        return connect_with(self.env)

    def load(self, rows: Rows) -> None:
        warehouse = self.connect()
        try:
            write_raw_tables(warehouse, rows, LOADED_AT)
        finally:
            warehouse.close()

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        warehouse = self.connect()
        try:
            return warehouse.query(statement)
        finally:
            warehouse.close()


# PostgreSQL's leg is `make extended` (CI's time budget): test_e2e_build and
# test_erasure_postgres_e2e build on PostgreSQL in `make test`.
@pytest.fixture(
    scope="module",
    params=["duckdb", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.extended])],
)
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    """The first load built in full (models and tests), then the later loads run."""
    root = tmp_path_factory.mktemp(f"bad-input-{request.param}")
    env = target_environment(
        request.param, root, "onefold_bad_input", lambda: request.getfixturevalue("postgres_server")
    )
    built = Built(request.param, env, root / "target")
    built.load(FIRST_LOAD)
    # run, then test: a failing data test does not stop the models after it being built.
    built.run(["seed"], ["run"], ["test", *WITHOUT_UNIT_TESTS])
    yield built


@pytest.fixture(scope="module")
def reloaded(built: Built) -> Built:
    """The late, future and next rows loaded and built incrementally (tests included)."""
    built.load(combine(FIRST_LOAD, SECOND_LOAD))
    built.run(["build", *WITHOUT_UNIT_TESTS])
    built.load(combine(FIRST_LOAD, SECOND_LOAD, THIRD_LOAD))
    built.run(["run", "--select", "staging", "marts.activity"])
    return built


def test_malformed_values_are_quarantined_with_reason_and_column(built: Built) -> None:
    found: dict[tuple[str, str, str], tuple[str, str]] = {}
    for model, key in {(model, key) for model, key, _ in EXPECTED_QUARANTINE}:
        for value, reason, column in built.query(
            f"select {key}, quarantine_reason, quarantine_column from onefold_staging.{model}"
        ):
            found[(model, key, value)] = (reason, column)
    assert found == EXPECTED_QUARANTINE


def test_no_nan_or_overflow_reaches_the_marts(built: Built) -> None:
    orders = built.query("select order_id, gross_amount from onefold_marts.orders order by 1")
    assert orders == [("o-ok", pytest.approx(20)), ("pos-t-ok", pytest.approx(12.5))]
    values = [row[0] for row in built.query("select lifetime_value from onefold_marts.customers")]
    assert values and all(value == value for value in values), values  # NaN != NaN


def test_keys_differing_only_by_whitespace_stage_once(built: Built) -> None:
    customers = built.query(
        "select shop_customer_id, updated_at from onefold_staging.stg_shop__customers "
        "where shop_customer_id = 'c-pad'"
    )
    assert customers == [("c-pad", dt.datetime(2026, 9, 2, 10))], "the later version wins"
    events = built.query(
        "select event_id from onefold_staging.stg_web__events where trim(event_id) = 'w-pad'"
    )
    assert events == [("w-pad",)], "the first delivery wins, its id trimmed"
    duplicates = built.query(
        "select count(*) from onefold_staging.base_shop__customers where is_duplicate"
    )
    assert duplicates == [(1,)]


def test_oversized_values_never_reach_customers(built: Built) -> None:
    longest = built.query("select max(length(first_name)) from onefold_marts.customers")[0][0]
    assert longest is None or longest <= 1024


def test_late_rows_reach_the_incremental_marts(reloaded: Built) -> None:
    orders = {row[0] for row in reloaded.query("select order_id from onefold_marts.orders")}
    assert {"o-late", "pos-t-late"} <= orders
    web = {row[0] for row in reloaded.query("select event_id from onefold_marts.web_activity")}
    assert {"w-late", "w-next", "w-third"} <= web
    assert "w-future" not in web
    email = {
        row[0] for row in reloaded.query("select email_event_id from onefold_marts.email_activity")
    }
    assert "e-late" in email and "e-future" not in email
    # w-1, w-pad and the late w-late (10:00, 10:05, 10:10) form one session of anon-1.
    sessions = reloaded.query(
        "select first_event_id, events_count from onefold_marts.web_sessions "
        "where anonymous_id = 'anon-1' order by started_at"
    )
    assert sessions == [("w-1", 3), ("w-next", 1), ("w-third", 1)]


def test_rows_loaded_in_the_future_are_quarantined_and_counted(reloaded: Built) -> None:
    for model, key, value in [
        ("stg_web__events_quarantine", "message_id", "w-future"),
        ("stg_email__events_quarantine", "event_id", "e-future"),
        ("stg_shop__orders_quarantine", "order_id", "o-future"),
    ]:
        rows = reloaded.query(
            f"select quarantine_reason, quarantine_column from onefold_staging.{model} "
            f"where {key} = '{value}'"
        )
        assert rows == [("loaded_in_future", "_loaded_at")], (model, value)


def test_every_model_builds_and_every_data_test_passes(reloaded: Built) -> None:
    """Reconciliation included: raw = staged + quarantined + duplicates + suppressed."""
    assert reloaded.failures == []


def test_incremental_marts_equal_a_full_refresh(reloaded: Built) -> None:
    marts = {
        "orders": "order_id",
        "web_activity": "event_id",
        "email_activity": "email_event_id",
        "web_sessions": "session_id",
    }
    before = {
        table: reloaded.query(f"select * from onefold_marts.{table} order by {key}")
        for table, key in marts.items()
    }
    run_dbt(
        ["run", "--full-refresh", "--select", "marts.activity"], reloaded.env, reloaded.target_path
    )
    for table, key in marts.items():
        after = reloaded.query(f"select * from onefold_marts.{table} order by {key}")
        assert after == before[table], table


def connect_as(env: dict[str, str], user: str) -> Any:
    import psycopg2

    return psycopg2.connect(
        host=env["ONEFOLD_PG_HOST"],
        port=int(env["ONEFOLD_PG_PORT"]),
        user=user,
        dbname=env["ONEFOLD_PG_DATABASE"],
    )


def test_bi_role_reads_pii_free_marts_and_pii_needs_its_own_role(built: Built) -> None:
    if built.target != "postgres":
        pytest.skip("roles and grants are a PostgreSQL feature; DuckDB has none")
    import psycopg2

    admin = connect_as(built.env, built.env["ONEFOLD_PG_USER"])
    admin.autocommit = True
    with admin.cursor() as cursor:
        # Login users that are members of the two nologin roles, as a BI tool would be.
        for user, role in [
            ("bad_input_bi", "onefold_reader"),
            ("bad_input_pii", "onefold_pii_reader"),
        ]:
            cursor.execute(f"drop role if exists {user}")
            cursor.execute(f"create role {user} login in role {role}")
    admin.close()

    bi = connect_as(built.env, "bad_input_bi")
    bi.autocommit = True
    try:
        with bi.cursor() as cursor:
            cursor.execute("select count(*) from onefold_marts_bi.customers")
            customers = cursor.fetchone()[0]
            assert customers > 0
            cursor.execute("select order_id from onefold_marts_bi.orders")
            assert {"o-ok", "pos-t-ok"} <= {row[0] for row in cursor.fetchall()}
            cursor.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'onefold_marts_bi' and table_name = 'customers'"
            )
            columns = {row[0] for row in cursor.fetchall()}
            assert {"customer_id", "lifetime_value", "country_code"} <= columns
            assert not columns & {"email", "phone", "first_name", "last_name", "birth_date"}
            with pytest.raises(psycopg2.errors.UndefinedColumn):
                cursor.execute("select email from onefold_marts_bi.customers")
            for statement in [
                "select email from onefold_marts.customers",
                "select count(*) from onefold_marts.identity_map",
                "select count(*) from raw.crm_contacts",
                "select count(*) from onefold_staging.stg_crm__contacts",
            ]:
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cursor.execute(statement)
    finally:
        bi.close()

    pii = connect_as(built.env, "bad_input_pii")
    pii.autocommit = True
    try:
        with pii.cursor() as cursor:
            cursor.execute("select count(*), count(email) from onefold_marts.customers")
            assert cursor.fetchone()[1] > 0
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("select count(*) from raw.crm_contacts")
    finally:
        pii.close()
