"""`onefold validate`: the expectations file, and the gate on real builds of both targets.

The end-to-end part builds a small warehouse per target (the declared tables and what
they depend on), checks that the project's
expectations pass on it, then copies three marts into another base schema, breaks each
one in a known way and checks that exactly those expectations fail (exit 1), naming table,
expectation and column, with PII masked.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from click.testing import CliRunner, Result

from onefold import cli as cli_module
from onefold.cli import main
from onefold.errors import ConfigError
from onefold.testing.dbt import PACKAGE_DIR, environment, locations, run_dbt
from onefold.testing.manifest import manifest_document, manifest_node, write_manifest
from onefold.testing.postgres import PostgresServer, create_database, free_port
from onefold.testing.warehouse import connect_with
from onefold.validation.report import format_examples
from onefold.validation.spec import load_expectations, parse_expectations

PROJECT_EXPECTATIONS = PACKAGE_DIR / "validation" / "expectations.yml"
PERSONS = 400
SEED = 5
END_DATE = dt.date(2026, 11, 1)
# Freshness reference: midday of the data's last day. With 400 persons consent events come
# a few a day, and the last one is 2d 20h old then (dbt's error_after for them is 72h).
NOW = "2026-11-01T12:00:00"
PII_VALUE = "leaked.person@example.com"
SECRET = "s3cr:et/p@ss%word"  # trust auth accepts any password; it must never be printed


def write_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "expectations.yml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the expectations file ----------------------------------------------------------------


def test_project_expectations_cover_the_published_tables() -> None:
    declared = load_expectations(PROJECT_EXPECTATIONS)
    tables = {spec.table.key for spec in declared.tables}
    assert tables >= {
        "marts.customer_records",
        "marts.identity_map",
        "marts.identity_edges",
        "marts.identity_blocked_values",
        "marts.identity_changes",
        "staging.stg_web__events",
        "staging.stg_shop__orders",
    }
    changes = declared.table("marts.identity_changes")
    assert {c.kind for c in changes.checks} >= {"not_null", "regex", "between"}
    assert "normalized_value" in declared.table("marts.identity_map").pii_columns


def test_short_forms_expand_to_one_check_per_expectation(tmp_path: Path) -> None:
    declared = parse_expectations(
        {
            "version": 1,
            "tables": {
                "marts.customers": {
                    "key": ["customer_id"],
                    "columns": {"email": {"pii": True}},
                    "expectations": [
                        {"row_count": {"min": 0.5, "relative_to": "marts.customer_records"}},
                        {"unique": ["source", "record_key"]},
                        {"unique": "customer_id"},
                        {"not_null": ["customer_id", "email"]},
                        {"between": {"column": "created_at", "min": dt.date(2000, 1, 1)}},
                        {"freshness": {"column": "updated_at", "max_age": "36h"}},
                    ],
                }
            },
        },
        tmp_path / "x.yml",
    )
    (spec,) = declared.tables
    kinds = [(c.kind, c.columns, c.position) for c in spec.checks]
    assert kinds == [
        ("row_count", (), 1),
        ("unique", ("source", "record_key"), 2),
        ("unique", ("customer_id",), 3),
        ("not_null", ("customer_id",), 4),
        ("not_null", ("email",), 4),
        ("between", ("created_at",), 5),
        ("freshness", ("updated_at",), 6),
    ]
    assert spec.checks[0].relative_to is not None
    assert spec.checks[0].relative_to.key == "marts.customer_records"
    assert spec.checks[5].min_value == dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert spec.checks[6].max_age == dt.timedelta(hours=36)
    assert spec.pii_columns == frozenset({"email"})


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "- uniq: customer_id",
            "marts.customer_records expectations[2]: unknown expectation type 'uniq'",
        ),
        ("- regex: {pattern: '^cus_'}", "expectations[2] (regex): missing `column`"),
        ("- not_null: {}", "expectations[2] (not_null): missing `column`"),
        ("- in_set: {column: source, values: []}", "(in_set): needs `values`"),
        ("- regex: {column: customer_id, pattern: '(['}", "`pattern` '([' is not valid"),
        ("- freshness: {column: customer_created_at, max_age: soon}", "`max_age` must look"),
        ("- between: {column: x, min: 5, max: 1}", "`min` (5.0) is greater than `max`"),
        ("- row_count: {min: 1.5}", "whole number of rows"),
        ("- unique: {column: a, colums: [b]}", "unknown argument(s) `colums`"),
        ("- {not_null: a, unique: b}", "one-key mapping"),
        ("- gx: {expectation: DropTable}", "needs `expectation`"),
    ],
)
def test_malformed_entries_name_table_and_entry(tmp_path: Path, entry: str, message: str) -> None:
    path = write_yaml(
        tmp_path,
        "version: 1\ntables:\n  marts.customer_records:\n    expectations:\n"
        f"      - row_count: {{min: 1}}\n      {entry}\n",
    )
    with pytest.raises(ConfigError) as error:
        load_expectations(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_a_table_declared_twice_is_an_error(tmp_path: Path) -> None:
    block = "  marts.customer_records:\n    expectations: [{row_count: {min: 1}}]\n"
    path = write_yaml(tmp_path, "version: 1\ntables:\n" + block + block)
    with pytest.raises(ConfigError, match=r"found the key 'marts\.customer_records' twice"):
        load_expectations(path)


def test_malformed_file_exits_2_naming_the_entry(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        "version: 1\ntables:\n  marts.identity_changes:\n    expectations:\n"
        "      - in_set: {column: change_type}\n",
    )
    result = CliRunner().invoke(main, ["validate", "--expectations", str(path)])
    assert result.exit_code == 2, result.output
    assert "marts.identity_changes expectations[1] (in_set): needs `values`" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("as_json", [False, True])
def test_an_unexpected_error_exits_2_not_1(as_json: bool) -> None:
    """Exit 1 means "an expectation failed": a crash must not look like one."""
    with patch(
        "onefold.validate.run_validation", side_effect=ValueError("cannot convert float NaN")
    ):
        result = CliRunner().invoke(main, ["validate", *(["--json"] if as_json else [])])
    assert result.exit_code == 2, result.output
    if as_json:
        error = json.loads(result.stdout)
        assert error["exit_code"] == 2
        assert "ValueError: cannot convert float NaN" in error["message"]
    else:
        assert "ValueError: cannot convert float NaN" in result.output
        assert "Traceback" not in result.output


def test_examples_of_pii_columns_are_masked() -> None:
    result = {
        "partial_unexpected_index_list": [
            {"normalized_value": PII_VALUE, "identifier_type": "email", "match_key": "ab12"},
            {"normalized_value": None, "identifier_type": "email", "match_key": "cd34"},
        ],
        "partial_unexpected_counts": [{"value": PII_VALUE, "count": 2}],
    }
    pii = frozenset({"normalized_value"})
    located = format_examples(
        result, ["normalized_value"], ["identifier_type", "match_key"], pii, limit=3
    )
    assert located == (
        "*** at identifier_type='email', match_key='ab12'",
        "null at identifier_type='email', match_key='cd34'",
    )
    counted = format_examples(result, ["normalized_value"], [], pii, limit=3)
    assert counted == ("*** (2 rows)",)
    assert format_examples(result, ["normalized_value"], [], frozenset(), limit=3) == (
        f"'{PII_VALUE}' (2 rows)",
    )


# --- end to end ---------------------------------------------------------------------------


# Build exactly what the gate covers: the declared tables and everything upstream (seeds
# included), and the quarantine models (`history` reads their rates), without dbt's own
# tests, which other suites run.
BUILD_ARGS = [
    "build",
    "--select",
    *(
        f"+{spec.table.name}"
        for spec in load_expectations(PROJECT_EXPECTATIONS).tables
        if spec.table.layer in ("staging", "intermediate", "marts", "reference")
    ),
    *sorted(
        f"+{path.stem}"
        for path in (PACKAGE_DIR / "models" / "staging").glob("*/stg_*_quarantine.sql")
    ),
    "--exclude-resource-type",
    "test",
    "unit_test",
]


@dataclass
class Built:
    target: str
    env: dict[str, str]

    def execute(self, *statements: str) -> None:
        warehouse = connect_with(self.env)
        try:
            for statement in statements:
                warehouse.execute(statement)
        finally:
            warehouse.close()

    def invoke(self, *args: str, env: dict[str, str] | None = None) -> Result:
        # Rich fixes a console's width when it is created (from COLUMNS, if the process
        # had it then), so set the width of the CLI's console for the call itself.
        with (
            environment({**self.env, **(env or {})}),
            patch.object(cli_module.console, "_width", 250),
        ):
            return CliRunner().invoke(
                main, ["validate", "--target", self.target, "--now", NOW, *args]
            )


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Built:
    from onefold.generator import GeneratorConfig, generate_demo_data

    root = tmp_path_factory.mktemp(f"validate-{request.param}")
    if request.param == "duckdb":
        env = {"ONEFOLD_TARGET": "duckdb", "ONEFOLD_DUCKDB_PATH": str(root / "onefold.duckdb")}
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        database = create_database(server, "onefold_validate")
        env = {
            "ONEFOLD_TARGET": "postgres",
            **database.environment(),
            "DBT_ENV_SECRET_ONEFOLD_PG_PASSWORD": SECRET,
        }
    warehouse = connect_with(env)
    try:
        generate_demo_data(
            warehouse, GeneratorConfig(persons=PERSONS, seed=SEED, end_date=END_DATE)
        )
    finally:
        warehouse.close()
    run_dbt(BUILD_ARGS, env, root / "target")
    return Built(request.param, {**env, **locations(root / "target")})


BROKEN_BASE = "onefold_broken"  # the damaged copies live in <base>_marts
BROKEN_TABLES = ("customer_records", "identity_map", "identity_changes")


@pytest.fixture(scope="module")
def broken(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """Copies of three marts in another schema, each broken in one known way; a copy of
    the manifest says the models are there (validate finds tables only through it)."""
    schema = f"{BROKEN_BASE}_marts"
    manifest = json.loads(
        (Path(built.env["DBT_TARGET_PATH"]) / "manifest.json").read_text(encoding="utf-8")
    )
    for node in manifest["nodes"].values():  # every mart: the others are missing there
        if node["package_name"] == "onefold" and node["schema"] == "onefold_marts":
            node["schema"] = schema
    target_path = tmp_path_factory.mktemp("broken-target")
    (target_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    built.execute(
        f"drop schema if exists {schema} cascade",
        f"create schema {schema}",
        *(
            f"create table {schema}.{table} as select * from onefold_marts.{table}"
            for table in BROKEN_TABLES
        ),
        # a customer id that is not one (dbt tests it unique and not null, not its shape)
        f"update {schema}.customer_records set customer_id = 'cus_bogus' "
        f"where record_key = (select min(record_key) from {schema}.customer_records)",
        # an identifier value carried by no record
        f"update {schema}.identity_map set record_count = 0 where identifier_type = 'email' "
        f"and match_key = (select min(match_key) from {schema}.identity_map "
        "where identifier_type = 'email')",
        # a change that moved nothing
        f"update {schema}.identity_changes set records_moved = 0 "
        f"where change_id = (select min(change_id) from {schema}.identity_changes)",
        # two emails with the same (PII) value: only a test expectation looks at it
        f"update {schema}.identity_map set normalized_value = '{PII_VALUE}' "
        f"where identifier_type = 'email' and match_key in (select match_key from "
        f"{schema}.identity_map where identifier_type = 'email' order by match_key "
        "limit 2 offset 5)",
    )
    yield Built(built.target, {**built.env, "DBT_TARGET_PATH": str(target_path)})
    built.execute(f"drop schema if exists {schema} cascade")


def _failures(report: dict[str, Any]) -> set[tuple[str, str, tuple[str, ...]]]:
    return {
        (r["table"], r["check"], tuple(r["columns"]))
        for table in report["tables"]
        for r in table["results"]
        if not r["success"]
    }


@pytest.mark.e2e
def test_project_expectations_pass_on_a_fresh_build(built: Built) -> None:
    result = built.invoke("--json")
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    report = json.loads(result.stdout)
    assert report["success"] is True
    assert report["failed"] == 0
    assert report["target"] == built.target
    declared = load_expectations(PROJECT_EXPECTATIONS)
    assert [t["table"] for t in report["tables"]] == list(declared.keys)
    sources = _results(report, "sources")
    history = _results(report, "history")
    assert report["expectations"] == declared.check_count + len(sources) + len(history)
    freshness = [r for t in report["tables"] for r in t["results"] if r["check"] == "freshness"]
    assert freshness and all(r["observed"].startswith("latest 2026-1") for r in freshness)
    # every enabled source but the skipped erasure requests, against dbt's error_after
    assert {r["expected"].split(" for ")[1] for r in sources} == {
        "consent.consent_events (dbt error_after)",
        "crm.crm_contacts (dbt error_after)",
        "email.email_events (dbt error_after)",
        "pos.pos_transactions (dbt error_after)",
        "shop.shop_customers (dbt error_after)",
        "shop.shop_orders (dbt error_after)",
        "shop.shop_order_lines (dbt error_after)",
        "web.web_events (dbt error_after)",
    }
    assert {r["check"] for r in history} == {"identity_match_rate", "quarantine_rate"}
    assert len(history) == 1 + 9  # one match rate, one quarantine rate per staging model
    assert os.environ["GX_ANALYTICS_ENABLED"] == "false"
    if built.target == "duckdb":  # the same report for people (the rendering is shared)
        text = built.invoke()
        assert text.exit_code == 0, text.output
        assert f"{report['expectations']} expectations, 0 failed on duckdb" in text.output
        assert "marts.identity_changes (onefold_marts.identity_changes): passed" in text.output


@pytest.mark.e2e
def test_stale_data_fails_freshness(built: Built) -> None:
    result = built.invoke("--table", "marts.identity_map", "--now", "2026-12-01", "--json")
    assert result.exit_code == 1, result.output
    assert _failures(json.loads(result.stdout)) == {
        ("marts.identity_map", "freshness", ("last_observed_at",))
    }


@pytest.mark.e2e
def test_broken_tables_fail_naming_table_expectation_and_column(broken: Built) -> None:
    tables = [arg for table in BROKEN_TABLES for arg in ("--table", f"marts.{table}")]
    result = broken.invoke(*tables, "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert _failures(report) == {
        ("marts.customer_records", "regex", ("customer_id",)),
        ("marts.identity_map", "between", ("record_count",)),
        ("marts.identity_changes", "between", ("records_moved",)),
    }
    by_table = {r["table"]: r for t in report["tables"] for r in t["results"] if not r["success"]}
    regex = by_table["marts.customer_records"]
    assert regex["unexpected_count"] >= 1
    assert regex["expectation"] == "expect_column_values_to_match_regex"
    assert regex["examples"][0].startswith("'cus_bogus' at source=")
    assert by_table["marts.identity_changes"]["examples"][0].startswith("0 at change_id=")
    assert by_table["marts.identity_map"]["examples"][0].startswith("0 at identifier_type='email'")

    text = broken.invoke(*tables)
    assert text.exit_code == 1
    output = text.output
    assert "marts.customer_records (onefold_broken_marts.customer_records): 1 failed" in output
    assert "marts.identity_map (onefold_broken_marts.identity_map): 1 failed" in output
    assert "marts.identity_changes (onefold_broken_marts.identity_changes): 1 failed" in output
    assert "record_count" in output and "FAIL" in output
    assert "'cus_bogus'" in output
    assert f"{report['expectations']} expectations, 3 failed on {broken.target}" in output
    assert PII_VALUE not in output


@pytest.mark.e2e
def test_pii_examples_are_masked_and_unknown_columns_exit_2(broken: Built, tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
version: 1
tables:
  marts.identity_map:
    key: [identifier_type, match_key]
    columns:
      normalized_value: {pii: true}
    expectations:
      - unique: [identifier_type, normalized_value]
      - regex: {column: normalized_value, pattern: '^[^.]+@'}
""",
    )
    result = broken.invoke("--expectations", str(path))
    assert result.exit_code == 1, result.output
    assert "2 expectations, 2 failed" in result.output
    assert "*** at" in result.output
    assert PII_VALUE not in result.output
    as_json = broken.invoke("--expectations", str(path), "--json")
    assert PII_VALUE not in as_json.output

    path.write_text(
        "version: 1\ntables:\n  marts.identity_map:\n    expectations:\n"
        "      - not_null: [customer_id, custmer_id]\n  marts.customers:\n"
        "    expectations:\n      - row_count: {min: 1}\n",
        encoding="utf-8",
    )
    missing = broken.invoke("--expectations", str(path))
    assert missing.exit_code == 2, missing.output
    assert "marts.identity_map expectations[1] (not_null): column 'custmer_id'" in missing.output
    assert "marts.customers: table onefold_broken_marts.customers does not exist" in (
        missing.output
    )


