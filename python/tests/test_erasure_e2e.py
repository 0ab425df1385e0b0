"""Erasure end to end on both warehouses: demo data, `dbt build`, a webhook sync, then
`onefold erase` for real people of the demo.

One module-scoped world per target; the tests run in file order against it:
dry run and bad requests change nothing; an erase reaches every linked identifier,
deletes at the webhook and verifies clean; replayed raw rows stay out of the marts; a
second run is a no-op; a run killed midway completes when started again; a failing
destination leaves the request partially failed until the next run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg2
import pytest
import yaml
from click.testing import CliRunner

from onefold.erasure.cli import CRASH_AFTER_ENV, erase
from onefold.erasure.salt import POSTGRES_SETTING, Salt
from onefold.erasure.session_salt import SALT_ENV
from onefold.erasure.store import insert_rows
from onefold.generator import GeneratorConfig, generate_demo_data
from onefold.summary import count_sources, load_manifest, staging_models
from onefold.sync.state import LOCKS_TABLE, utc_now
from onefold.testing.dbt import WITHOUT_UNIT_TESTS, dbt_output, environment, locations
from onefold.testing.measure import executable
from onefold.testing.postgres import PostgresServer, create_database
from onefold.testing.warehouse import connect_with
from onefold.testing.webhook_server import WebhookReceiver, webhook_server
from onefold.warehouse import Warehouse

# The PostgreSQL leg is test_erasure_postgres_e2e.py, a module of its own (see there).
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("world", ["duckdb"], indirect=True, scope="module"),
]

PERSONS = 1500
SEED = 11
END_DATE = dt.date(2026, 11, 1)
SALT = "e2e-erasure-salt-5f1c0a9d3b7e4c2a"
WEBHOOK_SECRET_ENV = "ONEFOLD_TEST_ERASURE_WEBHOOK_SECRET"
WEBHOOK_SECRET = "erasure-webhook-secret"
RAW_TABLES = (
    "web_events",
    "shop_customers",
    "shop_orders",
    "crm_contacts",
    "pos_transactions",
    "email_events",
    "consent_events",
)


@dataclass
class Person:
    customer_id: str
    email: str
    identifiers: list[tuple[str, str, str]]  # (type, normalized value, match key)


@dataclass
class World:
    target: str
    env: dict[str, str]
    target_path: Path
    syncs_path: Path
    hook: WebhookReceiver
    people: list[Person]
    server: PostgresServer | None = None
    raw_before: dict[str, pd.DataFrame] = field(default_factory=dict)

    def connect(self) -> Warehouse:
        return connect_with(self.env)

    def cli(self, *args: str) -> tuple[int, Any]:
        """`onefold erase --json ...` in-process; (exit code, parsed JSON or output)."""
        with environment(self.env):
            result = CliRunner().invoke(
                erase, ["--target", self.target, "--syncs", str(self.syncs_path), *args]
            )
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        try:  # JSON on stdout; warnings (a stale lock broken, say) go to stderr
            return result.exit_code, json.loads(result.stdout)
        except json.JSONDecodeError:
            return result.exit_code, result.output


def _people(warehouse: Warehouse, count: int) -> list[Person]:
    """Customers with an email, a phone and at least five identifier types, most first."""
    rows = warehouse.query(
        "select customer_id from onefold_marts.identity_map group by customer_id "
        "having count(distinct identifier_type) >= 5 "
        "and count(case when identifier_type = 'email' then 1 end) = 1 "
        "and count(case when identifier_type = 'phone' then 1 end) >= 1 "
        "order by count(*) desc, customer_id limit ?",
        [count],
    )
    people = []
    for (customer_id,) in rows:
        identifiers = [
            (str(t), str(v), str(k))
            for t, v, k in warehouse.query(
                "select identifier_type, normalized_value, match_key "
                "from onefold_marts.identity_map where customer_id = ? order by 1, 2",
                [customer_id],
            )
        ]
        email = next(v for t, v, _ in identifiers if t == "email")
        people.append(Person(str(customer_id), email, identifiers))
    return people


# A household of four made up for the shared-identifier tests: X owns a device, an
# email and a phone; Y logged in on X's device, Z (family) uses X's email, W got X's old
# phone number. Each has an account of their own (user_id, at most one per customer),
# so the graph keeps them apart and cuts the shared links.
SHARED_WEB_COLUMNS = ("message_id", "anonymous_id", "user_id", "type", "context", "traits")
SHARED_DEVICE_ANONYMOUS_ID = "5a1e0000-0000-4000-8000-00000000a0a0"
SHARED_DEVICE_ID = "5A1E0000-0000-4000-8000-0000000DE71C"
SHARED_EMAIL = "robin.halvorsen@gmx.net"
SHARED_PHONE = "+14159873142"
SHARED_OWNER = "usr_shared_owner"
SHARED_OTHERS = {
    "shared_device": "usr_device_guest",
    "family_email": "usr_family_member",
    "reused_phone": "usr_new_phone_owner",
}


def _shared_household_rows() -> list[dict[str, Any]]:
    device = json.dumps({"device": {"id": SHARED_DEVICE_ID}})
    rows = [
        (
            "owner-1",
            SHARED_DEVICE_ANONYMOUS_ID,
            SHARED_OWNER,
            device,
            json.dumps({"email": SHARED_EMAIL, "phone": SHARED_PHONE}),
        ),
        (
            "owner-2",
            SHARED_DEVICE_ANONYMOUS_ID,
            SHARED_OWNER,
            device,
            json.dumps({"email": SHARED_EMAIL}),
        ),
        (
            "owner-3",
            "5a1e0000-0000-4000-8000-0000000000b1",
            SHARED_OWNER,
            None,
            json.dumps({"phone": SHARED_PHONE}),
        ),
        (
            "shared_device-1",
            SHARED_DEVICE_ANONYMOUS_ID,
            SHARED_OTHERS["shared_device"],
            device,
            None,
        ),
        (
            "family_email-1",
            "5a1e0000-0000-4000-8000-0000000000c1",
            SHARED_OTHERS["family_email"],
            None,
            json.dumps({"email": SHARED_EMAIL}),
        ),
        (
            "reused_phone-1",
            "5a1e0000-0000-4000-8000-0000000000d1",
            SHARED_OTHERS["reused_phone"],
            None,
            json.dumps({"phone": SHARED_PHONE}),
        ),
    ]
    return [
        {
            "message_id": f"shared-household-{key}",
            "anonymous_id": anonymous_id,
            "user_id": user_id,
            "type": "identify",
            "context": context,
            "traits": traits,
        }
        for key, anonymous_id, user_id, context, traits in rows
    ]


def _insert_shared_household(warehouse: Warehouse) -> None:
    """The owner's events are the latest, so the graph gives the owner the shared values
    (the limit keeps the most recently observed account) and cuts the others' links."""
    columns = [*SHARED_WEB_COLUMNS, "original_timestamp", "sent_at", "received_at", "_loaded_at"]
    values = []
    for row in _shared_household_rows():
        day = 20 if "owner" in row["message_id"] else 10
        at = f"2026-10-{day}T10:00:00Z"
        values.append(
            [*(row[c] for c in SHARED_WEB_COLUMNS), at, at, at, dt.datetime(2026, 10, day, 10, 5)]
        )
    insert_rows(warehouse, "raw.web_events", columns, values)


