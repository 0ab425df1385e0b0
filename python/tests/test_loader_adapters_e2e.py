"""The package (as the root project) built from loader-shaped typed tables (issue 13, item 4).

The fixtures under integration_tests/seeds/<loader>/ (Segment warehouse tables, Fivetran
Shopify and HubSpot tables, typed as the loaders land them) are loaded into their own
schemas; the package is built with all three adapters selected, on DuckDB and
PostgreSQL. Staged rows, values and cross-source identity links are checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from onefold.testing.dbt import PACKAGE_DIR, run_dbt
from onefold.testing.loader_fixtures import fixture_rows, load_loader_fixtures
from onefold.testing.raw import write_raw_tables
from onefold.testing.warehouse import connect_with, target_environment

pytestmark = pytest.mark.e2e

LOADERS = {"segment": "segment", "shopify_fivetran": "shopify", "hubspot_fivetran": "hubspot"}
VARS = (
    "{onefold__web_loader: segment, onefold__shop_loader: shopify_fivetran, "
    "onefold__crm_loader: hubspot_fivetran, "
    "onefold__segment_event_tables: [order_completed, product_added], "
    # A host declares its own segments (the package declares none).
    "onefold__segments: {buyers: {description: Ordered at least once., "
    "owner: growth@shop.test, predicate: has_ordered, purposes: []}}}"
)
STAGING = "onefold_staging"


class Built:
    def __init__(self, target: str, env: dict[str, str], target_path: Path) -> None:
        self.target = target
        self.env = env
        self.target_path = target_path
        self.failures: list[str] = []

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        warehouse = connect_with(self.env)
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
    root = tmp_path_factory.mktemp(f"loaders-{request.param}")
    env = target_environment(
        request.param, root, "onefold_loaders", lambda: request.getfixturevalue("postgres_server")
    )
    warehouse = connect_with(env)
    try:
        # The sources without a loader (pos, email, consent, privacy) stay native and empty.
        write_raw_tables(warehouse, {}, dt.datetime(2026, 11, 20))
        for loader, schema in LOADERS.items():
            load_loader_fixtures(warehouse, loader, schema)
    finally:
        warehouse.close()
    built = Built(request.param, env, root / "target")
    result = run_dbt(
        ["build", "--vars", VARS],
        env,
        built.target_path,
        expect_success=False,
        project_dir=PACKAGE_DIR,
    )
    built.failures = [
        f"{getattr(r.node, 'unique_id', '?')}: {r.status} {r.message}"
        for r in result.results
        if str(r.status) not in ("success", "pass", "skipped", "no-op")
    ]
    if not result.success and not result.results:
        built.failures.append("dbt build failed before running nodes")
    yield built


def test_every_model_builds_and_every_data_test_passes(built: Built) -> None:
    """Reconciliation included: every adapter row is staged, quarantined or a duplicate."""
    assert built.failures == []


def test_segment_calls_stage_with_their_type_from_the_table(built: Built) -> None:
    counts = dict(
        built.query(f"select event_type, count(*) from {STAGING}.stg_web__events group by 1")
    )
    assert counts == {
        "identify": len(fixture_rows("segment", "identifies")),
        "page": len([r for r in fixture_rows("segment", "pages") if r["id"]]),
        "track": len({r["id"] for r in fixture_rows("segment", "tracks")}),
    }
    # The page that landed without an id is quarantined; the redelivered track is a duplicate.
    assert built.query(
        f"select quarantine_reason, quarantine_column from {STAGING}.stg_web__events_quarantine"
    ) == [("missing_key", "message_id")]
    assert built.query(f"select count(*) from {STAGING}.base_web__events where is_duplicate") == [
        (1,)
    ]


def test_segment_values_come_from_the_flattened_columns(built: Built) -> None:
    order = built.query(
        "select event_name, order_id, revenue, currency, ip_address, page_path, library_name,"
        f" original_at, occurred_at from {STAGING}.stg_web__events where event_id = 'tr-005'"
    )
    assert order == [
        (
            "Order Completed",  # tracks.event_text, not the table name order_completed
            "9100",
            Decimal("79.80"),  # order_completed.revenue, numeric
            "USD",
            "203.0.113.10",
            "/",
            "analytics.js",
            dt.datetime(2026, 11, 2, 9, 9),  # timestamptz as UTC
            dt.datetime(2026, 11, 2, 9, 9, 1),  # Segment's clock correction
        )
    ]
    added = built.query(
        f"select event_name, product_id, price from {STAGING}.stg_web__events "
        "where event_id = 'tr-003'"
    )
    assert added == [("Product Added", "prod-100", Decimal("39.90"))]
    identify = built.query(
        "select user_id, anonymous_id, trait_email, trait_phone, trait_first_name, trait_last_name,"
        f" loaded_at from {STAGING}.stg_web__events where event_id = 'id-004'"
    )
    assert identify == [
        (
            "u-1001",
            "anon-0001",
            "ana.silva@fastmail.com",
            "+14158672301",
            "Ana",
            "Silva",
            dt.datetime(2026, 11, 2, 9, 10, 3),  # uuid_ts, a timestamp without zone
        )
    ]
    app = built.query(
        f"select distinct device_id, is_app_event, library_name from {STAGING}.stg_web__events "
        "where anonymous_id = 'anon-0006'"
    )
    assert app == [("dev-0006", True, "analytics-ios")]
    page = built.query(
        f"select page_title, page_url from {STAGING}.stg_web__events where event_id = 'pg-002'"
    )
    assert page == [("Linen shirt", "https://shop.example.com/products/linen-shirt")]


def test_shopify_customers_orders_and_lines_stage_from_fivetran_tables(built: Built) -> None:
    customers = built.query(
        "select shop_customer_id, email, address_line_1, city, postcode, country_code,"
        f" has_accepted_marketing from {STAGING}.stg_shop__customers order by 1"
    )
    assert len(customers) == 7, "the customer Fivetran marks deleted is left out"
    assert customers[0] == (
        "7001000001",
        "ana.silva@fastmail.com",
        "10 Market Street",
        "San Francisco",
        "94100",
        "US",
        True,  # email_marketing_consent_state = subscribed
    )
    assert customers[1][2] == "11 Market Street", "the default address, not the old one"
    assert customers[1][6] is False  # not_subscribed
    orders = built.query(
        "select order_id, shop_customer_id, email, order_number, total_price, subtotal_price,"
        f" total_refunded, is_cancelled from {STAGING}.stg_shop__orders order by 1"
    )
    order_ids = [row[0] for row in orders]
    assert len(orders) == 14 and "5509000002" not in order_ids and "5509000003" not in order_ids
    assert orders[0] == (
        "5501000000",
        "7001000001",
        "ana.silva@fastmail.com",
        "#1001",
        Decimal("79.80"),
        Decimal("74.80"),
        Decimal("0"),
        False,
    )
    assert next((r[0], r[1]) for r in orders if r[0] == "5509000001") == ("5509000001", None)
    assert next(r[7] for r in orders if r[0] == "5501000051") is True
    lines = built.query(
        "select line_id, order_id, sku, title, quantity, unit_price"
        f" from {STAGING}.stg_shop__order_lines order by 1"
    )
    assert len(lines) == 6
    assert lines[1] == (
        "6601000002", "5501000000", "SKU-10014", "Wool Socks 3-Pack", 2, Decimal("22.45")
    )  # fmt: skip
    # A line without a SKU is known by its variant.
    assert next(r[2] for r in lines if r[0] == "6601000020") == "4400000019"


def test_hubspot_contacts_stage_from_property_columns(built: Built) -> None:
    contacts = built.query(
        "select crm_contact_id, email, first_name, lifecycle_stage, birth_date, country_code,"
        f" is_deleted from {STAGING}.stg_crm__contacts order by 1"
    )
    assert len(contacts) == 7
    assert contacts[0] == (
        "501",
        "ana.silva@fastmail.com",
        "Ana",
        "subscriber",
        dt.date(1970, 1, 10),
        "US",
        False,
    )
    assert ("599", True) in [(row[0], row[6]) for row in contacts]


def test_identity_links_the_person_across_the_three_loaders(built: Built) -> None:
    rows = built.query(
        "select identifier_type, normalized_value from onefold_marts.identity_map "
        "where customer_id = (select customer_id from onefold_marts.identity_map "
        "where identifier_type = 'email' and normalized_value = 'ana.silva@fastmail.com')"
    )
    found = set(rows)
    assert {
        ("user_id", "u-1001"),
        ("anonymous_id", "anon-0001"),
        ("shop_customer_id", "7001000001"),
        ("crm_contact_id", "501"),
    } <= found