@pytest.mark.e2e
def test_duckdb_cli_stays_offline_and_writes_no_files(tmp_path: Path) -> None:
    """The installed command from another directory: the project's expectations are found,
    nothing is written to the working directory, and no socket leaves the machine."""
    pytest.importorskip("duckdb")
    guard = (
        "import socket, sys\n"
        "def refuse(*args, **kwargs):\n"
        "    sys.stderr.write(f'NETWORK ACCESS {args[1:]!r}\\n')\n"
        "    raise OSError('network disabled by test')\n"
        "plain = socket.socket.connect\n"
        "def connect(self, address):\n"
        "    if self.family in (socket.AF_INET, socket.AF_INET6):\n"
        "        refuse(self, address)\n"
        "    return plain(self, address)\n"
        "socket.socket.connect = connect\n"
        "socket.getaddrinfo = refuse\n"
        "from onefold.cli import main\n"
        "main(prog_name='onefold')\n"
    )
    source = tmp_path / "source"
    source.mkdir()
    empty = tmp_path / "cwd"
    empty.mkdir()
    import duckdb

    # A tiny warehouse with one declared table is enough to exercise the whole GX path.
    path = source / "w.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema onefold_staging")
        connection.execute(
            "create table onefold_staging.stg_shop__orders as select 'o' || i as order_id, "
            "'EUR' as currency, 10.5::decimal(18, 2) as total_price, "
            "timestamp '2026-11-01 10:00:00' as created_at, 'a@b.test' as email "
            "from range(5) t(i)"
        )
    # The dbt project (the package itself) and a manifest naming where the model is.
    write_manifest(
        source / "target",
        [manifest_node("stg_shop__orders", "onefold_staging", path="staging/shop/x.sql")],
    )
    env = {
        **os.environ,
        **locations(source / "target", PACKAGE_DIR),
        "ONEFOLD_TARGET": "duckdb",
        "ONEFOLD_DUCKDB_PATH": str(path),
        "GX_ANALYTICS_ENABLED": "true",  # the command must switch it off itself
        "COLUMNS": "200",
    }
    completed = subprocess.run(
        [sys.executable, "-c", guard, "validate", "--table", "staging.stg_shop__orders"],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "NETWORK ACCESS" not in completed.stderr
    assert "3 expectations, 0 failed on duckdb" in completed.stdout
    assert list(empty.iterdir()) == []


@pytest.mark.e2e
def test_unreachable_postgres_exits_2_without_the_password(built: Built) -> None:
    if built.target != "postgres":
        pytest.skip("an embedded DuckDB file has no server to be unreachable")
    result = built.invoke("--json", env={"ONEFOLD_PG_PORT": str(free_port())})
    assert result.exit_code == 2
    assert "cannot connect to PostgreSQL" in result.output
    assert SECRET not in result.output


@pytest.mark.e2e
def test_postgres_sessions_carry_the_erasure_salt(built: Built) -> None:
    """Staging views need the salt once suppressions exist: GX's connections get it from
    DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT like every other warehouse session."""
    if built.target != "postgres":
        pytest.skip(
            "GX opens its own connections on PostgreSQL only; on DuckDB validate reads "
            "through Onefold's connection, which sets the salt itself (session_salt)"
        )
    import datetime as dt

    from onefold.erasure.session_salt import SALT_ENV
    from onefold.settings import PostgresSettings
    from onefold.testing.dbt import environment
    from onefold.validation.gx_session import GXSession

    salt = "validate-salt-0123456789abcdef"
    with environment({**built.env, SALT_ENV: salt}):
        session = GXSession("postgres", dt.datetime(2026, 11, 2), PostgresSettings())
        try:
            engine = session._postgres_datasource("onefold_staging").get_engine()
            with engine.connect() as connection:
                value = connection.exec_driver_sql(
                    "select current_setting('onefold.erasure_salt', true), "
                    "current_setting('search_path')"
                ).one()
        finally:
            session.close()
    assert value[0] == salt
    assert "onefold_staging" in value[1]


# --- what dbt's own tests do not check ----------------------------------------------------


def _dbt_tests() -> dict[str, dict[str, set[Any]]]:
    """Per model: the columns dbt tests `unique` / `not_null` (tests or enforced contract
    constraints) / `accepted_values`, and the column combinations it tests unique."""
    import yaml

    found: dict[str, dict[str, set[Any]]] = {}
    for path in (PACKAGE_DIR / "models").rglob("*.yml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in document.get("models") or []:
            tests = found.setdefault(
                model["name"],
                {"unique": set(), "not_null": set(), "accepted_values": set(), "combos": set()},
            )
            for test in model.get("data_tests") or []:
                if isinstance(test, dict) and "unique_combination_of_columns" in test:
                    body = test["unique_combination_of_columns"]
                    columns = (body.get("arguments") or body)["combination_of_columns"]
                    tests["combos"].add(frozenset(columns))
            for column in model.get("columns") or []:
                name = column["name"]
                for test in column.get("data_tests") or []:
                    kind = test if isinstance(test, str) else next(iter(test))
                    if kind in ("unique", "not_null", "accepted_values"):
                        tests[kind].add(name)
                for constraint in column.get("constraints") or []:
                    if constraint.get("type") in ("unique", "not_null"):
                        tests[constraint["type"]].add(name)
    return found


def test_project_expectations_do_not_repeat_dbt_tests() -> None:
    """`dbt build` already runs unique / not_null / accepted_values: validate checks what
    those tests cannot (patterns, ranges, distributions, freshness, history)."""
    dbt = _dbt_tests()
    repeats = []
    for spec in load_expectations(PROJECT_EXPECTATIONS).tables:
        tests = dbt.get(spec.table.name)
        if tests is None:
            continue
        for check in spec.checks:
            columns = check.columns
            repeated = (
                (check.kind == "unique" and len(columns) == 1 and columns[0] in tests["unique"])
                or (check.kind == "unique" and frozenset(columns) in tests["combos"])
                or (check.kind == "not_null" and columns[0] in tests["not_null"])
                or (
                    check.kind in ("in_set", "between", "regex")
                    and columns[0] in tests["accepted_values"]
                )
            )
            if repeated:
                repeats.append(f"{check.where} {', '.join(columns)}")
    assert repeats == []


def test_project_expectations_check_distributions_history_and_sources() -> None:
    declared = load_expectations(PROJECT_EXPECTATIONS)
    customers = declared.table("marts.customers")
    shares = {c.columns[0] for c in customers.checks if c.kind == "share"}
    assert {"email", "phone"} <= shares
    orders = declared.table("marts.orders")
    assert {c.kind for c in orders.checks} >= {"median", "between"}
    assert declared.history is not None and declared.sources is not None


def test_settings_have_documented_defaults_and_name_bad_values(tmp_path: Path) -> None:
    table = "  marts.customers:\n    expectations: [{row_count: {min: 1}}]\n"
    path = write_yaml(tmp_path, f"version: 1\nhistory: {{}}\nsources: {{}}\ntables:\n{table}")
    declared = load_expectations(path)
    assert declared.history is not None and declared.sources is not None
    assert declared.history.runs == 5
    assert declared.history.tolerance == {"identity_match_rate": 0.05, "quarantine_rate": 0.02}
    assert declared.sources.max_age == dt.timedelta(days=3)
    assert declared.sources.overrides == {}
    for block, message in [
        ("history: {runs: 0}", "history.runs must be a whole number >= 1"),
        ("history: {tolerance: {match: 0.1}}", "history.tolerance: unknown metric(s) `match`"),
        ("history: {tolerance: {quarantine_rate: 2}}", "a fraction in [0, 1]"),
        ("sources: {overrides: {shop.shop_orders: soon}}", "sources.overrides.shop.shop_orders"),
        ("sources: {max_age: 0d}", "`max_age` must look like"),
    ]:
        path.write_text(f"version: 1\n{block}\ntables:\n{table}", encoding="utf-8")
        with pytest.raises(ConfigError) as error:
            load_expectations(path)
        assert message in str(error.value), str(error.value)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("- share: {column: email, min: 1.5}", "(share): `min` must be a fraction in [0, 1]"),
        ("- share: {column: email}", "(share): needs `min`, `max` or both"),
        ("- median: {column: total_price, min: a}", "(median): `min` must be a number"),
        ("- mean: {column: total_price, min: 5, max: 1}", "`min` (5.0) is greater than `max`"),
    ],
)
def test_malformed_distribution_checks_name_the_entry(
    tmp_path: Path, entry: str, message: str
) -> None:
    path = write_yaml(
        tmp_path, f"version: 1\ntables:\n  marts.customers:\n    expectations:\n      {entry}\n"
    )
    with pytest.raises(ConfigError) as error:
        load_expectations(path)
    assert message in str(error.value)


