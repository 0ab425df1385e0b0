"""Erasure pieces that need no dbt build: intake validation, due dates, the salt,
suppression forms, the statement planner and the residual scan's SQL (on an in-memory
DuckDB with stand-ins for the dbt-created functions)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from onefold.erasure.cli import erase
from onefold.erasure.config import ErasureConfig, parse_config
from onefold.erasure.plan import (
    Column,
    catalog,
    derived_predicate,
    key_items,
    load_keys,
    staging_statements,
)
from onefold.erasure.requests import cli_request, due_at, mask
from onefold.erasure.resolve import FoundIdentifier, Resolution, SyncRecord
from onefold.erasure.salt import Salt, libpq_option, load_salt
from onefold.erasure.session_salt import SALT_ENV
from onefold.erasure.suppression import suppression_entries
from onefold.erasure.verify import keys_query, load_hashes, scan_table
from onefold.errors import ConfigError
from onefold.testing.manifest import fake_project
from onefold.warehouse import DuckDBWarehouse


def duckdb_functions(schema: str, identifier_types: list[str]) -> dict[str, object]:
    """The snapshot's `functions` as dbt renders them for DuckDB: calls of the privacy
    schema's macros."""
    arguments = "ERASURE_ARG_VALUE, ERASURE_ARG_CODE"
    return {
        "match_key_of_type": {
            kind: f"{schema}.identifier_match_key('{kind}', {arguments})"
            for kind in identifier_types
        },
        "match_key": f"{schema}.identifier_match_key(ERASURE_ARG_TYPE, {arguments})",
        "suppression_hash": f"{schema}.suppression_hash(ERASURE_ARG_VALUE)",
        "salt_fingerprint": f"{schema}.salt_fingerprint()",
    }


IDENTIFIER_TYPES = ["email", "phone", "user_id", "anonymous_id", "customer_id"]
DOCUMENT = {
    "version": 4,
    "functions": duckdb_functions("p", IDENTIFIER_TYPES),
    "target_type": "duckdb",
    "privacy_schema": "p",
    "default_calling_code": "1",
    "identifier_types": IDENTIFIER_TYPES,
    "hashed_identifier_types": ["email", "phone"],
    "request_identifier_types": ["email", "phone", "user_id", "customer_id"],
    "regulations": ["GDPR", "CCPA"],
    "deadlines": {"GDPR": {"months": 1}, "CCPA": {"days": 45}},
    "default_deadline": {"days": 30},
    "verify_exclude_schemas": ["raw_truth"],
    "missing_salt_message": "p.erasure_suppressions exist but this connection has no erasure salt",
    "suppression_list_limit": 5000,
    "sources": {
        "shop_orders": {
            "relation": '"raw"."shop_orders"',
            "record_key_sql": "trim(erasure_row.order_id)",
            "record_source": "shop_orders",
            "action": "redact",
            "redact": {"email": None},
            "keep_derived": ["orders"],
            "suppress": True,
            "identifiers": [
                {
                    "type": "email",
                    "type_sql": "'email'",
                    "value_sql": "erasure_row.email",
                    "match_key_sql": "p.identifier_match_key('email', erasure_row.email, '1')",
                }
            ],
            "copies": [],
        }
    },
    "staging_tables": [
        {
            "schema": "st",
            "table": "stg_events",
            "record_source": "web_events",
            "record_key": "event_id",
            "identifiers": [
                {"column": "anonymous_id", "type": "anonymous_id"},
                {"column": "trait_email", "type": "email"},
            ],
        },
        {
            "schema": "st",
            "table": "stg_not_built",
            "record_source": "email_events",
            "record_key": "email_event_id",
            "identifiers": [],
        },
    ],
}