def _write_syncs(path: Path, url: str) -> None:
    path.write_text(
        yaml.safe_dump(
            {
                "syncs": {
                    "customers_webhook": {
                        "model": "customers",
                        "destination": {
                            "type": "webhook",
                            "url": url,
                            "secret_env": WEBHOOK_SECRET_ENV,
                            "batch_size": 500,
                            "requests_per_second": 2000,
                            "timeout_seconds": 2.0,
                            "max_retries": 2,
                            "backoff_seconds": 0.002,
                            "max_backoff_seconds": 0.02,
                        },
                        "mode": "upsert",
                        "primary_key": "customer_id",
                        "fields": {"email_sha256": "email", "phone_sha256": "phone"},
                        "hashed": ["email_sha256", "phone_sha256"],
                    }
                }
            }
        )
    )


def _sync(world: World) -> None:
    from onefold.sync import load_syncs, run_sync

    with environment(world.env):
        warehouse = world.connect()
        try:
            run_sync(warehouse, load_syncs(world.syncs_path)["customers_webhook"])
        finally:
            warehouse.close()


@pytest.fixture(scope="module")
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    root = tmp_path_factory.mktemp(f"erasure-{request.param}")
    env = {
        SALT_ENV: SALT,
        WEBHOOK_SECRET_ENV: WEBHOOK_SECRET,
        "ONEFOLD_TARGET": request.param,
        # `onefold` finds the demo project and this build's manifest as dbt would.
        **locations(root / "target"),
    }
    server: PostgresServer | None = None
    if request.param == "duckdb":
        env["ONEFOLD_DUCKDB_PATH"] = str(root / "onefold.duckdb")
    else:
        server = request.getfixturevalue("postgres_server")
        env.update(create_database(server, "onefold_erasure_e2e").environment())
        env["PGOPTIONS"] = f"-c {POSTGRES_SETTING}={SALT}"
    warehouse = connect_with(env)
    try:
        generate_demo_data(
            warehouse, GeneratorConfig(persons=PERSONS, seed=SEED, end_date=END_DATE)
        )
        _insert_shared_household(warehouse)
        # The generator's ground truth names every person; these tests check that no
        # byte of the warehouse does after an erasure, so the truth goes.
        warehouse.execute("drop schema raw_truth cascade")
    finally:
        warehouse.close()
    # PostgreSQL builds without data tests: they run in test_e2e_build, and cost a
    # minute here; DuckDB runs them.
    tests = (
        WITHOUT_UNIT_TESTS
        if request.param == "duckdb"
        else ("--resource-type", "seed", "--resource-type", "model")
    )
    dbt_output(["build", *tests], env, root / "target")
    with webhook_server(WEBHOOK_SECRET) as hook:
        syncs_path = root / "syncs.yml"
        _write_syncs(syncs_path, hook.url)
        warehouse = connect_with(env)
        try:
            people = _people(warehouse, 3)
        finally:
            warehouse.close()
        built = World(request.param, env, root / "target", syncs_path, hook, people, server)
        _sync(built)
        yield built