# A warehouse written directly (no dbt build): one source, its staging models and
# customer_records, with a manifest saying where they are. Seconds, not minutes.
TINY_LOADED_AT = "2026-11-01 10:00:00"
TINY_EXPECTATIONS = """
version: 1
tables:
  staging.stg_shop__orders:
    key: [order_id]
    columns:
      email: {pii: true}
    expectations:
      - row_count: {min: 1}
      - share: {column: email, min: 0.5}
      - median: {column: total_price, min: 5, max: 50}
      - freshness: {column: created_at, max_age: 2d}
"""


@dataclass
class Tiny:
    root: Path
    env: dict[str, str]

    def execute(self, *statements: str) -> None:
        import duckdb

        with duckdb.connect(self.env["ONEFOLD_DUCKDB_PATH"]) as connection:
            for statement in statements:
                connection.execute(statement)

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        import duckdb

        with duckdb.connect(self.env["ONEFOLD_DUCKDB_PATH"], read_only=True) as connection:
            return connection.execute(statement).fetchall()

    def expectations(self, text: str = TINY_EXPECTATIONS) -> Path:
        path = self.root / "expectations.yml"
        path.write_text(text, encoding="utf-8")
        return path

    def invoke(self, *args: str) -> Result:
        with environment(self.env), patch.object(cli_module.console, "_width", 250):
            return CliRunner().invoke(main, ["validate", *args])


