"""The demo-data generator, checked through the DuckDB warehouse it writes.

One small generation (module-scoped) answers most questions; determinism and scaling
generate a few more tiny ones. Counts that the noise log promises are checked exactly
against what is visible in the data; rates are checked within a tolerance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import phonenumbers
import pytest
from click.testing import CliRunner

from onefold.cli import main
from onefold.errors import ConfigError
from onefold.generator import GenerationReport, GeneratorConfig, NoiseRates, generate_demo_data
from onefold.generator.catalog import catalog
from onefold.settings import DuckDBSettings
from onefold.warehouse import DuckDBWarehouse

PERSONS = 2000
SEED = 3
END_DATE = dt.date(2026, 3, 1)
RATES = NoiseRates()

# table -> (record key, main event timestamp column)
TABLES = {
    "web_events": ("message_id", "original_timestamp"),
    "shop_customers": ("customer_id", "updated_at"),
    "shop_orders": ("order_id", "updated_at"),
    "crm_contacts": ("contact_id", "updated_at"),
    "pos_transactions": ("transaction_id", "transacted_at"),
    "email_events": ("event_id", "occurred_at"),
    "consent_events": ("consent_event_id", "occurred_at"),
    "erasure_requests": ("request_id", "received_at"),
    "shop_order_lines": ("line_id", "updated_at"),
}
TRUTH_TABLES = ("record_owners", "persons", "noise_log", "generation_runs")
EMAIL_COLUMNS = {  # tables whose column holds nothing but email addresses
    "shop_customers": "email",
    "shop_orders": "email",
    "crm_contacts": "email",
    "email_events": "email_address",
}


def _generate(
    path: Path, persons: int = PERSONS, seed: int = SEED, days: int = 365
) -> GenerationReport:
    warehouse = DuckDBWarehouse(DuckDBSettings(path=path))
    try:
        config = GeneratorConfig(persons=persons, seed=seed, end_date=END_DATE, days=days)
        return generate_demo_data(warehouse, config)
    finally:
        warehouse.close()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    path = tmp_path_factory.mktemp("generator") / "demo.duckdb"
    return path, _generate(path)


@pytest.fixture(scope="module")
def db(generated: tuple[Path, GenerationReport]) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(generated[0]), read_only=True)
    connection.execute("set TimeZone = 'UTC'")
    yield connection
    connection.close()


def _scalar(db: duckdb.DuckDBPyConnection, statement: str) -> int:
    return int(db.execute(statement).fetchall()[0][0])


def _logged(db: duckdb.DuckDBPyConnection, table: str, kind: str, column: str | None = None) -> int:
    column_filter = f" and column_name = '{column}'" if column else ""
    return _scalar(
        db,
        (
            "select count(*) from raw_truth.noise_log "
            f"where source_table = '{table}' and noise_kind = '{kind}'{column_filter}"
        ),
    )


def _distinct_rows(table: str) -> str:
    """One row per key: duplicate copies are identical apart from `_loaded_at`."""
    key = TABLES[table][0]
    return f"(select distinct on ({key}) * from raw.{table} order by {key}, _loaded_at)"


# --------------------------------------------------------------------------- shape


def test_every_table_is_written_with_text_columns(db: duckdb.DuckDBPyConnection) -> None:
    for table in TABLES:
        types = dict(
            db.execute(
                f"select column_name, data_type from information_schema.columns "
                f"where table_schema = 'raw' and table_name = '{table}'"
            ).fetchall()
        )
        assert types.pop("_loaded_at") == "TIMESTAMP", table
        assert set(types.values()) == {"VARCHAR"}, table
        assert _scalar(db, f"select count(*) from raw.{table}") > 0, table
    for table in TRUTH_TABLES:
        assert _scalar(db, f"select count(*) from raw_truth.{table}") > 0, table


def test_report_matches_written_rows(
    db: duckdb.DuckDBPyConnection, generated: tuple[Path, GenerationReport]
) -> None:
    report = generated[1]
    assert list(report.row_counts) == list(TABLES)
    for table, rows in report.row_counts.items():
        assert rows == _scalar(db, f"select count(*) from raw.{table}")
    assert report.noise_counts["duplicate"] == _scalar(
        db, "select count(*) from raw_truth.noise_log where noise_kind = 'duplicate'"
    )


def test_every_raw_record_has_exactly_one_owner(db: duckdb.DuckDBPyConnection) -> None:
    assert (
        _scalar(
            db,
            "select count(*) - count(distinct (source_table, record_key)) "
            "from raw_truth.record_owners",
        )
        == 0
    )
    assert (
        _scalar(
            db,
            "select count(*) from raw_truth.record_owners "
            "where person_id not in (select person_id from raw_truth.persons)",
        )
        == 0
    )
    for table, (key, _) in TABLES.items():
        missing = _scalar(
            db,
            (
                f"select count(*) from raw.{table} where {key} not in (select record_key "
                f"from raw_truth.record_owners where source_table = '{table}')"
            ),
        )
        owned = _scalar(
            db, f"select count(*) from raw_truth.record_owners where source_table = '{table}'"
        )
        assert missing == 0, table
        assert owned == _scalar(db, f"select count(distinct {key}) from raw.{table}"), table


def test_participation_is_realistic(db: duckdb.DuckDBPyConnection) -> None:
    def share(table: str) -> float:
        return (
            _scalar(
                db,
                f"select count(distinct person_id) from raw_truth.record_owners "
                f"where source_table = '{table}'",
            )
            / PERSONS
        )

    assert 0.85 <= share("web_events") <= 0.95
    assert 0.35 <= share("shop_customers") <= 0.45
    # 30% of people, plus every loyalty member (the card sign-up creates a contact).
    assert 0.42 <= share("crm_contacts") <= 0.52
    assert 0.55 <= share("email_events") <= 0.65
    guests = _scalar(
        db,
        "select count(*) filter (where customer_id is null) * 1000 / count(*) "
        "from (select distinct on (order_id) * from raw.shop_orders)",
    )
    assert 70 <= guests <= 130  # about one order in ten is a guest checkout
    registered = _scalar(
        db, "select count(distinct user_id) from raw.web_events where user_id like 'usr_%'"
    )
    assert 0.4 <= registered / PERSONS <= 0.55


def test_row_counts_scale_with_persons(
    tmp_path: Path, generated: tuple[Path, GenerationReport]
) -> None:
    small = _generate(tmp_path / "small.duckdb", persons=PERSONS // 4)
    for table, rows in generated[1].row_counts.items():
        if table == "erasure_requests":  # a handful of rows: too few to compare ratios
            continue
        assert 3.0 <= rows / small.row_counts[table] <= 5.0, table


# --------------------------------------------------------------------------- determinism


def _all_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return {
            f"{schema}.{table}": connection.execute(
                f"select * from {schema}.{table} order by all"
            ).fetchall()
            for schema, tables in (("raw", TABLES), ("raw_truth", TRUTH_TABLES))
            for table in tables
        }
    finally:
        connection.close()


def test_same_inputs_give_identical_tables(tmp_path: Path) -> None:
    _generate(tmp_path / "a.duckdb", persons=400, days=60)
    _generate(tmp_path / "b.duckdb", persons=400, days=60)
    first, second = _all_rows(tmp_path / "a.duckdb"), _all_rows(tmp_path / "b.duckdb")
    assert first.keys() == second.keys()
    for table in first:
        assert first[table] == second[table], table


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    _generate(tmp_path / "a.duckdb", persons=400, days=60)
    _generate(tmp_path / "c.duckdb", persons=400, days=60, seed=SEED + 1)
    first, other = _all_rows(tmp_path / "a.duckdb"), _all_rows(tmp_path / "c.duckdb")
    for table in TABLES:
        assert first[f"raw.{table}"] != other[f"raw.{table}"], table


# --------------------------------------------------------------------------- row-level noise


@pytest.mark.parametrize("table", ["web_events", "email_events"])
def test_duplicate_rows_equal_logged_duplicates(db: duckdb.DuckDBPyConnection, table: str) -> None:
    key = TABLES[table][0]
    extra = _scalar(db, f"select count(*) - count(distinct {key}) from raw.{table}")
    assert extra == _logged(db, table, "duplicate") > 0
    rows = _scalar(db, f"select count(distinct {key}) from raw.{table}")
    assert extra / rows == pytest.approx(RATES.duplicate_event * 1.1, abs=0.006)
    columns = [
        c
        for (c,) in db.execute(
            f"select column_name from information_schema.columns where table_schema = 'raw' "
            f"and table_name = '{table}' and column_name <> '_loaded_at'"
        ).fetchall()
    ]
    payloads = _scalar(
        db,
        (
            f"select max(n) from (select {key}, count(distinct ({', '.join(columns)})) as n "
            f"from raw.{table} group by {key})"
        ),
    )
    assert payloads == 1  # copies repeat the payload exactly


@pytest.mark.parametrize("table", list(TABLES))
def test_malformed_timestamps_equal_logged_count(db: duckdb.DuckDBPyConnection, table: str) -> None:
    column = TABLES[table][1]
    parsed = f"try_cast({column} as timestamptz)"
    invalid = _scalar(db, f"select count(*) from raw.{table} where {parsed} is null")
    out_of_range = _scalar(
        db,
        (f"select count(*) from raw.{table} where year({parsed}) < 2000 or year({parsed}) > 2090"),
    )
    assert invalid == _logged(db, table, "invalid_timestamp", column)
    assert out_of_range == _logged(db, table, "timestamp_out_of_range", column)
    malformed_duplicates = _scalar(
        db,
        (
            f"select count(*) from raw_truth.noise_log where source_table = '{table}' "
            "and noise_kind in ('invalid_timestamp', 'timestamp_out_of_range', 'broken_json') "
            f"and record_key in (select record_key from raw_truth.noise_log "
            f"where source_table = '{table}' and noise_kind = 'duplicate')"
        ),
    )
    assert malformed_duplicates == 0


def test_malformed_timestamp_rates(db: duckdb.DuckDBPyConnection) -> None:
    rows = sum(_scalar(db, f"select count(*) from raw.{t}") for t in TABLES)
    invalid = _scalar(
        db, "select count(*) from raw_truth.noise_log where noise_kind = 'invalid_timestamp'"
    )
    out_of_range = _scalar(
        db, "select count(*) from raw_truth.noise_log where noise_kind = 'timestamp_out_of_range'"
    )
    assert invalid / rows == pytest.approx(RATES.invalid_timestamp, abs=0.001)
    assert out_of_range / rows == pytest.approx(RATES.timestamp_out_of_range, abs=0.001)


def test_broken_json_equals_logged_count(db: duckdb.DuckDBPyConnection) -> None:
    broken = _scalar(
        db,
        "select count(*) from raw.web_events "
        "where not json_valid(context) or not coalesce(json_valid(properties), true)",
    )
    assert broken == _logged(db, "web_events", "broken_json") > 0
    assert (
        _scalar(
            db,
            "select count(*) from raw.web_events "
            "where traits is not null and not json_valid(traits)",
        )
        == 0
    )
    rows = _scalar(db, "select count(*) from raw.web_events")
    assert broken / rows == pytest.approx(RATES.broken_json, abs=0.002)


def test_late_arrivals_equal_logged_count(db: duckdb.DuckDBPyConnection) -> None:
    late = {
        key
        for (key,) in db.execute(
            "select distinct message_id from raw.web_events where "
            "_loaded_at - try_cast(original_timestamp as timestamptz)::timestamp > interval 1 day "
            "and year(try_cast(original_timestamp as timestamptz)) between 2000 and 2090"
        ).fetchall()
    }
    logged = {
        key
        for (key,) in db.execute(
            "select record_key from raw_truth.noise_log where source_table = 'web_events' "
            "and noise_kind = 'late_arriving' and record_key not in (select record_key from "
            "raw_truth.noise_log where noise_kind in "
            "('invalid_timestamp', 'timestamp_out_of_range'))"
        ).fetchall()
    }
    assert late == logged
    rows = _scalar(db, "select count(distinct message_id) from raw.web_events")
    assert len(logged) / rows == pytest.approx(RATES.late_arriving, abs=0.005)


# --------------------------------------------------------------------------- timestamps


def test_timestamps_with_offsets_denote_the_intended_instant(db: duckdb.DuckDBPyConnection) -> None:
    valid = "year(try_cast(original_timestamp as timestamptz)) between 2000 and 2090"
    styles = dict(
        db.execute(
            f"select case when original_timestamp like '%Z' then 'zulu' "
            f"when original_timestamp like '% %' then 'naive' else 'offset' end, count(*) "
            f"from raw.web_events where {valid} group by 1"
        ).fetchall()
    )
    total = sum(styles.values())
    assert styles["offset"] / total == pytest.approx(0.10, abs=0.02)
    assert styles["naive"] / total == pytest.approx(0.10, abs=0.02)
    # The client clock (any style) and the server's received_at (always Z) are seconds
    # apart; a wrong offset would put them hours apart.
    worst = db.execute(
        "select max(abs(epoch(try_cast(received_at as timestamptz)) "
        "- epoch(try_cast(original_timestamp as timestamptz)))) "
        f"from raw.web_events where {valid}"
    ).fetchall()[0][0]
    assert worst < 60
    assert (
        _scalar(
            db,
            "select count(*) from raw.web_events where original_timestamp like '%+0_:00' "
            "or original_timestamp like '%-0_:00'",
        )
        > 0
    )


def test_activity_lies_in_the_window(db: duckdb.DuckDBPyConnection) -> None:
    start = END_DATE - dt.timedelta(days=364)
    for table, (_, column) in TABLES.items():
        low, high = db.execute(
            f"select min(t), max(t) from (select try_cast({column} as timestamptz) as t "
            f"from raw.{table}) where year(t) between 2000 and 2090"
        ).fetchall()[0]
        assert low.date() >= start, table
        assert high.date() <= END_DATE + dt.timedelta(days=1), table


# --------------------------------------------------------------------------- identifier noise


@pytest.mark.parametrize("table", list(EMAIL_COLUMNS))
def test_email_case_noise_is_visible_and_logged(db: duckdb.DuckDBPyConnection, table: str) -> None:
    column = EMAIL_COLUMNS[table]
    source = _distinct_rows(table) if table == "email_events" else f"raw.{table}"
    visible = _scalar(db, f"select count(*) from {source} where {column} <> lower(trim({column}))")
    assert visible == _logged(db, table, "email_case_whitespace", column)


def test_email_noise_rates(db: duckdb.DuckDBPyConnection) -> None:
    genuine = gmail = 0
    logged = {"email_case_whitespace": 0, "gmail_dots_tag": 0, "googlemail": 0}
    for table, column in EMAIL_COLUMNS.items():
        source = _distinct_rows(table) if table == "email_events" else f"raw.{table}"
        present = _scalar(db, f"select count({column}) from {source}")
        damaged = _logged(db, table, "junk_value", column) + _logged(db, table, "bad_email", column)
        genuine += present - damaged
        gmail += _scalar(
            db,
            (
                f"select count(*) from {source} where regexp_matches(lower(trim({column})), "
                "'^[^@]+@(gmail|googlemail)\\.com$')"
            ),
        )
        for kind in logged:
            logged[kind] += _logged(db, table, kind, column)
        googlemail = _scalar(
            db, f"select count(*) from {source} where lower({column}) like '%@googlemail.com%'"
        )
        assert googlemail == _logged(db, table, "googlemail", column)
    assert logged["email_case_whitespace"] / genuine == pytest.approx(
        RATES.email_case_whitespace, abs=0.02
    )
    assert logged["gmail_dots_tag"] / gmail == pytest.approx(RATES.gmail_dots_tag, abs=0.02)
    assert logged["googlemail"] / gmail == pytest.approx(RATES.googlemail, abs=0.015)


def test_junk_and_malformed_identifier_rates(db: duckdb.DuckDBPyConnection) -> None:
    emails = sum(_scalar(db, f"select count({c}) from raw.{t}") for t, c in EMAIL_COLUMNS.items())
    emails_logged = {
        kind: sum(_logged(db, t, kind, c) for t, c in EMAIL_COLUMNS.items())
        for kind in ("junk_value", "bad_email")
    }
    # email_events duplicates copy noisy rows, so compare with all rows, loosely
    assert emails_logged["junk_value"] / emails == pytest.approx(RATES.junk_value, abs=0.004)
    assert emails_logged["bad_email"] / emails == pytest.approx(RATES.bad_email, abs=0.004)
    bad = _scalar(
        db,
        "select count(*) from raw.shop_orders where not regexp_full_match("
        "lower(trim(email)), '[a-z0-9._+-]+@[a-z0-9-]+(\\.[a-z0-9-]+)+')",
    )
    assert bad == _logged(db, "shop_orders", "bad_email") + _scalar(
        db, "select count(*) from raw.shop_orders where email in ('null', 'n/a', 'unknown', '')"
    )


def test_phones_are_valid_and_belong_to_their_owner(db: duckdb.DuckDBPyConnection) -> None:
    for (phone,) in db.execute("select phone from raw_truth.persons").fetchall():
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone
    for table, key in (
        ("shop_customers", "customer_id"),
        ("crm_contacts", "contact_id"),
        ("pos_transactions", "transaction_id"),
    ):
        rows = db.execute(f"""
            select raw.phone, p.country, p.phone, p.previous_phone
            from raw.{table} as raw
            join raw_truth.record_owners as o
                on o.source_table = '{table}' and o.record_key = raw.{key}
            join raw_truth.persons as p using (person_id)
            where raw.phone is not null and raw.{key} not in (
                select record_key from raw_truth.noise_log where source_table = '{table}'
                and noise_kind in ('junk_value', 'impossible_phone'))
        """).fetchall()
        assert rows, table
        for rendered, country, current, previous in rows:
            number = phonenumbers.parse(rendered, country)
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            assert e164 in (current, previous), (table, rendered)
        share = _logged(db, table, "phone_format") / len(rows)
        assert 0.05 < share < 0.95, table  # many renderings, not just E.164


def test_name_noise_rates(db: duckdb.DuckDBPyConnection) -> None:
    names = typos = 0
    for table in ("shop_customers", "crm_contacts"):
        names += 2 * _scalar(db, f"select count(*) from raw.{table}")
        typos += _logged(db, table, "name_typo")
        differs = _scalar(
            db,
            f"""
            select count(*) from raw.{table} as raw
            join raw_truth.record_owners as o on o.source_table = '{table}'
                and o.record_key = raw.{TABLES[table][0]}
            join raw_truth.persons as p using (person_id)
            where raw.first_name <> p.first_name""",
        )
        logged = _logged(db, table, "nickname") + _logged(db, table, "name_typo", "first_name")
        assert 0 < differs <= logged  # a nickname with a typo changes the name only once
    assert typos / names == pytest.approx(RATES.name_typo, abs=0.01)


def test_person_level_noise_rates(db: duckdb.DuckDBPyConnection) -> None:
    def share(kind: str) -> float:
        return _logged(db, "persons", kind) / PERSONS

    assert share("second_email") == pytest.approx(RATES.second_email, abs=0.02)
    assert share("changed_phone") == pytest.approx(RATES.changed_phone, abs=0.015)
    assert share("household") == pytest.approx(RATES.household, abs=0.025)
    assert share("shared_device") == pytest.approx(RATES.shared_device * 0.9, abs=0.01)
    shared_addresses = _scalar(
        db,
        "select count(*) from raw_truth.persons where household_id "
        "in (select household_id from raw_truth.persons group by 1 "
        "having count(*) > 1)",
    )
    assert shared_addresses == _logged(db, "persons", "household")


# --------------------------------------------------------------------------- cross-source links


def test_order_completed_events_carry_the_owners_shop_orders(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute("""
        select json_extract_string(w.properties, '$.order_id') as order_id,
               web_owner.person_id, shop_owner.person_id
        from raw.web_events as w
        join raw_truth.record_owners as web_owner
            on web_owner.source_table = 'web_events' and web_owner.record_key = w.message_id
        left join raw_truth.record_owners as shop_owner
            on shop_owner.source_table = 'shop_orders'
            and shop_owner.record_key = json_extract_string(w.properties, '$.order_id')
        where w.event = 'Order Completed' and json_valid(w.properties)
    """).fetchall()
    assert len(rows) > 100
    assert all(web == shop for _, web, shop in rows)


def test_order_lines_add_up_to_their_order_and_follow_the_buyers_taste(
    db: duckdb.DuckDBPyConnection,
) -> None:
    mismatched = _scalar(
        db,
        """
        with lines as (
            select distinct on (line_id) * from raw.shop_order_lines
        ),
        baskets as (
            select order_id, sum(cast(price as decimal(18, 2)) * cast(quantity as integer)) as total
            from lines group by order_id
        ),
        orders as (
            select distinct on (order_id)
                order_id, cast(subtotal_price as decimal(18, 2)) as subtotal
            from raw.shop_orders
        )
        select count(*) from orders full join baskets using (order_id)
        where baskets.total is distinct from orders.subtotal
    """,
    )
    assert mismatched == 0  # every order has lines, and they cost its subtotal
    # Items from the buyer's favourite category: FAVOURITE_CATEGORY_SHARE, plus the
    # catalogue's draws that land there anyway.
    share = db.execute(
        """
        with lines as (select distinct on (line_id) * from raw.shop_order_lines)
        select avg(case when p.category = b.favourite_category then 1.0 else 0.0 end)
        from lines
        join raw_truth.record_owners as o
            on o.source_table = 'shop_order_lines' and o.record_key = lines.line_id
        join raw_truth.purchase_behaviour as b using (person_id)
        join (values """
        + ", ".join(f"('{sku}', '{category}')" for sku, category in _categories())
        + """) as p (sku, category) on p.sku = lines.sku
    """
    ).fetchone()
    assert share is not None
    assert 0.62 <= share[0] <= 0.8


def _categories() -> list[tuple[str, str]]:
    shop = catalog()
    return list(zip(shop.sku.tolist(), shop.category.tolist(), strict=True))


def test_clean_identifiers_point_at_their_owner(db: duckdb.DuckDBPyConnection) -> None:
    mismatched = _scalar(
        db,
        """
        with emails as (
            select o.record_key, raw.email, p.email as primary_email, p.second_email
            from raw.shop_orders as raw
            join raw_truth.record_owners as o
                on o.source_table = 'shop_orders' and o.record_key = raw.order_id
            join raw_truth.persons as p using (person_id)
            where raw.order_id not in (select record_key from raw_truth.noise_log
                                       where source_table = 'shop_orders')
        )
        select count(*) from emails
        where email <> primary_email and email is distinct from second_email
    """,
    )
    assert mismatched == 0
    identified = _scalar(
        db,
        """
        select count(*) from raw.web_events as w
        join raw_truth.record_owners as o
            on o.source_table = 'web_events' and o.record_key = w.message_id
        join raw_truth.persons as p using (person_id)
        where w.type = 'identify' and json_valid(w.traits)
            and json_extract_string(w.traits, '$.email') in (p.email, p.second_email)
    """,
    )
    identifies = _scalar(db, "select count(*) from raw.web_events where type = 'identify'")
    assert identified / identifies > 0.7  # the rest carry (logged) email noise


def test_known_people_identify_on_nearly_every_device(db: duckdb.DuckDBPyConnection) -> None:
    """People some system knows by email (account, shop, CRM, email list) identify on
    nearly every browser they use; only people nobody knows browse anonymously."""
    devices = db.execute("""
        with owners as (
            select o.person_id, w.anonymous_id,
                   bool_or(w.type = 'identify' or w.user_id is not null) as identified
            from raw.web_events as w
            join raw_truth.record_owners as o
                on o.source_table = 'web_events' and o.record_key = w.message_id
            where w.anonymous_id not in ('null', 'undefined', 'anonymous', 'unknown', '0', '')
            group by all
        ),
        personal as (  -- one user per browser: leave shared devices out
            select * from owners qualify count(*) over (partition by anonymous_id) = 1
        ),
        known as (
            select distinct person_id from raw_truth.record_owners
            where source_table in ('shop_customers', 'crm_contacts', 'email_events')
            union
            select o.person_id from raw.web_events as w
            join raw_truth.record_owners as o
                on o.source_table = 'web_events' and o.record_key = w.message_id
            where w.user_id like 'usr_%'
        )
        select person_id in (select person_id from known) as is_known,
               avg(case when identified then 0 else 1 end), count(*)
        from personal group by 1
    """).fetchall()
    anonymous = {is_known: (share, count) for is_known, share, count in devices}
    assert anonymous[True][1] > 1000
    assert anonymous[True][0] <= 0.03
    assert anonymous[False][0] >= 0.8


def test_checkouts_identify_the_buyer_by_the_order_email(db: duckdb.DuckDBPyConnection) -> None:
    completed, identified = db.execute("""
        with events as (
            select w.*, o.person_id from raw.web_events as w
            join raw_truth.record_owners as o
                on o.source_table = 'web_events' and o.record_key = w.message_id
        )
        select count(*), count(*) filter (where exists (
            select 1 from events as i
            where i.type = 'identify' and i.anonymous_id = c.anonymous_id
                and i.person_id = c.person_id
                and i.received_at <= c.received_at
        ))
        from events as c where c.event = 'Order Completed'
    """).fetchall()[0]
    assert completed > 100
    assert identified / completed > 0.95  # the rest lost their anonymous_id to junk


def test_loyalty_cards_are_registered_with_a_phone_and_in_the_crm(
    db: duckdb.DuckDBPyConnection,
) -> None:
    cards, with_phone, in_crm = db.execute("""
        with transactions as (
            select distinct on (transaction_id) * from raw.pos_transactions
            where loyalty_card_id is not null
        ),
        first_use as (
            select loyalty_card_id, arg_min(phone, try_cast(transacted_at as timestamptz)) as phone,
                   min(transacted_at) as first_at
            from transactions where try_cast(transacted_at as timestamptz) is not null
            group by 1
        )
        select count(*), count(phone),
               count(*) filter (where loyalty_card_id in (
                   select loyalty_card_id from raw.crm_contacts))
        from first_use
    """).fetchall()[0]
    assert cards > 300
    assert with_phone / cards > 0.9  # the sign-up at the till (some phones are junk)
    assert in_crm == cards
    mismatched = _scalar(
        db,
        """
        select count(*) from raw.crm_contacts as c
        join raw_truth.record_owners as co
            on co.source_table = 'crm_contacts' and co.record_key = c.contact_id
        join raw.pos_transactions as p on p.loyalty_card_id = c.loyalty_card_id
        join raw_truth.record_owners as po
            on po.source_table = 'pos_transactions' and po.record_key = p.transaction_id
        where co.person_id <> po.person_id
    """,
    )
    assert mismatched == 0


def test_email_list_addresses_are_seen_in_another_source(db: duckdb.DuckDBPyConnection) -> None:
    """The email platform's address comes from a checkout, an account or the CRM."""
    seen, total = db.execute("""
        with elsewhere as (
            select o.person_id, lower(trim(x.email)) as email from raw.shop_customers as x
            join raw_truth.record_owners as o
                on o.source_table = 'shop_customers' and o.record_key = x.customer_id
            union
            select o.person_id, lower(trim(x.email)) from raw.shop_orders as x
            join raw_truth.record_owners as o
                on o.source_table = 'shop_orders' and o.record_key = x.order_id
            union
            select o.person_id, lower(trim(x.email)) from raw.crm_contacts as x
            join raw_truth.record_owners as o
                on o.source_table = 'crm_contacts' and o.record_key = x.contact_id
            union
            select o.person_id, lower(trim(json_extract_string(x.traits, '$.email')))
            from raw.web_events as x
            join raw_truth.record_owners as o
                on o.source_table = 'web_events' and o.record_key = x.message_id
            where x.type = 'identify' and json_valid(x.traits)
        ),
        subscribers as (
            select o.person_id, mode(lower(trim(x.email_address))) as email
            from raw.email_events as x
            join raw_truth.record_owners as o
                on o.source_table = 'email_events' and o.record_key = x.event_id
            where o.person_id in (select person_id from elsewhere)
            group by 1
        )
        select count(*) filter (where (person_id, email) in (select * from elsewhere)),
               count(*)
        from subscribers
    """).fetchall()[0]
    assert total > 300
    assert seen / total > 0.95