def fingerprint(warehouse: Warehouse) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent digest of every base table of the database."""
    tables = warehouse.query(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_catalog = current_database() "
        "and table_schema not in ('information_schema', 'pg_catalog') "
        "and table_schema not like 'pg_%' order by 1, 2"
    )
    row_text = "cast(t as varchar)" if warehouse.target == "duckdb" else "t::text"
    digests = {}
    for schema, table in tables:
        count, digest = warehouse.query(
            f"select count(*), md5(coalesce(string_agg(md5({row_text}), '' order by "
            f'md5({row_text})), \'\')) from "{schema}"."{table}" as t'
        )[0]
        digests[f"{schema}.{table}"] = (int(count), str(digest))
    return digests


def _fingerprint(world: World) -> dict[str, tuple[int, str]]:
    warehouse = world.connect()
    try:
        return fingerprint(warehouse)
    finally:
        warehouse.close()


def _raw_tables(world: World) -> dict[str, pd.DataFrame]:
    warehouse = world.connect()
    try:
        return {table: warehouse.query_df(f"select * from raw.{table}") for table in RAW_TABLES}
    finally:
        warehouse.close()


def _in_marts(warehouse: Warehouse, person: Person) -> list[str]:
    """Marts rows that still name the person by customer id or identifier."""
    found = []
    keys = [key for _, _, key in person.identifiers]
    placeholders = ", ".join("?" for _ in keys)
    checks = {
        "identity_map": f"match_key in ({placeholders})",
        "identity_edges": f"match_key in ({placeholders})",
    }
    for table, where in checks.items():
        if warehouse.query(f"select count(*) from onefold_marts.{table} where {where}", keys)[0][0]:
            found.append(table)
    for table in ("customers", "customer_records", "segment_memberships", "consent_current"):
        if warehouse.query(
            f"select count(*) from onefold_marts.{table} where customer_id = ?",
            [person.customer_id],
        )[0][0]:
            found.append(table)
    return found


def test_people_were_synced_to_the_webhook(world: World) -> None:
    assert len(world.people) == 3
    for person in world.people:
        assert person.customer_id in world.hook.records


def test_dry_run_shows_what_it_found_and_changes_nothing(world: World) -> None:
    person = world.people[0]
    before = _fingerprint(world)
    code, result = world.cli("--json", "--email", f"  {person.email.upper()} ")
    assert code == 0, result
    (outcome,) = result
    assert outcome["status"] == "dry_run"
    assert outcome["found"]["customers"] == 1
    kinds = {t for t, _, _ in person.identifiers}
    assert set(outcome["found"]["identifiers"]) >= kinds
    assert outcome["found"]["destinations"] == {"customers_webhook/customers_webhook": 1}
    raw = {s["step"]: s["rows"] for s in outcome["statements"] if s["step"].startswith("raw:")}
    assert raw["raw:web_events"] > 0
    assert all(s["sql"] and s["state"] == "planned" for s in outcome["statements"])
    assert person.email not in json.dumps(result)  # masked unless --show-values
    assert _fingerprint(world) == before


BAD_REQUESTS = [
    (["--identifier", "passport_number=X123"], 2, "unknown identifier type 'passport_number'"),
    (["--email", "not-an-email@"], 2, "is not a valid email"),
    (["--phone", "12"], 2, "is not a valid phone"),
    (["--email", "nobody.at.all@example.org"], 0, "nothing to erase"),
    (["--regulation", "HIPAA", "--email", "a@b.co"], 2, "unknown regulation"),
    (["--request-id", "ER-1", "--verify", "ER-1"], 2, "use --verify or --receipt alone"),
]


def test_bad_requests_get_clear_answers_and_change_nothing(world: World) -> None:
    before = _fingerprint(world)
    for args, exit_code, message in BAD_REQUESTS:
        code, output = world.cli(*args, "--execute")
        assert code == exit_code, (args, output)
        assert message in " ".join(str(output).split()), (args, output)
    # A sync delivering (its lock held by a live process) stops an erasure before it
    # changes anything: the sync could send back a record it planned before.
    locks = f"onefold_sync.{LOCKS_TABLE}"
    warehouse = world.connect()
    try:
        warehouse.execute(
            f"insert into {locks} (sync_name, run_id, holder, acquired_at, "
            "heartbeat_at) values ('customers_webhook', 'run-delivering', ?, ?, ?)",
            [f"{socket.gethostname()}:{os.getpid()}", utc_now(), utc_now()],
        )
    finally:
        warehouse.close()
    code, output = world.cli("--json", "--execute", "--email", world.people[0].email)
    assert code == 2, output
    assert output["message"].startswith("erasure not started: sync 'customers_webhook'"), output
    warehouse = world.connect()
    try:
        warehouse.execute(f"delete from {locks} where run_id = 'run-delivering'")
    finally:
        warehouse.close()
    assert _fingerprint(world) == before


@contextlib.contextmanager
def _statement_log(world: World) -> Iterator[Callable[[], str]]:
    """PostgreSQL: log every statement of the world's database while the block runs;
    yields a function returning what the server logged meanwhile ('' elsewhere)."""
    server = world.server
    if server is None or server.log_path is None:
        yield lambda: ""
        return
    database = world.env["ONEFOLD_PG_DATABASE"]
    admin = psycopg2.connect(
        host=server.host, port=server.port, user=server.user, dbname="postgres"
    )
    admin.autocommit = True
    start = server.log_path.stat().st_size
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"alter database \"{database}\" set log_statement = 'all'")
        yield lambda: server.log_path.read_bytes()[start:].decode(errors="replace")  # type: ignore[union-attr]
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'alter database "{database}" reset log_statement')
        admin.close()


def test_erase_reaches_every_identifier_and_destination_and_verifies_clean(world: World) -> None:
    person = world.people[0]
    world.raw_before = _raw_tables(world)
    _leave_in_flight(world, person.customer_id)  # a sync killed mid-call, holding them
    with _statement_log(world) as logged:
        code, result = world.cli(
            "--json", "--execute", "--request-id", "E2E-1", "--email", person.email
        )
    assert code == 0, result
    if world.server is not None and world.server.log_path is not None:
        # PostgreSQL with log_statement = all: erase's statements carry no erased value.
        text = logged()
        assert "erasure_keys" in text, "the server must have logged erase's statements"
        values = {v for _, v, k in person.identifiers} | {k for _, _, k in person.identifiers}
        assert not [v for v in values if len(v) >= 4 and v in text]
    (outcome,) = result
    assert outcome["status"] == "completed", outcome
    assert outcome["destinations"][0]["status"] == "succeeded"
    assert person.customer_id in world.hook.deleted
    assert person.customer_id not in world.hook.records
    warehouse = world.connect()
    try:
        assert _in_marts(warehouse, person) == []
        state = warehouse.query(
            "select count(*) from onefold_sync.onefold_sync_state where customer_id = ?",
            [person.customer_id],
        )[0][0]
        assert state == 0
        in_flight = warehouse.query(
            "select count(*) from onefold_sync.onefold_sync_in_flight where customer_id = ?",
            [person.customer_id],
        )[0][0]
        assert in_flight == 0  # the next sync run cannot replay them to the destination
        work = warehouse.query("select count(*) from onefold_privacy.erasure_work")[0][0]
        assert work == 0
        status = warehouse.query(
            "select status, destinations_succeeded from onefold_marts.erasure_requests_status "
            "where erasure_request_id = 'E2E-1'"
        )
        assert status == [("completed", 1)]
        receipt = warehouse.query_df("select * from onefold_privacy.erasure_receipts")
        steps = warehouse.query_df("select * from onefold_privacy.erasure_steps")
    finally:
        warehouse.close()
    # Every staging model that declares identity records is a table holding copies of
    # the person's raw rows (every person has web events; not every one has the rest).
    # The scan below proves nothing of theirs is left there.
    staged = steps[steps["step_name"].str.startswith("derived:onefold_staging.")]
    rows = dict(zip(staged["step_name"], staged["rows_affected"], strict=True))
    assert set(rows) == {
        f"derived:onefold_staging.{model}"
        for model in (
            "stg_web__events",
            "stg_email__events",
            "stg_shop__customers",
            "stg_shop__orders",
            "stg_crm__contacts",
            "stg_pos__transactions",
        )
    }
    assert rows["derived:onefold_staging.stg_web__events"] > 0, rows
    assert sum(rows.values()) > rows["derived:onefold_staging.stg_web__events"], rows
    stored = receipt.to_json(date_format="iso") + steps.to_json(date_format="iso")
    for _, value, _ in person.identifiers:
        assert value not in stored, "the receipt must not hold erased values"
    code, verification = world.cli("--json", "--verify", "E2E-1")
    assert code == 0, verification
    assert verification["clean"], verification["residuals"]
    # Targeted: every table with a column that can hold an identifier, not every column;
    # the report says what was read.
    assert verification["scope"] == "targeted"
    assert verification["tables_scanned"] > 40
    assert verification["columns_skipped"] > 0 and verification["text_bytes_scanned"] > 0
    read = {t["table"]: t["columns"] for t in verification["tables"]}
    assert {"context", "properties", "traits"} <= set(read["raw.web_events"])  # JSON text
    assert "email" in read["onefold_marts.customers"]
    if world.target == "duckdb":
        # The erased rows' bytes are gone from the file, not just unlinked.
        assert outcome["storage"]["action"] == "rewrite", outcome["storage"]
        assert verification["files_scanned"] == 1
        # The file was rewritten after the last erasure statement: what the rewrite could
        # not have cleaned is the blocks no live table uses (and the WAL), so that is read.
        (file,) = verification["files"]
        assert file["part"] == "unreferenced"
        assert file["bytes_scanned"] < file["file_bytes"]
        path = Path(world.env["ONEFOLD_DUCKDB_PATH"])
        assert not path.with_name(path.name + ".wal").exists()
        data = path.read_bytes().lower()
        spellings = {
            value.lower() for kind, value, _ in person.identifiers if kind != "customer_id"
        }
        assert not [s for s in spellings if len(s) >= 6 and s.encode() in data]
    else:
        assert outcome["storage"]["action"] == "vacuum", outcome["storage"]


def _leave_in_flight(world: World, customer_id: str) -> None:
    """What a sync killed while sending the person's record leaves behind: the call in
    flight, with their payload, in onefold_sync_in_flight."""
    warehouse = world.connect()
    try:
        warehouse.execute(
            "insert into onefold_sync.onefold_sync_in_flight select sync_name, "
            "destination_name, destination_type, 'run-killed', 'upsert', 'key-1', "
            "record_key, customer_id, payload_json, payload_hash, 'synced:1:', 'change', "
            "current_timestamp from onefold_sync.onefold_sync_state where customer_id = ?",
            [customer_id],
        )
    finally:
        warehouse.close()


def test_a_second_run_is_a_no_op(world: World) -> None:
    person = world.people[0]
    before = _fingerprint(world)
    code, result = world.cli("--json", "--execute", "--email", person.email)
    assert code == 0, result
    assert result[0]["status"] == "already_erased"
    code, result = world.cli(
        "--json", "--execute", "--request-id", "E2E-1", "--email", person.email
    )
    assert code == 0
    assert result[0]["status"] == "already_completed"
    assert _fingerprint(world) == before


def _insert_free_text_rows(warehouse: Warehouse, person: Person, prefix: str = "free-text") -> int:
    """Rows that name the erased person only in free text, under ids of nobody: a page
    URL (URL-encoded), a JSON property, broken JSON traits, an email click URL."""
    email = person.email
    encoded = urllib.parse.quote(email, safe="")
    at = "2026-11-02T09:00:00Z"
    loaded = dt.datetime(2026, 11, 2, 9, 5)
    web = [
        (
            f"{prefix}-url",
            json.dumps({"page": {"url": f"https://shop.example/welcome?email={encoded}"}}),
            None,
            None,
        ),
        (f"{prefix}-property", None, json.dumps({"note": f"contact {email.upper()} later"}), None),
        (f"{prefix}-broken-json", None, None, '{"first_name": "A", "email": "' + email),
    ]
    insert_rows(
        warehouse,
        "raw.web_events",
        [
            "message_id",
            "anonymous_id",
            "type",
            "event",
            "context",
            "properties",
            "traits",
            "original_timestamp",
            "sent_at",
            "received_at",
            "_loaded_at",
        ],
        [
            [
                key,
                f"free-text-anonymous-{key}",
                "track",
                "Page Viewed",
                context,
                properties,
                traits,
                at,
                at,
                at,
                loaded,
            ]
            for key, context, properties, traits in web
        ],
    )
    insert_rows(
        warehouse,
        "raw.email_events",
        [
            "event_id",
            "email_address",
            "campaign_id",
            "event_type",
            "url",
            "occurred_at",
            "_loaded_at",
        ],
        [
            [
                f"{prefix}-click",
                "someone.else.entirely@example.net",
                "c-1",
                "click",
                f"https://shop.example/r?u={encoded}",
                at,
                loaded,
            ]
        ],
    )
    return len(web) + 1


def _staging_counts(world: World) -> tuple[dict[str, int], int]:
    """Rows per staged model, and raw rows suppressed across the base models, as
    `onefold summary` counts them: on the package's plain connection, which takes the salt
    from the environment like dbt does."""
    warehouse = world.connect()
    try:
        counts = count_sources(warehouse, staging_models(load_manifest(world.target_path)))
    finally:
        warehouse.close()
    assert all(c.is_balanced for c in counts), [c for c in counts if not c.is_balanced]
    return {c.model.name: c.staged_rows for c in counts}, sum(c.suppressed_rows for c in counts)


def test_replayed_raw_rows_do_not_bring_the_person_back(world: World) -> None:
    person = world.people[0]
    after = _raw_tables(world)
    staged_before, suppressed_before = _staging_counts(world)
    assert suppressed_before == 0
    warehouse = world.connect()
    replayed = 0
    try:
        for table, before in world.raw_before.items():
            merged = before.merge(after[table], how="left", indicator=True)
            missing = merged[merged["_merge"] == "left_only"].drop(columns="_merge")
            if missing.empty:
                continue
            missing = missing.assign(_loaded_at=pd.Timestamp(dt.datetime(2026, 11, 2)))
            rows = [
                [
                    None
                    if pd.isna(v)
                    else (v.to_pydatetime() if hasattr(v, "to_pydatetime") else v)
                    for v in row
                ]
                for row in missing.itertuples(index=False)
            ]
            insert_rows(warehouse, f"raw.{table}", list(missing.columns), rows)
            replayed += len(rows)
        replayed += _insert_free_text_rows(warehouse, person)
    finally:
        warehouse.close()
    assert replayed > 0
    # Staging's views screen the replayed rows as soon as they land, before any dbt run
    # (on DuckDB through the list `onefold erase` wrote into its macros).
    staged_now, suppressed_now = _staging_counts(world)
    assert staged_now == staged_before, "no replayed row may reach staging"
    assert suppressed_now == replayed
    # Staging's tables are built again over the replayed rows (the event streams
    # incrementally), with their data tests (reconciliation counts suppressed rows).
    # Marts read staging only, so unchanged staging means unchanged marts. The views
    # downstream are built again too: PostgreSQL drops them with the table they read.
    dbt_output(
        ["build", "--select", "staging", "staging+,config.materialized:view",
         "--indirect-selection", "cautious", *WITHOUT_UNIT_TESTS],
        world.env,
        world.target_path,
    )  # fmt: skip
    staged_after, suppressed_after = _staging_counts(world)
    assert staged_after == staged_before, "no replayed row may reach staging"
    assert suppressed_after == replayed
    warehouse = world.connect()
    try:
        assert _in_marts(warehouse, person) == []
    finally:
        warehouse.close()
    _builds_without_the_salt_fail(world)
    if world.target == "duckdb":  # one scan per target is enough for the time budget
        code, verification = world.cli("--json", "--verify", "E2E-1", "--full-scan")
        assert code == 1
        assert verification["scope"] == "full" and verification["columns_skipped"] == 0
        assert [f["part"] for f in verification["files"]] == ["whole"]
        # The replayed rows are in the raw tables, and so in the file's bytes.
        locations = {r["location"].split(".")[0] for r in verification["residuals"]}
        assert locations == {"raw", "file"}, verification["residuals"]
    # Naming the person again is "already erased", and takes the replayed rows out
    # (a dry run shows them first); a sweep afterwards finds nothing left.
    code, result = world.cli("--json", "--email", person.email)
    assert (code, result[0]["status"]) == (0, "already_erased")
    planned = sum(s["rows"] for s in result[0]["statements"])
    assert planned > 0
    code, result = world.cli("--json", "--execute", "--email", person.email)
    assert (code, result[0]["status"]) == (0, "already_erased")
    assert sum(s["rows"] for s in result[0]["statements"]) == planned
    code, result = world.cli("--json", "--sweep")
    assert code == 0 and sum(s["rows"] for s in result[0]["statements"]) == 0
    code, verification = world.cli("--json", "--verify", "E2E-1")
    assert code == 0 and verification["clean"], verification["residuals"]


def _builds_without_the_salt_fail(world: World) -> None:
    """With suppressions on the list and the person's rows replayed into raw, a build
    without the salt, with another one or with a short one stops before any model runs,
    and a staging read without it fails instead of letting the person back in."""
    unsalted = {k: v for k, v in world.env.items() if k != SALT_ENV}
    unsalted["PGOPTIONS"] = ""
    wrong = {**world.env, SALT_ENV: "another-salt-0123456789abcdef"}
    wrong["PGOPTIONS"] = f"-c {POSTGRES_SETTING}={wrong[SALT_ENV]}"
    short = {**world.env, SALT_ENV: "short-salt"}
    short["PGOPTIONS"] = f"-c {POSTGRES_SETTING}=short-salt"
    for env, message in (
        (unsalted, "has no erasure salt"),
        (wrong, "has no erasure salt"),
        (short, "shorter than 16 characters"),
    ):
        output = dbt_output(["build", "--select", "staging"], env, world.target_path, succeed=False)
        assert message in " ".join(output.split()), output[-2000:]
    if world.target == "duckdb":
        import duckdb

        from onefold.phones import register_phone_function

        plain = duckdb.connect(world.env["ONEFOLD_DUCKDB_PATH"], read_only=True)
        # A client with Onefold's functions (staging's screen normalizes phone numbers
        # with one) but not the salt.
        register_phone_function(plain)
        try:
            with pytest.raises(duckdb.Error, match="no erasure salt"):
                plain.execute("select count(*) from onefold_staging.stg_web__events_quarantine")
        finally:
            plain.close()


def test_staged_rows_naming_the_person_only_in_free_text_go_with_the_erasure(
    world: World,
) -> None:
    """Other people's events that name the person only in free text (a page URL, a
    property, a click URL) and were staged before the erasure: a full build screens them
    out, but the incremental staging tables and activity marts keep what they staged, so
    erase deletes them there too (their raw rows stay until --sweep)."""
    warehouse = world.connect()
    try:
        person = _people(warehouse, 4)[3]  # nobody another test erases
        inserted = _insert_free_text_rows(warehouse, person, prefix="mention")
    finally:
        warehouse.close()
    staged_models = ["stg_web__events", "stg_email__events", "web_activity", "email_activity"]
    dbt_output(["run", "--select", *staged_models], world.env, world.target_path)  # incremental
    checks = {
        "onefold_staging.stg_web__events": "event_id",
        "onefold_staging.stg_email__events": "email_event_id",
        "onefold_marts.web_activity": "record_key",
        "onefold_marts.email_activity": "record_key",
    }

    def mentions() -> dict[str, int]:
        warehouse = world.connect()
        try:
            return {
                table: int(
                    warehouse.query(f"select count(*) from {table} where {key} like 'mention-%'")[
                        0
                    ][0]
                )
                for table, key in checks.items()
            }
        finally:
            warehouse.close()

    before = mentions()
    assert all(before.values()), before  # staged before the person was erased
    code, result = world.cli("--json", "--execute", "--email", person.email)
    assert code == 0 and result[0]["status"] == "completed", result
    assert mentions() == dict.fromkeys(checks, 0)
    # The raw rows are another person's: the sweep takes them.
    code, result = world.cli("--json", "--sweep", "--execute")
    assert code == 0 and sum(s["rows"] for s in result[0]["statements"]) == inserted, result


def test_a_run_killed_midway_completes_when_started_again(world: World) -> None:
    person = world.people[1]
    env = {**os.environ, **world.env, CRASH_AFTER_ENV: "4"}
    command = [
        executable("onefold"), "erase", "--target", world.target,
        "--syncs", str(world.syncs_path), "--execute", "--email", person.email,
    ]  # fmt: skip
    killed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    warehouse = world.connect()
    try:
        (status,) = warehouse.query(
            "select status from onefold_marts.erasure_requests_status "
            "where request_source = 'cli' and status != 'completed'"
        )[0]
        assert status == "in_progress"
    finally:
        warehouse.close()
    code, result = world.cli("--json", "--execute", "--email", person.email)
    assert code == 0, result
    (outcome,) = result
    assert outcome["status"] == "completed"
    assert "resumed unfinished request" in outcome["message"]
    assert person.customer_id in world.hook.deleted
    code, verification = world.cli("--json", "--verify", outcome["erasure_request_id"])
    assert verification["clean"], verification["residuals"]


def test_a_failing_destination_leaves_the_request_partially_failed_until_it_succeeds(
    world: World,
) -> None:
    person = world.people[2]
    world.hook.fail_next(50, status=503)
    code, result = world.cli(
        "--json", "--execute", "--request-id", "E2E-3", "--email", person.email
    )
    assert code == 1, result
    assert result[0]["status"] == "partially_failed"
    assert result[0]["destinations"][0]["status"] == "failed"
    warehouse = world.connect()
    try:
        assert warehouse.query(
            "select status from onefold_marts.erasure_requests_status "
            "where erasure_request_id = 'E2E-3'"
        ) == [("partially_failed",)]
        assert warehouse.query(
            "select status, attempts from onefold_marts.erasure_destination_status "
            "where erasure_request_id = 'E2E-3'"
        ) == [("failed", 1)]
    finally:
        warehouse.close()
    assert person.customer_id in world.hook.records  # not deleted there yet
    world.hook.heal()
    # The next run retries it (`onefold erase --execute` alone retries every unfinished
    # request; naming it keeps the test to this one).
    code, result = world.cli(
        "--json", "--execute", "--request-id", "E2E-3", "--email", person.email
    )
    assert code == 0, result
    assert result[0]["status"] == "completed", result
    assert person.customer_id in world.hook.deleted
    warehouse = world.connect()
    try:
        assert warehouse.query(
            "select status, attempts from onefold_marts.erasure_destination_status "
            "where erasure_request_id = 'E2E-3'"
        ) == [("succeeded", 2)]
    finally:
        warehouse.close()


def test_pending_intake_requests_are_processed_and_shown_on_the_status_mart(world: World) -> None:
    code, result = world.cli("--json", "--execute")
    assert code == 0, result
    intake = [o for o in result if o["request_source"] == "erasure_requests"]
    assert intake and all(o["status"] == "completed" for o in intake), result
    warehouse = world.connect()
    try:
        statuses = dict(
            warehouse.query(
                "select request_source, count(*) from onefold_marts.erasure_requests_status "
                "where status = 'completed' group by request_source"
            )
        )
        redacted = warehouse.query(
            "select count(*) from raw.erasure_requests where identifier_value != '[erased]'"
        )[0][0]
    finally:
        warehouse.close()
    assert statuses["erasure_requests"] == len(intake)
    assert redacted == 0
    code, again = world.cli("--json", "--execute")
    assert code == 0
    assert again == [] or all(o["status"] != "completed" for o in again)


def test_identifiers_shared_with_other_customers_are_kept(world: World) -> None:
    """A shared device, a family email and a reused phone: erasing their owner deletes
    the owner's records only; the other people's records, staging rows and customers
    stay, and the shared values are not suppressed (their future events still count)."""
    warehouse = world.connect()
    try:
        owners = {
            str(key).removeprefix("shared-household-"): str(customer)
            for key, customer in warehouse.query(
                "select record_key, customer_id from onefold_marts.customer_records "
                "where source = 'web_events' and record_key like 'shared-household-%'"
            )
        }
        owner = owners["owner-1"]
        owned = set(
            warehouse.query(
                "select identifier_type, match_key from onefold_marts.identity_map "
                "where customer_id = ?",
                [owner],
            )
        )
        # What the other three people's records carry of the owner's.
        carried = set(
            warehouse.query(
                "select identifier_type, match_key from onefold_marts.identity_edges "
                "where record_key like 'shared-household-%' "
                "and record_key not like 'shared-household-owner-%'"
            )
        )
    finally:
        warehouse.close()
    others = {key: customer for key, customer in owners.items() if not key.startswith("owner")}
    assert set(others) == {f"{kind}-1" for kind in SHARED_OTHERS}
    assert owner not in others.values(), "the graph must keep the household apart"
    # The owner's identity keeps the device, the email and the phone.
    shared_keys = owned & carried
    assert {kind for kind, _ in shared_keys} == {"anonymous_id", "device_id", "email", "phone"}

    code, plan = world.cli("--json", "--identifier", f"user_id={SHARED_OWNER}")
    assert code == 0, plan
    shared = {
        item["identifier"].split(":")[0]: set(item["other_customer_ids"])
        for item in plan[0]["shared_identifiers"]
    }
    assert shared == {
        "anonymous_id": {others["shared_device-1"]},
        "device_id": {others["shared_device-1"]},
        "email": {others["family_email-1"]},
        "phone": {others["reused_phone-1"]},
    }
    assert plan[0]["found"]["records"] == {"web_events": 3}
    assert plan[0]["found"]["shared_identifiers"][0]["decision"].startswith("kept")

    code, result = world.cli(
        "--json",
        "--execute",
        "--request-id",
        "E2E-SHARED",
        "--identifier",
        f"user_id={SHARED_OWNER}",
    )
    assert code == 0 and result[0]["status"] == "completed", result
    warehouse = world.connect()
    try:
        raw = {
            str(key).removeprefix("shared-household-")
            for (key,) in warehouse.query(
                "select message_id from raw.web_events where message_id like 'shared-household-%'"
            )
        }
        staged = {
            str(key).removeprefix("shared-household-")
            for (key,) in warehouse.query(
                "select event_id from onefold_staging.stg_web__events "
                "where event_id like 'shared-household-%'"
            )
        }
        records = dict(
            warehouse.query(
                "select record_key, customer_id from onefold_marts.customer_records "
                "where source = 'web_events' and record_key like 'shared-household-%'"
            )
        )
        suppressed = {
            str(h)
            for (h,) in warehouse.query(
                "select suppression_hash from onefold_privacy.erasure_suppressions "
                "where erasure_request_id = 'E2E-SHARED'"
            )
        }
        receipt = json.loads(
            warehouse.query(
                "select found_json from onefold_privacy.erasure_receipts "
                "where erasure_request_id = 'E2E-SHARED'"
            )[0][0]
        )
    finally:
        warehouse.close()
    assert raw == staged == set(others), "only the owner's own records go"
    assert {k.removeprefix("shared-household-"): c for k, c in records.items()} == others
    salt = Salt(SALT)
    assert suppressed, "the owner's own identifiers are suppressed"
    assert not {salt.hash(key) for _, key in shared_keys} & suppressed
    assert {item["identifier_type"] for item in receipt["shared_identifiers"]} == set(shared)


def test_without_a_real_salt_erase_uses_the_demo_salt_beside_the_warehouse(world: World) -> None:
    """What `make demo` sets up: no DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT, a demo salt file
    beside the DuckDB file. A sweep needs the salt and checks it against the suppression
    hashes the earlier erasures wrote: the demo file's salt is the one it used."""
    from onefold.erasure.demo_salt import HEADER
    from onefold.erasure.session_salt import demo_salt_file

    database = Path(world.env["ONEFOLD_DUCKDB_PATH"])
    demo_file = demo_salt_file(database)
    env = {key: value for key, value in world.env.items() if key != SALT_ENV}
    args = ["--target", world.target, "--syncs", str(world.syncs_path), "--sweep", "--json"]
    real_salt = os.environ.pop(SALT_ENV, None)
    try:
        with environment(env):
            missing = CliRunner().invoke(erase, args)
            demo_file.write_text(HEADER + SALT + "\n")
            found = CliRunner().invoke(erase, args)
            demo_file.write_text(HEADER + "another-salt-of-the-demo-0123456789\n")
            other = CliRunner().invoke(erase, args)
    finally:
        demo_file.unlink(missing_ok=True)
        if real_salt is not None:
            os.environ[SALT_ENV] = real_salt
    assert missing.exit_code == 2 and SALT_ENV in missing.stdout, missing.output
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)[0]["status"] == "dry_run"
    assert f"using the demo erasure salt from {demo_file}" in found.stderr
    assert SALT not in found.output
    assert other.exit_code == 2 and "another salt" in other.stdout, other.output