@pytest.fixture
def config() -> ErasureConfig:
    return parse_config(DOCUMENT, fake_project([]))


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_config_snapshot_parses(config: ErasureConfig) -> None:
    source = config.sources["shop_orders"]
    assert source.action == "redact" and source.redact == {"email": None}
    assert source.identifiers[0].identifier_type == "email"
    assert config.suppression_hash_sql("k") == "p.suppression_hash((k))"
    assert config.match_key_sql("'phone'", "v") == "p.identifier_match_key('phone', (v), ('1'))"
    assert config.match_key_sql("t.kind", "v", "c") == "p.identifier_match_key((t.kind), (v), (c))"
    with pytest.raises(ConfigError, match="version"):
        parse_config({**DOCUMENT, "version": 99}, fake_project([]))


@pytest.mark.parametrize(
    ("regulation", "received", "due"),
    [
        ("GDPR", dt.datetime(2026, 1, 31, 9), dt.datetime(2026, 2, 28, 9)),
        ("GDPR", dt.datetime(2028, 1, 31), dt.datetime(2028, 2, 29)),
        ("GDPR", dt.datetime(2026, 12, 15), dt.datetime(2027, 1, 15)),
        ("CCPA", dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 15)),
        ("LGPD", dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 31)),
    ],
)
def test_due_dates_follow_the_regulation(
    config: ErasureConfig, regulation: str, received: dt.datetime, due: dt.datetime
) -> None:
    assert due_at(config, regulation, received) == due


def test_month_deadlines_match_sql_interval_arithmetic(config: ErasureConfig) -> None:
    connection = duckdb.connect()
    for day in range(1, 366, 7):
        received = dt.datetime(2027, 1, 1, 12) + dt.timedelta(days=day)
        (sql_due,) = connection.execute("select ? + interval 1 month", [received]).fetchone()
        assert due_at(config, "GDPR", received) == sql_due


def test_cli_requests_are_validated(config: ErasureConfig) -> None:
    request = cli_request(config, [("email", "Ann@Example.com")], "gdpr")
    assert request.regulation == "GDPR" and request.request_id.startswith("cli-")
    assert "Ann@Example.com" not in repr(request)
    with pytest.raises(ConfigError, match="unknown identifier type 'passport'"):
        cli_request(config, [("passport", "X1")], "GDPR")
    with pytest.raises(ConfigError, match="blank"):
        cli_request(config, [("email", "  ")], "GDPR")
    with pytest.raises(ConfigError, match="unknown regulation 'HIPAA'"):
        cli_request(config, [("email", "a@b.co")], "HIPAA")
    with pytest.raises(ConfigError, match="name the person"):
        cli_request(config, [], "GDPR")


def test_values_are_masked() -> None:
    assert mask("ann.lee@gmail.com") == "an************om"
    assert mask("abc") == "***"
    assert "lee" not in mask("ann.lee@gmail.com")


def test_the_salt_never_shows_and_hashes_like_the_sql(monkeypatch: pytest.MonkeyPatch) -> None:
    salt = Salt("0123456789abcdef-secret")
    assert "secret" not in repr(salt) and "secret" not in str(salt)
    assert salt.hash("k") == sha("0123456789abcdef-secret|k")
    assert salt.fingerprint == sha("onefold-erasure-salt|0123456789abcdef-secret")
    monkeypatch.delenv(SALT_ENV, raising=False)
    assert load_salt(required=False) is None
    with pytest.raises(ConfigError, match="is not set"):
        load_salt()
    monkeypatch.setenv(SALT_ENV, "short")
    with pytest.raises(ConfigError, match="shorter than"):
        load_salt()
    assert libpq_option("onefold.erasure_salt", "a b\\c") == "-c onefold.erasure_salt=a\\ b\\\\c"