def _tiny_manifest(target_path: Path) -> None:
    source_id = "source.onefold.shop.shop_orders"
    base = manifest_node("base_shop__orders", "onefold_staging", path="staging/shop/b.sql")
    base["depends_on"] = {"nodes": [source_id]}
    staged = manifest_node("stg_shop__orders", "onefold_staging", path="staging/shop/s.sql")
    staged["depends_on"] = {"nodes": [base["unique_id"]]}
    quarantine = manifest_node(
        "stg_shop__orders_quarantine", "onefold_staging", path="staging/shop/q.sql"
    )
    records = manifest_node("customer_records", "onefold_marts", path="marts/identity/c.sql")
    document = manifest_document([base, staged, quarantine, records])
    freshness = {
        "warn_after": {"count": 24, "period": "hour"},
        "error_after": {"count": 72, "period": "hour"},
        "filter": None,
    }
    document["sources"] = {
        source_id: {
            "unique_id": source_id,
            "resource_type": "source",
            "package_name": "onefold",
            "source_name": "shop",
            "name": "shop_orders",
            "schema": "raw",
            "identifier": "shop_orders",
            "relation_name": '"raw"."shop_orders"',
            "loaded_at_field": "_loaded_at",
            "freshness": freshness,
            "config": {"enabled": True, "freshness": freshness},
        }
    }
    target_path.mkdir(parents=True, exist_ok=True)
    (target_path / "manifest.json").write_text(json.dumps(document), encoding="utf-8")


