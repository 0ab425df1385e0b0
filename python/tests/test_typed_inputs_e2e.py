"""Staging accepts typed raw columns as well as text (issue 13, item 3), on both targets.

The same rows are loaded twice: as text (how the generator lands them) and as typed
columns, the way loaders land them: timestamps with and without time zone, dates,
numerics, doubles, integers, booleans, JSON / jsonb and (DuckDB) a STRUCT. Staging is
built from the text tables, then from the typed ones given through the
`onefold__<table>_relation` vars; the staged rows and the quarantine verdicts must be
the same.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onefold.testing.dbt import PACKAGE_DIR, run_dbt
from onefold.testing.raw import write_raw_tables
from onefold.testing.warehouse import connect_with, target_environment

pytestmark = pytest.mark.e2e

LOADED_AT = dt.datetime(2026, 10, 20, 12, 0)
TZ = "timestamp with time zone"
UTC_NAIVE = "(cast({c} as timestamp with time zone) at time zone 'UTC')"


def web_event(message_id: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "anonymous_id": "anon-7",
        "type": "track",
        "event": "Product Added",
        "original_timestamp": "2026-10-01T12:00:00+02:00",
        "sent_at": "2026-10-01T10:00:02Z",
        "received_at": "2026-10-01T10:00:05Z",
        "context": json.dumps(
            {
                "ip": "198.51.100.7",
                "userAgent": "Mozilla/5.0",
                "page": {"url": "https://shop.test/p", "path": "/p", "referrer": "https://a.test/"},
                "device": {"id": "d-7"},
                "library": {"name": "analytics.js"},
            }
        ),
        "properties": json.dumps({"product_id": "p-1", "price": 19.9, "currency": "eur"}),
        "traits": json.dumps({"email": "kim@shop.test", "first_name": "Kim"}),
        **extra,
    }


ROWS: dict[str, list[dict[str, Any]]] = {
    "web_events": [
        web_event("w-1"),
        web_event("w-2", type="identify", event=None, properties="{}"),
        web_event("w-3", type="page", event=None, context='{"page": {"path": "/"}}'),
        web_event(None),  # missing_key in both forms
    ],
    "shop_customers": [
        {
            "customer_id": "c-1",
            "email": "kim@shop.test",
            "first_name": "Kim",
            "accepts_marketing": "true",
            "created_at": "2026-08-01T09:00:00Z",
            "updated_at": "2026-09-01T10:00:00+01:00",
        },
        {
            "customer_id": "c-2",
            "email": "lou@shop.test",
            "accepts_marketing": "false",
            "updated_at": "2026-09-02T10:00:00Z",
        },
    ],
    "shop_orders": [
        {
            "order_id": "o-1",
            "customer_id": "c-1",
            "email": "kim@shop.test",
            "currency": "EUR",
            "total_price": "20.50",
            "subtotal_price": "18.25",
            "line_items_count": "2",
            "created_at": "2026-09-10T10:00:00Z",
            "updated_at": "2026-09-10T11:00:00Z",
            "cancelled_at": "2026-09-11T08:30:00+02:00",
        },
        {  # NaN in a double column: invalid_number in both forms
            "order_id": "o-nan",
            "currency": "EUR",
            "total_price": "5.00",
            "subtotal_price": "NaN",
            "created_at": "2026-09-10T10:00:00Z",
            "updated_at": "2026-09-10T11:00:00Z",
        },
    ],
    "crm_contacts": [
        {
            "contact_id": "k-1",
            "email": "kim@shop.test",
            "birth_date": "1980-02-03",
            "is_deleted": "false",
            "created_at": "2026-07-01T10:00:00Z",
            "updated_at": "2026-09-01T10:00:00Z",
        },
        {
            "contact_id": "k-2",
            "email": "old@shop.test",
            "birth_date": "1850-06-01",  # date_out_of_range in both forms
            "is_deleted": "true",
            "updated_at": "2026-09-01T10:00:00Z",
        },
    ],
}

# Per raw table: column -> SQL over the text column, per target ("*": both).
DUCKDB_CONTEXT = (
    'json_transform(context, \'{"ip": "VARCHAR", "userAgent": "VARCHAR", '
    '"page": {"url": "VARCHAR", "path": "VARCHAR", "referrer": "VARCHAR"}, '
    '"device": {"id": "VARCHAR"}, "library": {"name": "VARCHAR"}}\')'
)
TYPED: dict[str, dict[str, dict[str, str]]] = {
    "web_events": {
        "*": {
            "original_timestamp": f"cast(original_timestamp as {TZ})",
            "sent_at": f"cast(sent_at as {TZ})",
            "received_at": UTC_NAIVE.format(c="received_at"),
        },
        "duckdb": {
            "context": DUCKDB_CONTEXT,
            "properties": "cast(properties as json)",
            "traits": "cast(traits as json)",
        },
        "postgres": {
            "context": "cast(context as jsonb)",
            "properties": "cast(properties as json)",
            "traits": "cast(traits as jsonb)",
        },
    },
    "shop_customers": {
        "*": {
            "accepts_marketing": "cast(accepts_marketing as boolean)",
            "created_at": UTC_NAIVE.format(c="created_at"),
            "updated_at": f"cast(updated_at as {TZ})",
        }
    },
    "shop_orders": {
        "*": {
            "total_price": "cast(total_price as numeric(18, 2))",
            "subtotal_price": "cast(subtotal_price as double precision)",
            "line_items_count": "cast(line_items_count as integer)",
            "created_at": f"cast(created_at as {TZ})",
            "updated_at": UTC_NAIVE.format(c="updated_at"),
            "cancelled_at": f"cast(cancelled_at as {TZ})",
        }
    },
    "crm_contacts": {
        "*": {
            "birth_date": "cast(birth_date as date)",
            "is_deleted": "cast(is_deleted as boolean)",
            "created_at": UTC_NAIVE.format(c="created_at"),
            "updated_at": f"cast(updated_at as {TZ})",
        }
    },
}
STAGED = {
    "stg_web__events": "event_id",
    "stg_shop__customers": "shop_customer_id",
    "stg_shop__orders": "order_id",
    "stg_crm__contacts": "crm_contact_id",
}
QUARANTINED = {
    "stg_web__events_quarantine": "message_id",
    "stg_shop__orders_quarantine": "order_id",
    "stg_crm__contacts_quarantine": "contact_id",
    "stg_shop__customers_quarantine": "customer_id",
}


def typed_copy_sql(target: str, table: str, columns: list[str]) -> str:
    casts = {**TYPED[table].get("*", {}), **TYPED[table].get(target, {})}
    select = ", ".join(f"{casts.get(column, column)} as {column}" for column in columns)
    return f"create table raw_typed.{table} as select {select} from raw.{table}"


def snapshot(env: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    warehouse = connect_with(env)
    try:
        found = {
            model: warehouse.query(f"select * from onefold_staging.{model} order by {key}")
            for model, key in STAGED.items()
        }
        for model, key in QUARANTINED.items():
            found[model] = warehouse.query(
                f"select cast({key} as varchar(64)), quarantine_reason, quarantine_column"
                f" from onefold_staging.{model} order by 1"
            )
        return found
    finally:
        warehouse.close()


# PostgreSQL's leg is `make extended` (CI's time budget): test_e2e_build and
# test_erasure_postgres_e2e build on PostgreSQL in `make test`.
@pytest.fixture(
    scope="module",
    params=["duckdb", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.extended])],
)
def staged(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, Any], dict[str, Any], Path, dict[str, str]]]:
    """(staged from text, staged from typed columns, dbt target path, environment)."""
    root = tmp_path_factory.mktemp(f"typed-{request.param}")
    env = target_environment(
        request.param, root, "onefold_typed", lambda: request.getfixturevalue("postgres_server")
    )
    warehouse = connect_with(env)
    try:
        write_raw_tables(warehouse, ROWS, LOADED_AT)
        warehouse.execute("create schema if not exists raw_typed")
        for table in TYPED:
            columns = [
                row[0]
                for row in warehouse.query(
                    "select column_name from information_schema.columns where table_schema = "
                    f"'raw' and table_name = '{table}' order by ordinal_position"
                )
            ]
            warehouse.execute(typed_copy_sql(request.param, table, columns))
    finally:
        warehouse.close()
    target_path = root / "target"
    run_dbt(["seed"], env, target_path, project_dir=PACKAGE_DIR)
    run_dbt(["run", "--select", "staging"], env, target_path, project_dir=PACKAGE_DIR)
    from_text = snapshot(env)
    typed_vars = (
        "{" + ", ".join(f"onefold__{table}_relation: raw_typed.{table}" for table in TYPED) + "}"
    )
    run_dbt(
        ["build", "--select", "staging", "--vars", typed_vars],
        env,
        target_path,
        project_dir=PACKAGE_DIR,
    )
    from_typed = snapshot(env)
    yield from_text, from_typed, target_path, env


def test_typed_columns_stage_the_same_rows_as_text(staged: tuple[Any, Any, Path, Any]) -> None:
    from_text, from_typed, _, _ = staged
    assert from_text["stg_web__events"], "the text build staged nothing"
    for model in STAGED:
        assert from_typed[model] == from_text[model], model


def test_typed_columns_get_the_same_quarantine_verdicts(staged: tuple[Any, Any, Path, Any]) -> None:
    from_text, from_typed, _, _ = staged
    assert from_text["stg_shop__orders_quarantine"] == [
        ("o-nan", "invalid_number", "subtotal_price")
    ]
    assert from_text["stg_crm__contacts_quarantine"] == [("k-2", "date_out_of_range", "birth_date")]
    for model in QUARANTINED:
        assert from_typed[model] == from_text[model], model


def test_a_relation_var_replaces_the_package_source_in_staging(
    staged: tuple[Any, Any, Path, Any],
) -> None:
    """The package source stays enabled (its meta.onefold.erasure screens the rows staging
    reads instead, docs/erasure.md) but no model reads it: the base model reads the var's
    table."""
    _, _, target_path, _ = staged
    manifest = json.loads((target_path / "manifest.json").read_text())
    for table, source in [
        ("web_events", "web"),
        ("shop_customers", "shop"),
        ("shop_orders", "shop"),
        ("crm_contacts", "crm"),
    ]:
        package_source = f"source.onefold.{source}.{table}"
        assert package_source in manifest["sources"]
        assert not [
            node["unique_id"]
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and package_source in node["depends_on"]["nodes"]
        ]
    assert "source.onefold.pos.pos_transactions" in manifest["sources"]


def test_the_typed_tables_really_are_typed(staged: tuple[Any, Any, Path, Any]) -> None:
    *_, env = staged
    warehouse = connect_with(env)
    try:
        types = {
            (table, column): data_type.lower()
            for table, column, data_type in warehouse.query(
                "select table_name, column_name, data_type from information_schema.columns"
                " where table_schema = 'raw_typed'"
            )
        }
    finally:
        warehouse.close()
    assert types[("web_events", "original_timestamp")] == "timestamp with time zone"
    assert types[("web_events", "received_at")].startswith("timestamp")
    assert types[("web_events", "received_at")] != "timestamp with time zone"
    assert types[("web_events", "context")] in ("jsonb", "struct") or types[
        ("web_events", "context")
    ].startswith("struct")
    assert types[("web_events", "properties")] == "json"
    assert types[("shop_orders", "total_price")].startswith(("numeric", "decimal"))
    assert types[("shop_orders", "subtotal_price")] in ("double precision", "double")
    assert types[("shop_orders", "line_items_count")] == "integer"
    assert types[("shop_customers", "accepts_marketing")] == "boolean"
    assert types[("crm_contacts", "birth_date")] == "date"