def test_duckdb_connections_carry_the_salt_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readers of staging (`onefold summary`, validate) need the salt like dbt does."""
    monkeypatch.setenv("ONEFOLD_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    monkeypatch.delenv(SALT_ENV, raising=False)
    query = "select getvariable('onefold_erasure_salt')"
    unsalted = DuckDBWarehouse()
    assert unsalted.query(query) == [(None,)]
    unsalted.close()
    monkeypatch.setenv(SALT_ENV, "0123456789abcdef-secret")
    salted = DuckDBWarehouse()
    assert salted.query(query) == [("0123456789abcdef-secret",)]
    salted.close()


def test_suppression_covers_every_hashed_spelling(config: ErasureConfig) -> None:
    salt = Salt("0123456789abcdef-secret")
    resolution = Resolution(
        customer_ids=["cus_1"],
        identifiers=[
            FoundIdentifier("email", "annlee@gmail.com", sha("annlee@gmail.com")),
            FoundIdentifier("phone", "+14155550123", sha("+14155550123")),
            FoundIdentifier("user_id", "u_1", "u_1"),
            FoundIdentifier("customer_id", "cus_1", "cus_1"),
        ],
        raw_values=[("email", " ann.lee+x@gmail.com"), ("email", sha("x"))],
    )
    entries = {
        (e.identifier_type, e.identifier_form): e
        for e in suppression_entries(config, resolution, salt)
    }
    assert entries[("email", "match_key")].suppression_hash == salt.hash(sha("annlee@gmail.com"))
    assert entries[("email", "raw_sha256")].suppression_hash == salt.hash(
        sha("ann.lee+x@gmail.com")
    )
    assert entries[("phone", "digits_sha256")].suppression_hash == salt.hash(sha("14155550123"))
    assert entries[("user_id", "sha256")].suppression_hash == salt.hash(sha("u_1"))
    assert ("customer_id", "match_key") in entries
    assert len(entries) == len({e.suppression_hash for e in entries.values()})


def test_derived_tables_are_keyed_by_their_columns(config: ErasureConfig) -> None:
    predicate = derived_predicate(
        config,
        [
            Column("customer_id", "varchar"),
            Column("source", "varchar"),
            Column("record_key", "varchar"),
        ],
        kept_sources=["shop_orders"],
    )
    assert predicate is not None
    assert "erasure_row.customer_id in" in predicate
    assert "erasure_row.source not in ('shop_orders')" in predicate
    identity = derived_predicate(
        config, [Column("identifier_type", "varchar"), Column("match_key", "varchar")]
    )
    assert identity is not None and "k.item_detail = erasure_row.match_key" in identity
    sessions = derived_predicate(config, [Column("anonymous_id", "varchar")])
    assert sessions is not None and "p.identifier_match_key('anonymous_id'" in sessions
    assert derived_predicate(config, [Column("segment_name", "varchar")]) is None
    assert derived_predicate(config, [Column("email", "bigint")]) is None


def test_staging_tables_lose_the_persons_rows_by_record_or_identifier(
    config: ErasureConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEFOLD_DUCKDB_PATH", str(tmp_path / "staging.duckdb"))
    warehouse = DuckDBWarehouse()
    warehouse.execute("create schema p")
    warehouse.execute(
        "create macro p.identifier_match_key(t, v, c) as "
        "case t when 'email' then lower(trim(v)) else trim(v) end"
    )
    warehouse.execute("create schema st")
    warehouse.execute(
        "create table st.stg_events as select * from (values "
        "('m1', 'a_other', null), ('m9', 'a_other', ' Ann@Example.com'), "
        "('m3', 'a_ann', null), ('m2', 'a_other', 'bob@example.com')) "
        "as t(event_id, anonymous_id, trait_email)"
    )
    load_keys(
        warehouse,
        [
            ("record", "web_events", "m1", ""),
            ("identifier", "email", "ann@example.com", "ann@example.com"),
            ("identifier", "anonymous_id", "a_ann", "a_ann"),
        ],
    )
    statements = staging_statements(config, catalog(warehouse, ["st"]))
    assert [s.step for s in statements] == ["derived:st.stg_events"]  # stg_not_built: absent
    warehouse.execute(statements[0].sql)
    assert warehouse.query("select event_id from st.stg_events") == [("m2",)]
    warehouse.close()


def test_key_items_carry_everything_the_statements_read() -> None:
    resolution = Resolution(
        customer_ids=["cus_1"],
        records=[("web_events", "m1"), ("web_events", "m1")],
        identifiers=[FoundIdentifier("email", "a@b.co", "h")],
        nodes=["42"],
        sync_records=[SyncRecord("s", "d", "webhook", "cus_1", "cus_1", {})],
        intake_record=("erasure_requests", "ER-1"),
    )
    assert key_items(resolution) == [
        ("customer", "", "cus_1", ""),
        ("identifier", "email", "a@b.co", "h"),
        ("node", "", "42", ""),
        ("record", "erasure_requests", "ER-1", ""),
        ("record", "web_events", "m1", ""),
        ("sync_record", "s", "cus_1", "d"),
    ]


def test_the_residual_scan_finds_raw_normalized_hashed_and_embedded_values(
    config: ErasureConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEFOLD_DUCKDB_PATH", str(tmp_path / "scan.duckdb"))
    warehouse = DuckDBWarehouse()
    salt = Salt("0123456789abcdef-secret")
    warehouse.execute("set variable onefold_erasure_salt = ?", [salt.reveal()])
    warehouse.execute("create schema p")
    # Stand-ins for the dbt-created functions (the real ones normalize like the graph).
    warehouse.execute(
        "create macro p.identifier_match_key(t, v, c) as case t "
        "when 'email' then sha256(lower(trim(v))) "
        "when 'phone' then sha256('+' || regexp_replace(v, '[^0-9]', '', 'g')) "
        "else trim(v) end"
    )
    warehouse.execute(
        "create macro p.suppression_hash(k) as "
        "sha256(getvariable('onefold_erasure_salt') || '|' || k)"
    )
    warehouse.execute("create schema s")
    warehouse.execute(
        "create table s.t (plain varchar, blob varchar, hashed varchar, other varchar)"
    )
    blob = '{"traits": {"phone": "+1 415 555 0123"}}'
    warehouse.execute(
        "insert into s.t values (' Ann@Example.COM', ?, ?, 'unrelated'), "
        "('u_77', 'id=u_77&x=1', null, 'nothing')",
        [blob, sha("ann@example.com")],
    )
    load_hashes(
        warehouse,
        [
            ("email", "match_key", salt.hash(sha("ann@example.com"))),
            ("phone", "match_key", salt.hash(sha("+14155550123"))),
            ("user_id", "match_key", salt.hash("u_77")),
        ],
    )
    rows = scan_table(warehouse, config, "s", "t", ["plain", "blob", "hashed", "other"])
    found = {(column, form) for column, form, _ in rows}
    assert found == {
        ("plain", "email:match_key"),
        ("plain", "user_id:match_key"),
        ("blob", "phone:match_key"),
        ("blob", "user_id:match_key"),
        ("hashed", "email:match_key"),
    }
    # A second table holding the same values reports them too.
    warehouse.execute("create table s.u as select plain from s.t")
    assert {(c, f) for c, f, _ in scan_table(warehouse, config, "s", "u", ["plain"])} == {
        ("plain", "email:match_key"),
        ("plain", "user_id:match_key"),
    }
    # ...from the scan's cache: each token is normalized and hashed once per scan.
    cached = warehouse.query(
        "select token, count(*) from erasure_verify_normalized group by token order by token"
    )
    assert cached == [("+1 415 555 0123", 1), ("Ann@Example.COM", 1)]
    warehouse.close()


def test_postgres_scan_sql_renders(config: ErasureConfig) -> None:
    postgres = parse_config({**DOCUMENT, "target_type": "postgres"}, fake_project([]))
    sql = keys_query(postgres, "s", "t", ["a"])
    assert "regexp_split_to_array" in sql and "regexp_matches" in sql


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--identifier", "user_id"], "write it as TYPE=VALUE"),
        (["--verify", "X", "--execute"], "use --verify or --receipt alone"),
        (["--sweep", "--email", "a@b.co"], "--sweep covers every erased person"),
    ],
)
def test_cli_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(erase, args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_duckdb_suppression_macros_fold_to_constants(
    config: ErasureConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onefold.erasure.suppression import duckdb_suppression_macros

    monkeypatch.setenv("ONEFOLD_DUCKDB_PATH", str(tmp_path / "macros.duckdb"))
    warehouse = DuckDBWarehouse()
    salt = Salt("0123456789abcdef-secret")
    warehouse.execute("create schema p")
    warehouse.execute(
        "create macro p.salt_fingerprint() as "
        "sha256('onefold-erasure-salt|' || nullif(getvariable('onefold_erasure_salt'), ''))"
    )
    warehouse.execute(
        "create table p.erasure_suppressions (suppression_hash varchar, salt_fingerprint varchar)"
    )
    flag = (
        "select case when len(p.suppression_hashes()) = 0 then false "
        "when not p.suppression_salt_ok() then cast(error('no erasure salt') as boolean) "
        "else coalesce(list_contains(p.suppression_hashes(), "
        "sha256(nullif(getvariable('onefold_erasure_salt'), '') || '|' || ?)), false) end"
    )
    for statement in duckdb_suppression_macros(warehouse, config):
        warehouse.execute(statement)
    assert warehouse.query(flag, ["k1"]) == [(False,)]  # empty list: no salt needed
    warehouse.execute(
        "insert into p.erasure_suppressions values (?, ?)", [salt.hash("k1"), salt.fingerprint]
    )
    for statement in duckdb_suppression_macros(warehouse, config):
        warehouse.execute(statement)
    # No salt: every hash is null, and the flag must fail rather than fold to false.
    with pytest.raises(duckdb.InvalidInputException, match="no erasure salt"):
        warehouse.query(f"select count(*) from (select {flag[7:]}) as f(s) where not s", ["k1"])
    warehouse.execute("set variable onefold_erasure_salt = ?", ["another-salt-0123456789"])
    with pytest.raises(duckdb.InvalidInputException, match="no erasure salt"):
        warehouse.query(flag, ["k1"])
    warehouse.execute("set variable onefold_erasure_salt = ?", [salt.reveal()])
    assert warehouse.query(flag, ["k1"]) == [(True,)]
    assert warehouse.query(flag, ["k2"]) == [(False,)]
    warehouse.close()


def test_byte_scan_finds_spellings_glued_between_other_values(tmp_path: Path) -> None:
    """Database pages store strings back to back: the scan finds an email, a phone number
    and a UUID inside such runs by their anchors, and nothing that only looks alike."""
    from onefold.erasure.suppression import spelling_form, spelling_shapes
    from onefold.erasure.verify import byte_hits, file_strings

    salt = Salt("0123456789abcdef-secret")
    values = [
        ("email", "johannes564@web.de"),
        ("phone", "+4916223913470"),
        ("anonymous_id", "019ffbeb-cd41-4fe4-a633-c63d0076607b"),
        ("email", "someone.else@web.de"),
    ]
    rows = [(kind, spelling_form(kind, value), salt.hash(value)) for kind, value in values]
    assert all(form for _, form, _ in rows)
    page = tmp_path / "page.bin"
    page.write_bytes(
        b"\x00\x07e 128Johannes564@WEB.DEwerrner+4916223913470259lv112\x01\x02"
        b"jacob019ffbeb-cd41-4fe4-a633-c63d0076607bmartinez\x00someone.else@web.dk\x00"
    )
    hits = byte_hits(file_strings(page), salt, spelling_shapes(rows))
    assert sorted(hits.values()) == [
        "+4916223913470",
        "019ffbeb-cd41-4fe4-a633-c63d0076607b",
        "johannes564@web.de",
    ]


def test_the_targeted_scan_reads_the_columns_that_can_hold_identifiers(
    config: ErasureConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Declared columns, identifier-named columns, free text and JSON are read; a column
    of single tokens nothing names as an identifier is skipped (the full scan reads it)."""
    from onefold.erasure.verify import FULL, TARGETED, plan_scan

    monkeypatch.setenv("ONEFOLD_DUCKDB_PATH", str(tmp_path / "plan.duckdb"))
    warehouse = DuckDBWarehouse()
    warehouse.execute("create schema raw")
    warehouse.execute("create schema raw_truth")
    warehouse.execute("create schema m")
    # raw.shop_orders is declared (email); `notes` holds free text, `status` one token each.
    warehouse.execute(
        "create table raw.shop_orders (order_id varchar, email varchar, status varchar, "
        "notes varchar, amount decimal(10, 2))"
    )
    warehouse.execute(
        "insert into raw.shop_orders values ('o1', 'ann@example.com', 'paid', "
        "'call ann@example.com', 1), ('o2', null, 'open', null, 2)"
    )
    warehouse.execute(
        "create table m.customers (customer_id varchar, trait_phone varchar, "
        "segment varchar, payload json, contact varchar)"
    )
    warehouse.execute(
        "insert into m.customers values ('cus_1', '+14155550123', 'vip', '{\"a\": 1}', "
        "'bob@example.com')"
    )
    warehouse.execute("create table raw_truth.persons (email varchar)")
    plan = {(t.schema, t.table): t for t in plan_scan(warehouse, config, TARGETED)}
    assert set(plan) == {("m", "customers"), ("raw", "shop_orders")}  # raw_truth excluded
    orders = plan[("raw", "shop_orders")]
    assert (orders.columns, orders.skipped) == (("order_id", "email", "notes"), ("status",))
    customers = plan[("m", "customers")]
    # `contact` holds an email: an '@' is reason enough to read a column.
    assert customers.columns == ("customer_id", "trait_phone", "payload", "contact")
    assert customers.skipped == ("segment",)
    full = {(t.schema, t.table): t for t in plan_scan(warehouse, config, FULL)}
    assert full[("raw", "shop_orders")].columns == (
        "order_id",
        "email",
        "status",
        "notes",
    )
    assert all(not t.skipped for t in full.values())
    warehouse.close()