@pytest.fixture
def tiny(tmp_path: Path) -> Tiny:
    path = tmp_path / "tiny.duckdb"
    world = Tiny(
        tmp_path,
        {
            **locations(tmp_path / "target", PACKAGE_DIR),
            "ONEFOLD_TARGET": "duckdb",
            "ONEFOLD_DUCKDB_PATH": str(path),
        },
    )
    _tiny_manifest(tmp_path / "target")
    world.execute(
        "create schema raw",
        "create schema onefold_staging",
        "create schema onefold_marts",
        "create table raw.shop_orders as select 'o' || i as order_id, "
        f"timestamp '{TINY_LOADED_AT}' - i * interval 1 hour as _loaded_at from range(10) t(i)",
        "create table onefold_staging.base_shop__orders as select order_id, "
        "false as is_duplicate, false as is_suppressed from raw.shop_orders",
        "create table onefold_staging.stg_shop__orders as select order_id, 'EUR' as currency, "
        "(10 + i)::decimal(18, 2) as total_price, "
        "timestamp '2026-11-01 09:00:00' as created_at, "
        "case when i < 8 then 'p' || i || '@example.com' end as email "
        "from range(10) t(i), raw.shop_orders where raw.shop_orders.order_id = 'o' || i",
        "create table onefold_staging.stg_shop__orders_quarantine "
        "(order_id varchar, quarantine_reason varchar)",
        # 6 records, 2 customers of 2 records and 2 customers of 1: match rate 4/6
        "create table onefold_marts.customer_records as select * from (values "
        "('cus_a', 'shop', 'r1'), ('cus_a', 'crm', 'r2'), ('cus_b', 'shop', 'r3'), "
        "('cus_b', 'crm', 'r4'), ('cus_c', 'shop', 'r5'), ('cus_d', 'shop', 'r6')) "
        "t(customer_id, source, record_key)",
    )
    return world


