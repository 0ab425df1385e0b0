"""The Spark target (docs/spark.md): its settings, Onefold's connection, the dialect
macros that differ from DuckDB's, and connected components (test_connected_components'
graph and helpers), on a local Spark started in this process. In one module, so that
one worker starts Spark and parses the project for it.

Spark needs Java; without it the Spark tests skip and say so (conftest's spark_env,
one local Spark warehouse per test process).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_connected_components import (
    NODE_ID_TEXTS,
    SCHEMA,
    Graph,
    Pair,
    Rows,
    assert_same_components,
    expected_components,
    make_graph,
    materialize,
    node_ids_through_dbt,
    reference_node_id,
)
from test_phones import Case, assert_agrees, libphonenumber_e164, phone_cases
from test_probabilistic_matching import comparisons_differing_from_duckdb, string_pairs

from onefold import phones
from onefold.erasure.salt import Salt
from onefold.erasure.session_salt import SALT_ENV
from onefold.erasure.store import SUPPRESSION_COLUMNS
from onefold.generator import GenerationReport, GeneratorConfig, generate, generate_demo_data
from onefold.settings import SparkSettings
from onefold.spark import REWRITE_SUFFIX, SparkWarehouse
from onefold.sql import literal
from onefold.testing.dbt import environment, locations, run_dbt
from onefold.testing.warehouse import connect_with, target_environment

# Values through each dialect macro: (expression, the value DuckDB gives).
DIALECT_CASES = {
    "integer": ("{{ onefold.safe_cast_integer(\"' -12 '\") }}", -12),
    "integer_rejects_decimals": ("{{ onefold.safe_cast_integer(\"'2.5'\") }}", None),
    "timestamp_offset_to_utc": (
        "{{ onefold.safe_cast_utc_timestamp(\"'2026-01-02T10:00:00+02:00'\") }}",
        dt.datetime(2026, 1, 2, 8, 0),
    ),
    "timestamp_without_offset_is_utc": (
        "{{ onefold.safe_cast_utc_timestamp(\"'2026-01-02 10:00:00'\") }}",
        dt.datetime(2026, 1, 2, 10, 0),
    ),
    "timestamp_rejects_words": ("{{ onefold.safe_cast_utc_timestamp(\"'yesterday'\") }}", None),
    "date": ("{{ onefold.safe_cast_date(\"'2026-03-04'\") }}", dt.date(2026, 3, 4)),
    "date_rejects_words": ("{{ onefold.safe_cast_date(\"'today'\") }}", None),
    "decimal": ("{{ onefold.safe_cast_decimal(\"'12.345'\") }}", 12.35),
    "json_text": (
        '{{ onefold.json_text(onefold.safe_parse_json("\'{\\"page\\": {\\"url\\": \\"/a\\"}}\'"),'
        " ['page', 'url']) }}",
        "/a",
    ),
    "json_invalid_is_null": ("{{ onefold.safe_parse_json(\"'{not json'\") }}", None),
    "regex_full_match": ("{{ onefold.regex_full_match(\"'ab12'\", '[a-z]+\\\\d+') }}", True),
    "regex_full_match_is_whole": (
        "{{ onefold.regex_full_match(\"'ab12x'\", '[a-z]+\\\\d+') }}",
        False,
    ),
    "regex_search": ("{{ onefold.regex_search(\"'a.b'\", \"'\\\\.'\") }}", True),
    "regex_replace_all": ("{{ onefold.regex_replace_all(\"'a.b.c'\", '\\\\.', '') }}", "abc"),
    "sha256_hex": (
        "{{ onefold.sha256_hex(\"'a'\") }}",
        "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
    ),
    "text_with_quote_and_backslash": ('{{ onefold.sql_text("it\'s \\\\ fine") }}', "it's \\ fine"),
    "text_plain": ("{{ onefold.sql_text('plain') }}", "plain"),
}


def test_the_profile_and_the_package_give_spark_the_same_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from onefold.project import render_target

    repo = Path(__file__).resolve().parents[2]
    for name in ("MASTER", "DIR", "DRIVER_MEMORY", "SHUFFLE_PARTITIONS"):
        monkeypatch.delenv(f"ONEFOLD_SPARK_{name}", raising=False)
    target = render_target(repo, "onefold", "spark")
    assert target.type == "spark" and target.spark is not None
    assert target.spark.config == SparkSettings().session_config()
    # A profile's parameters win over the environment's defaults.
    monkeypatch.setenv("ONEFOLD_SPARK_SHUFFLE_PARTITIONS", "3")
    assert (
        SparkSettings(config={"spark.sql.shuffle.partitions": "7"}).session_config()[
            "spark.sql.shuffle.partitions"
        ]
        == "7"
    )


def test_a_thrift_target_is_refused_with_the_reason() -> None:
    from onefold.errors import ConfigError
    from onefold.project import target_from_profile

    with pytest.raises(ConfigError, match=r"method 'thrift'.*docs/spark\.md"):
        target_from_profile(
            "cluster", {"type": "spark", "method": "thrift", "schema": "onefold"}, "onefold"
        )


# The generated world the Spark tests share (generated once per module).
WORLD = GeneratorConfig(persons=40, seed=3, end_date=dt.date(2026, 11, 1))


@pytest.fixture(scope="module")
def generated_on_spark(spark_env: dict[str, str]) -> GenerationReport:
    """WORLD's raw tables in the Spark warehouse; the generator's report."""
    warehouse = connect_with(spark_env)
    try:
        return generate_demo_data(warehouse, WORLD)
    finally:
        warehouse.close()


@pytest.mark.e2e
def test_generated_raw_tables_land_in_spark_whole(
    spark_env: dict[str, str], generated_on_spark: GenerationReport
) -> None:
    report = generated_on_spark
    warehouse = connect_with(spark_env)
    try:
        expected = generate(WORLD)
        for table, landed in expected.raw.items():
            rows = warehouse.query(f"select count(*) from raw.{table}")[0][0]
            assert rows == len(landed.frame) == report.row_counts[table], table
        email = expected.raw["crm_contacts"].frame["email"].dropna().iloc[0]
        found = warehouse.query("select count(*) from raw.crm_contacts where email = ?", [email])
        assert found[0][0] >= 1
    finally:
        warehouse.close()


def _show(
    cases: dict[str, tuple[str, Any]], env: dict[str, str], target_path: Path
) -> dict[str, Any]:
    columns = ", ".join(f"{expression} as {name}" for name, (expression, _) in cases.items())
    result = run_dbt(["show", "--inline", f"select {columns}", "--limit", "1"], env, target_path)
    table = result.results[0].agate_table
    return dict(zip(table.column_names, table.rows[0], strict=True))


@pytest.mark.e2e
def test_dialect_macros_give_what_duckdb_gives(spark_env: dict[str, str], tmp_path: Path) -> None:
    on_spark = _show(DIALECT_CASES, spark_env, tmp_path / "spark-target")
    duckdb_env = target_environment("duckdb", tmp_path, "duckdb")
    on_duckdb = _show(DIALECT_CASES, duckdb_env, tmp_path / "duckdb-target")
    for name, (_, expected) in DIALECT_CASES.items():
        for target, values in (("duckdb", on_duckdb), ("spark", on_spark)):
            value = values[name]
            if isinstance(expected, float):
                value = float(value)
            if isinstance(expected, dt.datetime) and value is not None:
                value = value.replace(tzinfo=None)
            assert value == expected, f"{name} on {target}: {value!r}"


# A table, and the condition its rows are deleted or updated by: `email in (subquery)`
# is unknown (null) for a null email, and for every email once the subquery holds a null.
COPY_ON_WRITE_ROWS = "(1, 'a@x.io'), (2, cast(null as string)), (3, 'c@x.io')"
ERASED_EMAILS = "('a@x.io'), (cast(null as string))"
COPY_ON_WRITE_CONDITION = "email in (select email from cow_check.erased)"


@pytest.mark.e2e
def test_copy_on_write_changes_the_rows_delete_and_update_change(
    spark_env: dict[str, str], tmp_path: Path
) -> None:
    """delete_rows and update_rows rewrite a Spark table to the rows DELETE and UPDATE
    leave on DuckDB: a row whose condition is unknown stays, unchanged."""
    import duckdb

    reference = duckdb.connect()
    warehouse = connect_with(spark_env)
    try:
        for execute, storage in ((reference.execute, ""), (warehouse.execute, " using parquet")):
            execute("create schema if not exists cow_check")
            for table, rows, columns in (
                ("deleted", COPY_ON_WRITE_ROWS, "id, email"),
                ("updated", COPY_ON_WRITE_ROWS, "id, email"),
                ("erased", ERASED_EMAILS, "email"),
            ):
                execute(f"drop table if exists cow_check.{table}")
                execute(
                    f"create table cow_check.{table}{storage} as "
                    f"select * from (values {rows}) as t({columns})"
                )
        reference.execute(f"delete from cow_check.deleted where {COPY_ON_WRITE_CONDITION}")
        reference.execute(
            f"update cow_check.updated set email = 'x' where {COPY_ON_WRITE_CONDITION}"
        )
        for macro, arguments in (
            ("delete_rows", {"table": "cow_check.deleted"}),
            ("update_rows", {"table": "cow_check.updated", "assignments": {"email": "'x'"}}),
        ):
            run_dbt(
                [
                    "run-operation",
                    f"onefold.{macro}",
                    "--args",
                    json.dumps({**arguments, "condition": COPY_ON_WRITE_CONDITION}),
                ],
                spark_env,
                tmp_path / "target",
            )
        for table in ("deleted", "updated"):
            statement = f"select id, email from cow_check.{table} order by id"
            expected = reference.execute(statement).fetchall()
            assert sorted(warehouse.query(statement)) == expected
        assert [row[0] for row in expected] == [1, 2, 3] and expected[0][1] == "x"
    finally:
        warehouse.close()


@pytest.mark.e2e
def test_the_packages_literals_reach_spark_as_written(spark_env: dict[str, str]) -> None:
    """onefold.sql.literal writes standard SQL; Spark reads the same text from it,
    quotes and backslashes included (spark_sql)."""
    texts = ["O'Brien", "C:\\", "it''s \\' here", "\\d+", "plain"]
    warehouse = connect_with(spark_env)
    try:
        (row,) = warehouse.query("select " + ", ".join(literal(text) for text in texts))
    finally:
        warehouse.close()
    assert list(row) == texts


@pytest.mark.e2e
def test_a_rewrite_interrupted_while_writing_runs_again(spark_env: dict[str, str]) -> None:
    """A crash during the work table's `create table … as` leaves its files and no
    table; the next rewrite of that table writes its work table over them."""
    warehouse = connect_with(spark_env)
    assert isinstance(warehouse, SparkWarehouse)
    try:
        warehouse.execute("create schema if not exists rewrite_check")
        warehouse.execute("drop table if exists rewrite_check.kept")
        warehouse.execute(
            "create table rewrite_check.kept using parquet as "
            "select * from (values (1), (2), (3)) as t(id)"
        )
        location = warehouse.session.catalog.getDatabase("rewrite_check").locationUri
        warehouse.session.range(5).write.parquet(f"{location}/kept{REWRITE_SUFFIX}")
        warehouse.rewrite("rewrite_check.kept", "select * from rewrite_check.kept where id <> 2")
        assert sorted(warehouse.query("select id from rewrite_check.kept")) == [(1,), (3,)]
        assert not warehouse.table_exists("rewrite_check", f"kept{REWRITE_SUFFIX}")
    finally:
        warehouse.close()


@pytest.mark.parametrize("command", ["summary", "evaluate", "sync", "console"])
def test_commands_that_need_marts_say_they_do_not_run_on_spark(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from onefold.cli import main
    from onefold.testing.dbt import DEMO_PROJECT_DIR, PACKAGE_DIR

    monkeypatch.setenv("DBT_PROFILES_DIR", str(PACKAGE_DIR))
    arguments = {"explain": ["x@example.com"], "sync": ["--all"]}
    result = CliRunner().invoke(
        main,
        [command, "--project-dir", str(DEMO_PROJECT_DIR), "--target", "spark", "--json",
         *arguments.get(command, [])],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"`onefold {command}` does not run on a Spark target yet" in result.output
    assert "docs/spark.md" in result.output


# ------------------------------------------- connected components (test_connected_components)


def load_spark(env: Mapping[str, str], edges: Sequence[Pair]) -> None:
    frame = pd.DataFrame(edges, columns=["left_node_id", "right_node_id"], dtype="Int64")
    warehouse = connect_with(env)
    try:
        warehouse.write_df(SCHEMA, "edges", frame)
    finally:
        warehouse.close()


def spark_rows(env: Mapping[str, str], table: str) -> Rows:
    warehouse = connect_with(env)
    try:
        rows = warehouse.query(f"select node_id, component_id from {table}")
    finally:
        warehouse.close()
    return [(int(node), int(component)) for node, component in rows]


def spark_work_tables(env: Mapping[str, str]) -> list[str]:
    """The rounds' work tables left in Spark's work schema (spark__cc_temporary_schema)."""
    warehouse = connect_with(env)
    try:
        if not warehouse.query("show schemas like 'onefold_cc_work'"):
            return []
        return [str(row[1]) for row in warehouse.query("show tables in onefold_cc_work")]
    finally:
        warehouse.close()


@pytest.fixture(scope="module")
def graph() -> Graph:
    return make_graph()


@pytest.mark.e2e
def test_spark_matches_networkx(graph: Graph, spark_env: dict[str, str], tmp_path: Path) -> None:
    # A sixteenth of the edges (every shape, in pieces): each of Spark's statements costs
    # a job and a parquet write, and the rounds' logic is the other targets' too.
    edges = graph.edges[::16]
    sample = Graph(edges, expected_components(edges), graph.shape_of)
    load_spark(spark_env, sample.edges)
    _, log = materialize(spark_env, tmp_path, "auto")
    assert_same_components(sample, spark_rows(spark_env, f"{SCHEMA}.components"))
    assert "(method rounds)" in log
    assert spark_work_tables(spark_env) == []


@pytest.mark.e2e
def test_node_id_is_the_same_on_spark_and_duckdb(spark_env: dict[str, str], tmp_path: Path) -> None:
    on_spark = node_ids_through_dbt(spark_env, tmp_path, NODE_ID_TEXTS)
    assert on_spark == [(i, reference_node_id(text)) for i, text in enumerate(NODE_ID_TEXTS)]


@pytest.mark.e2e
def test_phone_functions_agree_with_libphonenumber_on_spark(
    spark_env: dict[str, str], tmp_path: Path
) -> None:
    """The SQL port on Spark (macros/identity/phone_functions.sql) against libphonenumber,
    on one number per region in every notation (test_phones runs ten per region on
    DuckDB and PostgreSQL)."""
    cases = [
        Case(text, code, libphonenumber_e164(text, code), phones.e164(text, code))
        for text, code in phone_cases(per_region=1)
    ]
    # The functions are temporary: created in this process's session, which the
    # connection below shares (one Spark per process).
    run_dbt(["run-operation", "create_phone_functions"], spark_env, tmp_path / "target")
    warehouse = connect_with(spark_env)
    try:
        frame = pd.DataFrame(
            [(i, case.text, case.calling_code) for i, case in enumerate(cases)],
            columns=["i", "v", "calling_code"],
        )
        warehouse.write_df("onefold_phones", "phone_cases", frame)
        found = warehouse.query(
            f"select i, {phones.SQL_FUNCTION}(v, calling_code)"
            " from onefold_phones.phone_cases order by i"
        )
    finally:
        warehouse.close()
    assert_agrees(cases, [value for _, value in found])


@pytest.mark.e2e
def test_string_comparisons_agree_with_duckdb(spark_env: dict[str, str], tmp_path: Path) -> None:
    """Spark's Jaro-Winkler (an expression; macros/identity/probabilistic_matching.sql)
    and Levenshtein against DuckDB's, on test_probabilistic_matching's pairs."""
    pairs = string_pairs()
    warehouse = connect_with(spark_env)
    try:
        frame = pd.DataFrame([(i, a, b) for i, (a, b) in enumerate(pairs)], columns=["i", "a", "b"])
        warehouse.write_df("onefold_match", "pairs", frame)
    finally:
        warehouse.close()
    query = (
        "select i, {{ onefold.jaro_winkler_similarity('a', 'b') }} as similarity,"
        " {{ onefold.levenshtein_distance('a', 'b') }} as distance"
        " from onefold_match.pairs order by i"
    )
    result = run_dbt(["show", "--inline", query, "--limit", "-1"], spark_env, tmp_path / "target")
    found = [(row[1], row[2]) for row in result.results[0].agate_table.rows]
    assert comparisons_differing_from_duckdb(pairs, found)[:10] == []


# The identity pipeline, from raw tables to customer_records and what `onefold explain`
# reads.
IDENTITY_SELECTION = "+customer_records +identity_map +identity_edges +identity_blocked_values"
SALT = "spark-suite-salt-0123456789abcdef"


def customer_records(env: Mapping[str, str]) -> set[tuple[str, str, str]]:
    warehouse = connect_with(env)
    try:
        rows = warehouse.query(
            "select source, record_key, customer_id from onefold_marts.customer_records"
        )
    finally:
        warehouse.close()
    return {(str(source), str(key), str(customer)) for source, key, customer in rows}


def suppressed_events(env: Mapping[str, str]) -> set[str]:
    warehouse = connect_with(env)
    try:
        rows = warehouse.query(
            "select message_id from onefold_staging.base_web__events where is_suppressed"
        )
    finally:
        warehouse.close()
    return {str(message_id) for (message_id,) in rows}


def erased_identifiers(web_events: pd.DataFrame) -> tuple[str, str, pd.DataFrame]:
    """A phone number written in events' traits JSON (its path and the free-text screen
    find it) and another visitor's anonymous id; the match keys' suppression rows."""
    traits = web_events["traits"].dropna().map(json.loads)
    phones_written = traits.map(lambda values: values.get("phone")).dropna()
    phone = next(text for text in phones_written if phones.e164(text, "1"))
    carriers = web_events.loc[phones_written[phones_written == phone].index, "anonymous_id"]
    anonymous_id = next(a for a in web_events["anonymous_id"].dropna() if a not in set(carriers))
    phone_key = hashlib.sha256(str(phones.e164(phone, "1")).encode()).hexdigest()
    salt = Salt(SALT)
    keys = {"phone": phone_key, "anonymous_id": anonymous_id}
    rows = pd.DataFrame(
        [
            (
                kind,
                "match_key",
                salt.hash(key),
                salt.fingerprint,
                f"r-{kind}",
                dt.datetime(2026, 11, 2),
            )
            for kind, key in keys.items()
        ],
        columns=list(SUPPRESSION_COLUMNS),
    )
    return phone, anonymous_id, rows


@pytest.mark.e2e
def test_spark_builds_the_customers_duckdb_builds(
    spark_env: dict[str, str], generated_on_spark: GenerationReport, tmp_path: Path
) -> None:
    """Staging and identity build on Spark and give every record the customer id DuckDB
    gives it, on the same generated data, with the same erased people screened out."""
    salted_spark = {**spark_env, SALT_ENV: SALT}
    duckdb_env = {**target_environment("duckdb", tmp_path, "duckdb"), SALT_ENV: SALT}
    web_events = generate(WORLD).raw["web_events"].frame
    phone, anonymous_id, suppressions = erased_identifiers(web_events)
    warehouse = connect_with(duckdb_env)
    try:
        generate_demo_data(warehouse, WORLD)
    finally:
        warehouse.close()
    for env in (salted_spark, duckdb_env):
        warehouse = connect_with(env)
        try:
            warehouse.write_df("onefold_privacy", "erasure_suppressions", suppressions)
        finally:
            warehouse.close()
    # The models and the seeds they read; their data tests run on Spark in the full
    # build of docs/spark.md, DuckDB's in test_e2e_build.
    for env in (salted_spark, duckdb_env):
        run_dbt(
            [
                "build",
                "--select",
                *IDENTITY_SELECTION.split(),
                "--resource-type",
                "model",
                "--resource-type",
                "seed",
            ],
            env,
            tmp_path / f"{env['ONEFOLD_TARGET']}-target",
        )
    on_spark = customer_records(salted_spark)
    on_duckdb = customer_records(duckdb_env)
    assert len(on_duckdb) > 40
    assert on_spark == on_duckdb
    erased = web_events[
        (web_events["anonymous_id"] == anonymous_id)
        | web_events["traits"].fillna("").str.contains(phone, regex=False)
    ]["message_id"]
    assert set(erased) <= suppressed_events(salted_spark) == suppressed_events(duckdb_env)
    # `onefold explain` tells the same story of the customer with the most identifiers.
    customer = max(
        {customer for _, _, customer in on_duckdb},
        key=lambda c: (sum(1 for *_, other in on_duckdb if other == c), c),
    )
    explained = [
        explain_json(env, tmp_path / f"{env['ONEFOLD_TARGET']}-target", customer)
        for env in (salted_spark, duckdb_env)
    ]
    assert explained[0]["customer_id"] == customer and len(explained[0]["identifiers"]) >= 3
    assert explained[0] == explained[1]
    # `onefold erase` takes that customer out of Spark's tables (copy on write) as it
    # deletes them from DuckDB's, row for row, and --verify finds nothing left.
    erasures = [
        erase_and_verify(env, tmp_path / f"{env['ONEFOLD_TARGET']}-target", customer)
        for env in (salted_spark, duckdb_env)
    ]
    (spark_erased, spark_verified), (duckdb_erased, duckdb_verified) = erasures
    assert spark_erased["status"] == duckdb_erased["status"] == "completed"
    assert spark_erased["found"] == duckdb_erased["found"]
    # Spark's staging base models are tables (copies of raw rows), DuckDB's are views: the
    # copies lose what their raw tables lose.
    spark_steps, duckdb_steps = steps_with_rows(spark_erased), steps_with_rows(duckdb_erased)
    copies = {step: rows for step, rows in spark_steps.items() if ".base_" in step}
    assert {step: rows for step, rows in spark_steps.items() if step not in copies} == duckdb_steps
    assert copies and all(
        rows == duckdb_steps[f"raw:{step.split('base_')[1].replace('__', '_')}"]
        for step, rows in copies.items()
    )
    assert duckdb_steps["derived:onefold_marts.customer_records"] >= 3
    for verified in (spark_verified, duckdb_verified):
        assert verified["residuals"] == [] and verified["tables_scanned"] > 10
    after = customer_records(salted_spark)
    assert after == customer_records(duckdb_env)
    assert after == {row for row in on_duckdb if row[2] != customer}
    assert spark_table_names(salted_spark, REWRITE_SUFFIX) == []


def erase_and_verify(env: Mapping[str, str], target_path: Path, customer: str) -> list[Any]:
    """`onefold erase --customer-id … --execute`, then `--verify`: their JSON."""
    from click.testing import CliRunner

    from onefold.cli import main

    documents = []
    with environment({**env, **locations(target_path)}):
        for arguments in (
            ["--customer-id", customer, "--request-id", "r-erase", "--execute"],
            ["--verify", "r-erase"],
        ):
            result = CliRunner().invoke(main, ["erase", "--json", *arguments])
            assert result.exit_code == 0, result.output
            document = json.loads(result.stdout)
            documents.append(document[0] if isinstance(document, list) else document)
    return documents


def steps_with_rows(outcome: Mapping[str, Any]) -> dict[str, int]:
    """The erasure's steps that changed rows, and how many."""
    return {step["step"]: step["rows"] for step in outcome["statements"] if step["rows"]}


def spark_table_names(env: Mapping[str, str], suffix: str) -> list[str]:
    warehouse = connect_with(env)
    try:
        schemas = [str(row[0]) for row in warehouse.query("show schemas")]
        return [
            f"{schema}.{row[1]}"
            for schema in schemas
            for row in warehouse.query(f"show tables in `{schema}`")
            if str(row[1]).endswith(suffix)
        ]
    finally:
        warehouse.close()


def explain_json(env: Mapping[str, str], target_path: Path, value: str) -> Any:
    """`onefold explain --json value` on the target of `env`, floats to 9 places (Spark
    and DuckDB may sum a match weight in another order)."""
    from click.testing import CliRunner

    from onefold.cli import main

    with environment({**env, **locations(target_path)}):
        result = CliRunner().invoke(main, ["explain", "--json", value])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout, parse_float=lambda text: round(float(text), 9))