def test_consent_is_realistic(db: duckdb.DuckDBPyConnection) -> None:
    banner_types = {
        t
        for (t,) in db.execute(
            "select distinct identifier_type from raw.consent_events where source = 'cookie_banner'"
        ).fetchall()
    }
    assert banner_types == {"anonymous_id"}
    gpc = db.execute(
        "select jurisdiction, purpose, status from raw.consent_events where gpc = 'true'"
    ).fetchall()
    assert gpc
    assert all(j.startswith("US-") for j, _, _ in gpc)
    assert {(p, s) for _, p, s in gpc} >= {("data_sale", "denied")}
    changed = _scalar(
        db,
        "select count(*) from raw.consent_events "
        "where source = 'preference_center' and identifier_type = 'email'",
    )
    assert changed > 0
    jurisdictions = {
        j for (j,) in db.execute("select distinct jurisdiction from raw.consent_events").fetchall()
    }
    assert {"EU-DE", "EU-FR", "EU-NL", "UK", "US-CA", "US-NY", "US-TX"} <= jurisdictions
    regulations = dict(
        db.execute(
            "select r.regulation, count(*) from raw.erasure_requests as r group by 1"
        ).fetchall()
    )
    assert set(regulations) <= {"GDPR", "CCPA"}
    assert _scalar(db, "select count(*) from raw.erasure_requests") / PERSONS == pytest.approx(
        0.003, abs=0.003
    )