def _results(report: dict[str, Any], table: str) -> list[dict[str, Any]]:
    (found,) = [t for t in report["tables"] if t["table"] == table]
    return list(found["results"])


@pytest.mark.e2e
def test_an_empty_table_fails_its_expectations_and_does_not_crash(tiny: Tiny) -> None:
    path = tiny.expectations(
        "version: 1\ntables:\n  staging.stg_shop__orders:\n    expectations:\n"
        "      - row_count: {min: 1}\n      - between: {column: total_price, min: 0}\n"
        "      - freshness: {column: created_at, max_age: 2d}\n"
    )
    tiny.execute("delete from onefold_staging.stg_shop__orders")
    result = tiny.invoke("--expectations", str(path), "--now", NOW, "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    results = {r["check"]: r for r in _results(report, "staging.stg_shop__orders")}
    assert not results["row_count"]["success"]
    assert results["row_count"]["observed"] == "0 rows"
    assert not results["freshness"]["success"]
    assert results["freshness"]["observed"] == "no rows"
    assert all(r["error"] is None for r in results.values())
    text = tiny.invoke("--expectations", str(path), "--now", NOW)
    assert text.exit_code == 1, text.output
    assert "Traceback" not in text.output


@pytest.mark.e2e
def test_errors_exit_2_and_are_json_with_json(tiny: Tiny) -> None:
    missing = tiny.invoke("--expectations", str(tiny.root / "nope.yml"), "--json")
    assert missing.exit_code == 2, missing.output
    error = json.loads(missing.stdout)  # the shape every --json command uses (cli_common)
    assert error["event"] == "error"
    assert error["exit_code"] == 2
    assert "nope.yml not found" in error["message"]

    path = tiny.expectations(
        "version: 1\ntables:\n  marts.customers:\n    expectations: [{row_count: {min: 1}}]\n"
    )
    unknown = tiny.invoke("--expectations", str(path), "--json")
    assert unknown.exit_code == 2, unknown.output
    assert "'customers' is not in the dbt manifest" in json.loads(unknown.stdout)["message"]

    tiny.execute("drop table onefold_staging.stg_shop__orders")
    gone = tiny.invoke("--expectations", str(tiny.expectations()), "--json")
    assert gone.exit_code == 2, gone.output
    assert "onefold_staging.stg_shop__orders does not exist" in json.loads(gone.stdout)["message"]


@pytest.mark.e2e
def test_distribution_checks_catch_a_shift(tiny: Tiny) -> None:
    path = tiny.expectations()
    passed = tiny.invoke("--expectations", str(path), "--now", NOW, "--json")
    assert passed.exit_code == 0, passed.output
    by_check = {
        r["check"]: r for r in _results(json.loads(passed.stdout), "staging.stg_shop__orders")
    }
    assert by_check["share"]["observed"] == "80.00% with a value"
    assert by_check["median"]["observed"] == "14.5"

    tiny.execute(
        "update onefold_staging.stg_shop__orders set email = null where order_id <> 'o0'",
        "update onefold_staging.stg_shop__orders set total_price = total_price * 100",
    )
    failed = tiny.invoke("--expectations", str(path), "--now", NOW, "--json")
    assert failed.exit_code == 1, failed.output
    report = json.loads(failed.stdout)
    assert _failures(report) == {
        ("staging.stg_shop__orders", "share", ("email",)),
        ("staging.stg_shop__orders", "median", ("total_price",)),
    }


SOURCES_EXPECTATIONS = TINY_EXPECTATIONS + "sources: {}\n"


@pytest.mark.e2e
def test_each_enabled_source_is_checked_for_freshness(tiny: Tiny) -> None:
    path = tiny.expectations(SOURCES_EXPECTATIONS)
    # the latest load is 2026-11-01 10:00; dbt's error_after for the source is 72h
    fresh = tiny.invoke(
        "--expectations", str(path), "--now", "2026-11-03T12:00:00", "--table", "sources", "--json"
    )
    assert fresh.exit_code == 0, fresh.output
    (source,) = _results(json.loads(fresh.stdout), "sources")
    assert source["columns"] == ["_loaded_at"]
    assert source["relation"] == '"raw"."shop_orders"'
    assert source["expected"].startswith("latest ≥ now - 3d")
    assert "(age 2d 2h)" in source["observed"]

    stale = tiny.invoke(
        "--expectations", str(path), "--now", "2026-11-05T12:00:00", "--table", "sources", "--json"
    )
    assert stale.exit_code == 1, stale.output
    report = json.loads(stale.stdout)
    assert report["tables"] == [{"table": "sources", "success": False, "results": ANY_LIST}]
    assert _failures(report) == {("sources", "source_freshness", ("_loaded_at",))}
    assert _results(report, "sources")[0]["position"] == 1
    assert "shop.shop_orders" in _results(report, "sources")[0]["expected"]

    longer = tiny.expectations(TINY_EXPECTATIONS + "sources: {overrides: {shop.shop_orders: 5d}}\n")
    overridden = tiny.invoke(
        "--expectations", str(longer), "--now", "2026-11-05T12:00:00", "--table", "sources"
    )
    assert overridden.exit_code == 0, overridden.output
    skipped = tiny.expectations(
        TINY_EXPECTATIONS + "sources: {overrides: {shop.shop_orders: skip}}\n"
    )
    none = tiny.invoke(
        "--expectations",
        str(skipped),
        "--now",
        "2026-11-05T12:00:00",
        "--table",
        "sources",
        "--json",
    )
    assert none.exit_code == 0, none.output
    assert _results(json.loads(none.stdout), "sources") == []


class _AnyList(list[Any]):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, list)

    __hash__ = None  # type: ignore[assignment]