def test_the_byte_scan_reads_free_blocks_and_skips_live_ones(
    config: ErasureConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dropped table's bytes stay in the file's free blocks: the scan of unreferenced
    blocks finds them; a live table's blocks are left to the table scan."""
    from onefold.erasure.suppression import spelling_form, spelling_shapes
    from onefold.erasure.verify import byte_hits, file_strings, unreferenced_ranges

    path = tmp_path / "blocks.duckdb"
    monkeypatch.setenv("ONEFOLD_DUCKDB_PATH", str(path))
    warehouse = DuckDBWarehouse()
    # Plain bytes: DuckDB's default string compression (FSST) would hide them from any
    # byte scan, which is why the rewrite, not the scan, is what removes them.
    warehouse.execute("set force_compression = 'uncompressed'")
    filler = "select 'filler-' || i as v from range(200000) as r(i)"
    warehouse.execute(
        f"create table gone as select 'gone.person' || i || '@example.com' as v "
        f"from range(50) as r(i) union all {filler}"
    )
    warehouse.execute(
        f"create table live as select 'live.person' || i || '@example.com' as v "
        f"from range(50) as r(i) union all {filler}"
    )
    warehouse.execute("checkpoint")
    warehouse.execute("drop table gone")
    warehouse.execute("checkpoint")
    ranges = unreferenced_ranges(warehouse, path)
    warehouse.close()
    size = path.stat().st_size
    assert ranges and sum(length for _, length in ranges) < size
    salt = Salt("0123456789abcdef-secret")
    values = ["gone.person7@example.com", "live.person7@example.com"]
    rows = [("email", spelling_form("email", v), salt.hash(v)) for v in values]
    shapes = spelling_shapes(rows)  # type: ignore[arg-type]
    whole = byte_hits(file_strings(path), salt, shapes)
    assert sorted(whole.values()) == values  # the dropped table's bytes are still there
    free = byte_hits(file_strings(path, ranges), salt, shapes)
    assert sorted(free.values()) == ["gone.person7@example.com"]


def test_the_rewrite_is_recorded_and_a_later_erasure_statement_voids_it(
    config: ErasureConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onefold.erasure.reclaim import rewrite_duckdb_file
    from onefold.erasure.verify import last_rewrite

    monkeypatch.setenv("ONEFOLD_DUCKDB_PATH", str(tmp_path / "rewrite.duckdb"))
    warehouse = DuckDBWarehouse()
    warehouse.execute("create schema p")
    warehouse.execute("create table p.erasure_steps (step_name varchar, finished_at timestamp)")
    warehouse.execute("insert into p.erasure_steps values ('raw:x', '2026-01-01 10:00:00')")
    assert last_rewrite(warehouse, config) is None  # never rewritten: scan the whole file
    rewrite_duckdb_file(warehouse, "p")
    warehouse = DuckDBWarehouse()
    rewritten = last_rewrite(warehouse, config)
    assert rewritten is not None and rewritten > dt.datetime(2026, 1, 1, 10)
    warehouse.execute(
        "insert into p.erasure_steps values ('raw:y', ?)", [rewritten + dt.timedelta(seconds=1)]
    )
    assert last_rewrite(warehouse, config) is None  # deleted since: its bytes may be free
    warehouse.close()


def test_full_scan_goes_with_verify() -> None:
    result = CliRunner().invoke(erase, ["--full-scan"])
    assert result.exit_code == 2
    assert "--full-scan goes with --verify" in " ".join(result.output.split())


def test_the_rewrite_needs_room_for_the_live_blocks_not_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fresh file holds the old one's blocks in use: without room for those (and a
    tenth more) the rewrite stops before writing anything, since a full disk would stop
    every writer on it; the free blocks of a file dbt rebuilt many times need no room."""
    import shutil

    from onefold.erasure import reclaim
    from onefold.errors import WarehouseError

    path = tmp_path / "full.duckdb"
    monkeypatch.setenv("ONEFOLD_DUCKDB_PATH", str(path))
    warehouse = DuckDBWarehouse()
    warehouse.execute("create table t as select 'x' || i as v from range(200000) as r(i)")
    warehouse.execute("create table dropped as select v || v as w from t, range(5)")
    warehouse.execute("checkpoint")
    warehouse.execute("drop table dropped")
    warehouse.execute("checkpoint")
    size = path.stat().st_size
    live = reclaim.live_bytes(warehouse)
    assert live < size / 2  # most of the file is the dropped table's free blocks

    def free_space(free: int) -> None:
        usage = shutil._ntuple_diskusage(10**12, 10**12, free)
        monkeypatch.setattr(reclaim.shutil, "disk_usage", lambda _: usage)

    free_space(live + live // 10 - 1)
    with pytest.raises(WarehouseError, match="storage not reclaimed") as refused:
        reclaim.rewrite_duckdb_file(warehouse, "p")
    assert f"{live / 1e9:,.1f} GB of it in use" in str(refused.value)
    assert not path.with_name(path.name + ".rewrite").exists()
    assert warehouse.query("select count(*) from t")[0][0] == 200000  # still open, untouched

    free_space(live + live // 10)  # less than the file's size: enough
    rewritten = reclaim.rewrite_duckdb_file(warehouse, "p")
    assert rewritten.bytes_after is not None and rewritten.bytes_after < size
    assert DuckDBWarehouse().query("select count(*) from t")[0][0] == 200000