def test_generation_run_records_inputs(db: duckdb.DuckDBPyConnection) -> None:
    seed, persons, end_date, days, version, rates = db.execute(
        "select seed, persons, end_date, days, generator_version, noise_rates "
        "from raw_truth.generation_runs"
    ).fetchall()[0]
    assert (seed, persons, end_date, days) == (SEED, PERSONS, "2026-03-01", 365)
    assert version
    assert rates == RATES.as_json()


# --------------------------------------------------------------------------- config and CLI


@pytest.mark.parametrize(
    "kwargs",
    [
        {"persons": 0},
        {"days": 0},
        {"seed": -1},
        {"noise": "bad"},
    ],
)
def test_invalid_config_is_a_config_error(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {"persons": 10, "seed": 1, "end_date": END_DATE}
    if kwargs.get("noise") == "bad":
        with pytest.raises(ConfigError, match="probability"):
            NoiseRates(junk_value=1.5)
        return
    with pytest.raises(ConfigError):
        GeneratorConfig(**{**base, **kwargs})  # type: ignore[arg-type]


def test_cli_help() -> None:
    result = CliRunner().invoke(main, ["generate", "--help"])
    assert result.exit_code == 0
    assert "--persons" in result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--persons", "0"], "Invalid value"),
        (["--target", "nope"], "does not have a target named 'nope'"),
        (["--days", "3"], "Invalid value"),
    ],
)
def test_cli_rejects_bad_arguments(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["generate", *arguments])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_cli_generates_and_prints_row_counts(tmp_path: Path) -> None:
    path = tmp_path / "cli.duckdb"
    result = CliRunner().invoke(
        main,
        ["generate", "--persons", "200", "--seed", "5", "--end-date", "2026-03-01", "--days", "30"],
        env={"ONEFOLD_DUCKDB_PATH": str(path), "ONEFOLD_TARGET": "duckdb"},
    )
    assert result.exit_code == 0, result.output
    for table in TABLES:
        assert f"raw.{table}" in result.output
    connection = duckdb.connect(str(path), read_only=True)
    try:
        assert connection.execute("select count(*) from raw.web_events").fetchall()[0][0] > 0
    finally:
        connection.close()