ANY_LIST = _AnyList()
HISTORY_EXPECTATIONS = TINY_EXPECTATIONS + "history: {runs: 3}\n"


@pytest.mark.e2e
def test_match_and_quarantine_rates_are_compared_with_previous_runs(tiny: Tiny) -> None:
    path = tiny.expectations(HISTORY_EXPECTATIONS)

    def run() -> tuple[int, dict[tuple[str, str], dict[str, Any]]]:
        result = tiny.invoke("--expectations", str(path), "--now", NOW, "--json")
        assert result.exit_code in (0, 1), result.output
        outcomes = _results(json.loads(result.stdout), "history")
        return result.exit_code, {(r["check"], r["columns"][0]): r for r in outcomes}

    code, first = run()
    assert code == 0
    match = first[("identity_match_rate", "marts.customer_records")]
    assert match["observed"] == "66.67%"
    assert "no previous run" in match["expected"]
    assert first[("quarantine_rate", "shop.shop_orders")]["observed"] == "0.00%"
    code, second = run()
    assert code == 0
    assert (
        "median of 1 previous run: 66.67%"
        in second[("identity_match_rate", "marts.customer_records")]["expected"]
    )

    # the matching breaks (every record its own customer) and a source starts failing
    tiny.execute(
        "update onefold_marts.customer_records set customer_id = 'cus_' || record_key",
        "insert into onefold_staging.stg_shop__orders_quarantine values ('o9', 'bad_total')",
    )
    code, third = run()
    assert code == 1
    broken_match = third[("identity_match_rate", "marts.customer_records")]
    assert not broken_match["success"]
    assert broken_match["observed"] == "0.00%"
    assert "±5.00 points" in broken_match["expected"]
    quarantine = third[("quarantine_rate", "shop.shop_orders")]
    assert not quarantine["success"] and quarantine["observed"] == "10.00%"

    stored = tiny.query(
        "select count(distinct run_id), count(*), count(*) filter (where not success) "
        "from onefold_validation.onefold_validation_history"
    )
    assert stored == [(3, 6, 2)]


@pytest.mark.e2e
def test_progress_is_reported_per_table(tiny: Tiny) -> None:
    from onefold.validate import run_validation

    path = tiny.expectations(HISTORY_EXPECTATIONS + "sources: {}\n")
    seen: list[tuple[str, int, int]] = []
    with environment(tiny.env):
        from onefold.project import locate

        report = run_validation(
            locate(),
            expectations_path=path,
            now=dt.datetime(2026, 11, 2, 6),
            progress=lambda label, done, total: seen.append((label, done, total)),
        )
    assert report.success
    assert seen == [
        ("staging.stg_shop__orders", 0, 3),
        ("sources", 1, 3),
        ("history", 2, 3),
        ("done", 3, 3),
    ]


@pytest.mark.e2e
def test_a_terminal_sees_progress_and_json_does_not(tiny: Tiny) -> None:
    import io
    import re

    from onefold import cli_common

    path = tiny.expectations(HISTORY_EXPECTATIONS)
    for as_json in (False, True):
        stderr = io.StringIO()
        terminal = cli_common.make_console(file=stderr, force_terminal=True, width=160)
        with patch.object(cli_common, "error_console", terminal):
            result = tiny.invoke(
                "--expectations", str(path), "--now", NOW, *(["--json"] if as_json else [])
            )
        assert result.exit_code == 0, result.output
        if as_json:
            assert stderr.getvalue() == ""
            json.loads(result.stdout)
        else:
            shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stderr.getvalue())
            assert "validating staging.stg_shop__orders" in shown
            assert "validating history" in shown


@pytest.mark.e2e
def test_a_source_replaced_by_a_model_is_checked_only_if_it_has_the_load_time(
    tiny: Tiny,
) -> None:
    """A loader adapter (or a relation var) feeds staging instead of the source table:
    its model is checked when it carries the source's loaded_at_field, else left out."""
    manifest_path = tiny.root / "target" / "manifest.json"
    document = json.loads(manifest_path.read_text(encoding="utf-8"))
    adapter = manifest_node("shop_orders_typed", "loader", path="adapters/shop/t.sql")
    document["nodes"][adapter["unique_id"]] = adapter
    base = document["nodes"]["model.onefold.base_shop__orders"]
    base["depends_on"] = {"nodes": [adapter["unique_id"]]}
    base["config"]["meta"] = {"onefold_erasure_input": "shop_orders"}
    manifest_path.write_text(json.dumps(document), encoding="utf-8")
    tiny.execute(
        "create schema loader",
        "create table loader.shop_orders_typed as select order_id from raw.shop_orders",
    )
    path = tiny.expectations(SOURCES_EXPECTATIONS)
    args = ("--expectations", str(path), "--now", "2026-11-05T12:00:00", "--table", "sources")
    unchecked = tiny.invoke(*args, "--json")
    assert unchecked.exit_code == 0, unchecked.output
    assert _results(json.loads(unchecked.stdout), "sources") == []

    tiny.execute(
        "alter table loader.shop_orders_typed add column _loaded_at timestamp",
        "update loader.shop_orders_typed set _loaded_at = timestamp '2026-11-01 10:00:00'",
    )
    checked = tiny.invoke(*args, "--json")
    assert checked.exit_code == 1, checked.output
    (source,) = _results(json.loads(checked.stdout), "sources")
    assert source["relation"] == '"loader"."shop_orders_typed"'
    assert not source["success"]
