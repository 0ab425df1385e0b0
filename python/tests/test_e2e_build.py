"""End to end on both warehouses: generate demo data, `dbt build`, check what came out.

One build per target (module-scoped), then many checks against it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from onefold.generator import GeneratorConfig, generate_demo_data
from onefold.predictions import clv, suggestions
from onefold.predictions.snapshots import CLASSIFIER_FEATURES, feature_matrix
from onefold.predictions.train import MODEL_NAMES, TrainResult, train
from onefold.project import DbtProject
from onefold.summary import count_sources, load_manifest, staging_models
from onefold.testing.dbt import environment, locate_project, locations, run_dbt
from onefold.testing.warehouse import connect_with, target_environment
from onefold.warehouse import Warehouse

pytestmark = pytest.mark.e2e

PERSONS = 1500
SEED = 11
END_DATE = dt.date(2026, 11, 1)
# "Now" is the data's last day: the prediction snapshots' cutoffs count back from it.
NOW_VARS = ("--vars", f"{{onefold__now: '{END_DATE.isoformat()}'}}")
#: A segment demo/ declares, for the lookalike checks.
LOOKALIKE_SEGMENT = "lapsed_customers"
LOOKALIKE = f"lookalike__{LOOKALIKE_SEGMENT}"


@dataclass
class Built:
    target: str
    env: dict[str, str]
    target_path: Path

    def connect(self) -> Warehouse:
        return connect_with(self.env)

    def project(self) -> DbtProject:
        return locate_project(self.env, self.target_path)


def _build(target: str, env: dict[str, str], target_path: Path) -> Built:
    # The CLI finds the demo project and this build's manifest as dbt would.
    env = {**env, **locations(target_path)}
    built = Built(target, env, target_path)
    warehouse = built.connect()
    try:
        generate_demo_data(
            warehouse, GeneratorConfig(persons=PERSONS, seed=SEED, end_date=END_DATE)
        )
    finally:
        warehouse.close()
    run_dbt(["build", *NOW_VARS], env, target_path)
    return built


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    root = tmp_path_factory.mktemp(f"e2e-{request.param}")
    env = target_environment(
        request.param, root, "onefold_e2e", lambda: request.getfixturevalue("postgres_server")
    )
    yield _build(request.param, env, root / "target")


def _scalar(warehouse: Warehouse, statement: str) -> int:
    return int(warehouse.query(statement)[0][0])


def test_every_source_reconciles(built: Built) -> None:
    warehouse = built.connect()
    try:
        counts = count_sources(warehouse, staging_models(load_manifest(built.target_path)))
    finally:
        warehouse.close()
    assert {c.model.source_name.split(".")[1] for c in counts} == {
        "web_events",
        "shop_customers",
        "shop_orders",
        "shop_order_lines",
        "crm_contacts",
        "pos_transactions",
        "email_events",
        "consent_events",
        "erasure_requests",
    }
    for source in counts:
        assert source.raw_rows > 0, source.model.name
        assert source.staged_rows > 0, source.model.name
        assert source.is_balanced, source


@pytest.mark.parametrize(
    ("table", "quarantine", "reasons", "noise_kinds"),
    [
        ("web_events", "stg_web__events_quarantine", ["invalid_json"], ["broken_json"]),
        (
            "web_events",
            "stg_web__events_quarantine",
            ["invalid_timestamp", "missing_timestamp"],
            ["invalid_timestamp"],
        ),
        (
            "web_events",
            "stg_web__events_quarantine",
            ["timestamp_out_of_range"],
            ["timestamp_out_of_range"],
        ),
        (
            "email_events",
            "stg_email__events_quarantine",
            ["invalid_timestamp", "missing_timestamp", "timestamp_out_of_range"],
            ["invalid_timestamp", "timestamp_out_of_range"],
        ),
        (
            "pos_transactions",
            "stg_pos__transactions_quarantine",
            ["invalid_timestamp", "missing_timestamp", "timestamp_out_of_range"],
            ["invalid_timestamp", "timestamp_out_of_range"],
        ),
    ],
)
def test_quarantine_matches_injected_malformations(
    built: Built, table: str, quarantine: str, reasons: list[str], noise_kinds: list[str]
) -> None:
    warehouse = built.connect()
    try:
        quarantined = _scalar(
            warehouse,
            (
                f"select count(*) from onefold_staging.{quarantine} where quarantine_reason in "
                f"({', '.join(repr(r) for r in reasons)})"
            ),
        )
        injected = _scalar(
            warehouse,
            (
                f"select count(*) from raw_truth.noise_log where source_table = '{table}' "
                f"and noise_kind in ({', '.join(repr(k) for k in noise_kinds)})"
            ),
        )
    finally:
        warehouse.close()
    assert injected > 0
    assert quarantined == injected


@pytest.mark.parametrize(
    ("table", "base"), [("web_events", "base_web__events"), ("email_events", "base_email__events")]
)
def test_duplicates_dropped_match_injected_duplicates(built: Built, table: str, base: str) -> None:
    warehouse = built.connect()
    try:
        dropped = _scalar(
            warehouse, f"select count(*) from onefold_staging.{base} where is_duplicate"
        )
        injected = _scalar(
            warehouse,
            (
                f"select count(*) from raw_truth.noise_log where source_table = '{table}' "
                "and noise_kind = 'duplicate'"
            ),
        )
    finally:
        warehouse.close()
    assert injected > 0
    assert dropped == injected


def test_staged_timestamps_are_utc_and_in_range(built: Built) -> None:
    warehouse = built.connect()
    try:
        low, high = warehouse.query(
            "select min(occurred_at), max(occurred_at) from onefold_staging.stg_web__events"
        )[0]
    finally:
        warehouse.close()
    assert low >= dt.datetime(2000, 1, 1)
    assert high <= dt.datetime.combine(END_DATE, dt.time()) + dt.timedelta(days=2)


def test_identity_quality_is_sane_on_both_targets(built: Built) -> None:
    from onefold.evaluate import evaluate

    warehouse = built.connect()
    try:
        result = evaluate(warehouse, built.project())
    finally:
        warehouse.close()
    assert result.records_evaluated > 10_000
    assert result.precision >= 0.99, result
    assert result.recall >= 0.93, result


def test_evaluate_reads_any_truth_relation_and_scores_each_source(built: Built) -> None:
    """The demo's truth under other names gives the same scores; per source, the pairs
    with a record of it; a truth with two owners for one record, or without a named
    column, is refused by name."""
    from onefold.errors import ConfigError
    from onefold.evaluate import Truth, evaluate

    warehouse = built.connect()
    try:
        warehouse.execute("create schema if not exists evaluation_truth")
        warehouse.execute(
            "create table evaluation_truth.owners as select source_table as system, "
            "record_key as id, person_id as who from raw_truth.record_owners"
        )
        warehouse.execute(
            "create table evaluation_truth.two_owners as select * from evaluation_truth.owners "
            "union all select system, id, who || '-other' from evaluation_truth.owners "
            "where system = 'crm_contacts'"
        )
        default = evaluate(warehouse, built.project())
        renamed = evaluate(
            warehouse, built.project(), Truth("evaluation_truth.owners", "system", "id", "who")
        )
        with pytest.raises(ConfigError, match="more than one who"):
            evaluate(
                warehouse,
                built.project(),
                Truth("evaluation_truth.two_owners", "system", "id", "who"),
            )
        with pytest.raises(ConfigError, match="no person column 'person_id'"):
            evaluate(warehouse, built.project(), Truth("evaluation_truth.owners", "system", "id"))
    finally:
        warehouse.close()
    assert (renamed.precision, renamed.recall, renamed.records_evaluated) == (
        default.precision,
        default.recall,
        default.records_evaluated,
    )
    sources = renamed.by_source
    assert {"web_events", "email_events", "shop_customers", "crm_contacts"} <= set(sources)
    assert sum(s.records for s in sources.values()) == renamed.records_evaluated
    # Every predicted pair has a record of some source: no source sees more than all.
    assert all(s.predicted_pairs <= renamed.predicted_pairs for s in sources.values())
    assert all(s.precision >= 0.98 for s in sources.values()), sources
    # The consent and erasure records the generator owns are in no identity source.
    assert renamed.records_not_found > 0


FUZZY_KINDS = ("fuzzy_new_email", "fuzzy_signup")


def test_probabilistic_links_find_the_records_no_exact_key_links(built: Built) -> None:
    """The generator's fuzzy contacts share no exact key with their person's other
    records: probabilistic matching must link nearly all of them to their own person and
    none to another, without costing the rest of the graph precision or recall."""
    from onefold.evaluate import evaluate

    warehouse = built.connect()
    try:
        result = evaluate(warehouse, built.project())
        linked = warehouse.query(f"""
            with fuzzy as (
                select distinct noise.source_table, noise.record_key, owners.person_id
                from raw_truth.noise_log as noise
                inner join raw_truth.record_owners as owners
                    on noise.source_table = owners.source_table
                    and noise.record_key = owners.record_key
                where noise.noise_kind in ('{"', '".join(FUZZY_KINDS)}')
            ),
            links as (
                select edges.source, edges.record_key, owners.person_id as linked_person
                from onefold_marts.identity_edges as edges
                inner join raw_truth.record_owners as owners
                    on edges.linked_source = owners.source_table
                    and edges.linked_record_key = owners.record_key
                where edges.rule = 'probabilistic' and edges.is_active
            )
            select
                count(distinct fuzzy.record_key),
                count(distinct case when links.linked_person = fuzzy.person_id
                    then fuzzy.record_key end),
                count(distinct case when links.linked_person != fuzzy.person_id
                    then fuzzy.record_key end)
            from fuzzy
            left join links
                on fuzzy.source_table = links.source and fuzzy.record_key = links.record_key
        """)[0]
        wrong_links = warehouse.query("""
            select count(*) from onefold_marts.identity_edges as edges
            inner join raw_truth.record_owners as mine
                on edges.source = mine.source_table and edges.record_key = mine.record_key
            inner join raw_truth.record_owners as theirs
                on edges.linked_source = theirs.source_table
                and edges.linked_record_key = theirs.record_key
            where edges.rule = 'probabilistic' and edges.is_active
                and mine.person_id != theirs.person_id
        """)[0][0]
        active_links = warehouse.query(
            "select count(*) from onefold_marts.identity_edges "
            "where rule = 'probabilistic' and is_active"
        )[0][0]
    finally:
        warehouse.close()
    fuzzy, to_their_person, to_someone_else = (int(v) for v in linked)
    assert fuzzy >= 10, linked
    assert to_their_person >= 0.9 * fuzzy, linked
    assert to_someone_else == 0, linked
    assert int(wrong_links) <= 0.01 * int(active_links), (wrong_links, active_links)
    assert set(FUZZY_KINDS) <= set(result.by_noise_kind), result.by_noise_kind
    before = result.before_probabilistic
    assert before is not None
    assert result.recall > before.recall, (result.recall, before)
    assert result.precision >= before.precision - 0.001, (result.precision, before)
    for kind in FUZZY_KINDS:
        assert result.before_probabilistic_by_noise_kind[kind].recall == 0.0
        assert result.by_noise_kind[kind].recall > 0.5, result.by_noise_kind[kind]


def test_match_parameters_are_trained_once_and_reused(built: Built) -> None:
    """One set per declaration: m and u are distributions over each field's levels, a
    later run scores with the stored set, and onefold__match_retrain trains a new one."""
    warehouse = built.connect()
    try:
        sums = warehouse.query(
            "select field_name, sum(m_probability), sum(u_probability), "
            "count(distinct training_id) "
            "from onefold_marts.identity_match_parameters group by field_name"
        )
        prior = warehouse.query(
            "select min(prior_match_probability), max(prior_match_probability) "
            "from onefold_marts.identity_match_parameters"
        )[0]
    finally:
        warehouse.close()
    assert {str(name) for name, *_ in sums} >= {"first_name", "last_name", "birth_date", "postcode"}
    for name, m_total, u_total, sets in sums:
        assert abs(float(m_total) - 1) < 1e-9 and abs(float(u_total) - 1) < 1e-9, name
        assert int(sets) == 1, name
    assert 0 < float(prior[0]) == float(prior[1]) < 0.01, prior

    select = ["--select", "identity_match_parameters"]
    run_dbt(["run", *select], built.env, built.target_path)
    run_dbt(
        ["run", *select, "--vars", "{onefold__match_retrain: true}"], built.env, built.target_path
    )
    warehouse = built.connect()
    try:
        sets = warehouse.query(
            "select training_id, count(*), sum(m_probability) "
            "from onefold_marts.identity_match_parameters group by training_id"
        )
    finally:
        warehouse.close()
    assert len(sets) == 2, sets
    # The same data trains the same parameters.
    assert abs(float(sets[0][2]) - float(sets[1][2])) < 1e-6 and sets[0][1] == sets[1][1], sets


def test_explain_shows_the_waterfall_of_a_probabilistic_link(built: Built) -> None:
    from onefold.explain import explain

    warehouse = built.connect()
    try:
        customer_id = warehouse.query(
            "select min(customer_id) from onefold_marts.identity_edges "
            "where rule = 'probabilistic' and is_active"
        )[0][0]
        result = explain(warehouse, str(customer_id), built.project())
    finally:
        warehouse.close()
    assert result.probabilistic_links, result
    link = result.probabilistic_links[0]
    assert link.waterfall[0].field == "prior" and len(link.waterfall) >= 5
    # The bars add up to the match weight the probability was computed from.
    assert abs(link.match_probability - 1 / (1 + 2 ** (-link.match_weight))) < 1e-9, link
    assert {bar.level for bar in link.waterfall[1:]} - {"missing"}, link
    labels = {identifier.label for identifier in result.identifiers}
    reached = {result.links[0].parent} | {tree_link.child for tree_link in result.links}
    assert reached == labels, "probabilistic links join the records' identifiers too"
    assert any(tree_link.matched_record for tree_link in result.links) or len(labels) == 1


def test_explain_connects_every_identifier_of_a_customer(built: Built) -> None:
    from onefold.explain import explain

    warehouse = built.connect()
    try:
        # The customer with the most identifier values among those that have an email.
        customer_id, email = warehouse.query(
            "select customer_id, min(case when identifier_type = 'email' "
            "then normalized_value end) from onefold_marts.identity_map group by customer_id "
            "having count(case when identifier_type = 'email' then 1 end) > 0 "
            "order by count(*) desc, customer_id limit 1"
        )[0]
        project = built.project()
        by_customer = explain(warehouse, str(customer_id), project)
        by_email = explain(warehouse, str(email).upper(), project)
    finally:
        warehouse.close()
    assert by_email.customer_id == by_customer.customer_id == customer_id
    assert by_email.matched == f"email:{email}"
    labels = {identifier.label for identifier in by_customer.identifiers}
    assert len(labels) >= 3
    reached = {by_customer.links[0].parent} | {link.child for link in by_customer.links}
    assert reached == labels, "the explanation must reach every identifier of the customer"


def test_explain_cli_reports_unknown_and_blocked_values(built: Built) -> None:
    from click.testing import CliRunner

    from onefold.cli import main

    with environment(built.env):
        runner = CliRunner()
        unknown = runner.invoke(
            main, ["explain", "--target", built.target, "nobody@nowhere.invalid"]
        )
        blocked = runner.invoke(main, ["explain", "--target", built.target, "TEST@test.com "])
        as_json = runner.invoke(
            main, ["explain", "--target", built.target, "--json", "test@test.com"]
        )
    assert unknown.exit_code == 1
    assert "no customer has the identifier" in unknown.output
    assert blocked.exit_code == 1
    assert "blocked email value" in blocked.output
    assert as_json.exit_code == 1
    error = json.loads(as_json.stdout)  # with --json, the error is JSON too
    assert error["event"] == "error" and error["exit_code"] == 1, as_json.output
    assert "blocked email value" in error["message"]


def test_summary_cli_shows_every_count_whole_and_as_json(built: Built) -> None:
    from click.testing import CliRunner

    from onefold.cli import main
    from onefold.summary import collect_summary

    with environment(built.env):
        text = CliRunner().invoke(main, ["summary", "--target", built.target])
        as_json = CliRunner().invoke(main, ["summary", "--target", built.target, "--json"])
        steps: list[tuple[str, int, int]] = []
        collect_summary(built.project(), progress=lambda *step: steps.append(step))
    assert text.exit_code == 0, text.output
    assert as_json.exit_code == 0, as_json.output
    warehouse = built.connect()
    try:
        counts = count_sources(warehouse, staging_models(load_manifest(built.target_path)))
    finally:
        warehouse.close()
    document = json.loads(as_json.stdout)
    assert [(s["source"], s["raw_rows"], s["staged_rows"]) for s in document["sources"]] == [
        (c.model.source_name, c.raw_rows, c.staged_rows) for c in counts
    ]
    assert document["unbalanced"] == [] and document["segments"]
    # Off a terminal (CliRunner) nothing is cut: every header, source and number whole.
    assert "…" not in text.stdout
    for header in ("raw rows", "staged", "quarantined", "duplicates", "suppressed"):
        assert header in text.stdout
    for source in document["sources"]:
        assert source["source"] in text.stdout
        for column in ("raw_rows", "staged_rows", "quarantined_rows", "duplicate_rows"):
            assert f" {source[column]:,} " in text.stdout, (source["source"], column)
    assert [step for step, _, _ in steps[:-2]] == [c.model.source_name for c in counts]
    assert steps[-1][1] == steps[-1][2]


def test_oversized_cluster_stops_the_build_naming_it(built: Built) -> None:
    from onefold.testing.dbt import DbtFailure

    with pytest.raises(DbtFailure) as failure:
        run_dbt(
            [
                "run",
                "--select",
                "int_identity_edges_classified",
                "--vars",
                "{onefold__max_cluster_size: 3}",
            ],
            built.env,
            built.target_path,
        )
    message = str(failure.value)
    assert "exceed onefold__max_cluster_size (3 identifier values)" in message
    assert "cluster " in message
    assert "onefold__oversized_cluster_action: split" in message


def test_bi_role_reads_pii_free_marts_but_not_raw(built: Built) -> None:
    if built.target != "postgres":
        pytest.skip("roles and grants are a PostgreSQL feature; DuckDB has none")
    import psycopg2

    warehouse = built.connect()
    try:
        connection = warehouse.connection  # type: ignore[attr-defined]
        with connection.cursor() as cursor:
            cursor.execute("set role onefold_reader")
            cursor.execute("select count(*) from onefold_marts_bi.customers")
            assert cursor.fetchone()[0] > 0
            cursor.execute("select count(*) from onefold_marts_bi.identity_map")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("select count(*) from raw.web_events")
    finally:
        warehouse.close()


def test_lifetime_value_matches_the_orders(built: Built) -> None:
    warehouse = built.connect()
    try:
        mismatches = warehouse.query(
            """
            with recomputed as (
                select records.customer_id, sum(orders.net_amount_reporting) as ltv,
                       count(*) as orders_count
                from onefold_marts.orders as orders
                inner join onefold_marts.customer_records as records
                    on orders.source = records.source and orders.record_key = records.record_key
                where not orders.is_cancelled
                group by records.customer_id
            )
            select count(*) from onefold_marts.customers as customers
            left join recomputed on customers.customer_id = recomputed.customer_id
            where customers.lifetime_value != coalesce(recomputed.ltv, 0)
               or customers.orders_count != coalesce(recomputed.orders_count, 0)
            """
        )[0][0]
        with_orders = warehouse.query(
            "select count(*) from onefold_marts.customers where orders_count > 0"
        )[0][0]
    finally:
        warehouse.close()
    assert with_orders > 0
    assert mismatches == 0


def test_console_reads_postgres_only_through_the_read_only_roles(
    built: Built, tmp_path: Path
) -> None:
    """Pages read as the BI role (PII-free views), personal values as the PII role, both
    in read-only sessions; what the BI role may not read says so, naming the role."""
    if built.target != "postgres":
        pytest.skip("roles are a PostgreSQL feature; test_console_e2e covers DuckDB")
    from onefold.console.app import create_app
    from onefold.console.privacy import RevealLog
    from onefold.console.reader import ConsoleSource, Unavailable

    project = locate_project(built.env, built.target_path)
    with environment(built.env):
        source = ConsoleSource(lambda: project)
        client = create_app(source, RevealLog(tmp_path / "reveals.jsonl")).test_client()
        warehouse = built.connect()
        try:
            customer_id, email = warehouse.query(
                "select customer_id, email from onefold_marts.customers "
                "where email is not null order by records_count desc, customer_id limit 1"
            )[0]
        finally:
            warehouse.close()
        found = client.get(f"/search?q={email}")
        assert found.status_code == 302
        assert found.headers["Location"].endswith(f"/customers/{customer_id}?matched=email")
        page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
        assert email not in page
        assert 'id="node-' in page and 'data-field="attribute:email"' in page
        assert 'class="unavailable"' not in page.split('id="consent"')[0]
        identity = client.get("/health/identity").get_data(as_text=True)
        assert "Customers by records held" in identity and "<svg" in identity
        staging = client.get("/health/staging").get_data(as_text=True)
        assert "cannot read this as role &#39;onefold_reader&#39;" in staging
        for personal, role in ((False, "onefold_reader"), (True, "onefold_pii_reader")):
            with source.open(personal=personal) as reader:
                assert reader.query("select current_user")[0][0] == role
                with pytest.raises(Exception, match="read-only transaction"):
                    reader.warehouse.execute("create table onefold_marts.console_probe (a int)")
        stranger = ConsoleSource(lambda: project, bi_role="onefold_no_such_role")
        with pytest.raises(Unavailable, match="onefold_no_such_role"), stranger.open():
            pass


# --- Predictive traits (docs/predictions.md) -------------------------------------------
# These change the module's warehouse (new model versions, rebuilt scores; the last one
# deletes marts rows), so they come last.


def _frame(warehouse: Warehouse, statement: str) -> pd.DataFrame:
    return warehouse.query_df(statement).sort_values("customer_id").reset_index(drop=True)


def _scores(built: Built) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Current features, customer_predictions and the customers' predictive columns."""
    warehouse = built.connect()
    try:
        features = _frame(
            warehouse,
            "select * from onefold_intermediate.int_customer_features_current "
            "where is_profiling_allowed",
        )
        scored = _frame(warehouse, "select * from onefold_marts.customer_predictions")
        customers = _frame(
            warehouse,
            "select customer_id, predicted_clv_365d, p_alive, p_purchase_30d, p_churn_90d, "
            "top_products from onefold_marts.customers",
        )
    finally:
        warehouse.close()
    return features, scored, customers


#: The models the checks read (`make demo` builds everything downstream).
SCORING_MODELS = (
    "customer_product_suggestions",
    "customer_predictions",
    "customers",
    "customer_lookalikes",
)


def _train(built: Built, scoring: tuple[str, ...] = SCORING_MODELS, **options: Any) -> TrainResult:
    warehouse = built.connect()
    try:
        result = train(warehouse, built.project(), resamples=20, **options)
    finally:
        warehouse.close()
    run_dbt(["run", "--select", *scoring, *NOW_VARS], built.env, built.target_path)
    return result


def _assert_sql_scores_equal_python(built: Built, result: TrainResult) -> None:
    features, scored, customers = _scores(built)
    assert list(scored["customer_id"]) == list(features["customer_id"])
    assert len(scored) > 500
    for name, column in (("purchase_30d", "p_purchase_30d"), ("churn_90d", "p_churn_90d")):
        classifier = result.classifiers[name]
        rows = features if name == "purchase_30d" else features[features["has_ordered"]]
        matrix = feature_matrix(rows, classifier.parameters["fill"])
        expected = classifier.estimator.predict_proba(matrix)[:, 1]
        got = scored.loc[rows.index, column].to_numpy(float)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6, err_msg=f"{name}")
        assert scored.loc[rows.index, f"{name.split('_')[0]}_model_version"].nunique() == 1
    assert scored.loc[~features["has_ordered"], "p_churn_90d"].isna().all()
    assert result.clv_parameters is not None
    buyers = features["has_ordered"].to_numpy(bool)
    expected_clv = clv.score_clv(result.clv_parameters, features[buyers])
    for column, values in (
        ("p_alive", expected_clv.p_alive),
        ("predicted_purchases_365d", expected_clv.predicted_purchases),
        ("expected_order_value", expected_clv.expected_order_value),
        ("predicted_clv_365d", expected_clv.predicted_value),
    ):
        np.testing.assert_allclose(
            scored.loc[buyers, column].to_numpy(float), values, rtol=1e-6, atol=1e-9, err_msg=column
        )
    assert scored.loc[~buyers, "predicted_clv_365d"].isna().all()
    # customers carries the same values, and null for everyone not scored
    joined = customers.merge(scored, on="customer_id", how="left", suffixes=("", "_scored"))
    for column in (
        "predicted_clv_365d",
        "p_alive",
        "p_purchase_30d",
        "p_churn_90d",
        "top_products",
    ):
        pd.testing.assert_series_equal(
            joined[column], joined[f"{column}_scored"], check_names=False, obj=column
        )
    _assert_sql_suggestions_equal_python(built, result, features, scored)
    _assert_sql_lookalikes_equal_python(built, result, features)


def _assert_sql_lookalikes_equal_python(
    built: Built, result: TrainResult, features: pd.DataFrame
) -> None:
    classifier = result.classifiers[LOOKALIKE]
    warehouse = built.connect()
    try:
        members = {
            row[0]
            for row in warehouse.query(
                "select customer_id from onefold_marts.segment_memberships "
                f"where segment_name = '{LOOKALIKE_SEGMENT}'"
            )
        }
        got = _frame(warehouse, "select * from onefold_marts.customer_lookalikes")
    finally:
        warehouse.close()
    outside = features[~features["customer_id"].isin(members)].reset_index(drop=True)
    assert got["customer_id"].tolist() == outside["customer_id"].tolist()
    assert set(got["segment_name"]) == {LOOKALIKE_SEGMENT}
    expected = classifier.estimator.predict_proba(
        feature_matrix(outside, classifier.parameters["fill"])
    )[:, 1]
    np.testing.assert_allclose(got["lookalike_score"], expected, rtol=0, atol=1e-6)
    by_rank = got.sort_values("lookalike_rank")["lookalike_score"].to_numpy(float)
    assert (np.diff(by_rank) <= 0).all() and got["lookalike_rank"].min() == 1


def _assert_sql_suggestions_equal_python(
    built: Built, result: TrainResult, features: pd.DataFrame, scored: pd.DataFrame
) -> None:
    model = suggestions.SuggestionModel.from_dict(result.models["top_products"].parameters)
    warehouse = built.connect()
    try:
        lines = warehouse.query_df(
            "select customer_id, sku from onefold_intermediate.int_customer_order_lines"
        )
        got = warehouse.query_df("select * from onefold_marts.customer_product_suggestions")
    finally:
        warehouse.close()
    expected = suggestions.suggest(model, features["customer_id"], suggestions.bought(lines))
    keys = ["customer_id", "suggestion_rank"]
    got = got.sort_values(keys).reset_index(drop=True)
    expected = expected.sort_values(keys).reset_index(drop=True)
    assert len(got) == len(expected) > 500
    assert set(got["basis"]) == {"co_occurrence", "popularity"}
    for column in ("customer_id", "suggestion_rank", "sku", "basis"):
        assert got[column].astype(str).tolist() == expected[column].astype(str).tolist(), column
    np.testing.assert_allclose(got["score"].to_numpy(float), expected["score"], rtol=0, atol=1e-6)
    # top_products: the same SKUs, best first, as a JSON array
    listed = expected.groupby("customer_id")["sku"].agg(list)
    with_list = scored.dropna(subset=["top_products"])
    assert len(with_list) == len(listed)
    for customer_id, text in zip(with_list["customer_id"], with_list["top_products"], strict=True):
        assert json.loads(text) == listed[customer_id]


def test_trained_models_are_scored_in_sql_as_python_scores_them(built: Built) -> None:
    best = _train(built, model_names=MODEL_NAMES, lookalike_segments=(LOOKALIKE_SEGMENT,))
    assert set(best.versions.values()) == {1}
    # The build is the segment's first run: no membership at the holdout cutoff yet.
    lookalike = best.models[LOOKALIKE].metrics
    assert lookalike["evaluated"] is False and "membership history starts" in lookalike["reason"]
    for name in ("purchase_30d", "churn_90d"):
        assert best.models[name].metrics["model"]["auc"] > 0.5
    _assert_sql_scores_equal_python(built, best)

    # The trees of gradient boosting, written into SQL, score as scikit-learn does.
    # Only the classifiers change: the two models that score them are rebuilt.
    boosted = _train(
        built,
        ("customer_predictions", "customers"),
        model_names=("purchase_30d", "churn_90d"),
        classifier="gradient_boosting",
    )
    assert boosted.versions == {"purchase_30d": 2, "churn_90d": 2}
    # clv_365d and top_products stay at version 1
    boosted.clv_parameters = best.clv_parameters
    boosted.models["top_products"] = best.models["top_products"]
    boosted.classifiers[LOOKALIKE] = best.classifiers[LOOKALIKE]
    _assert_sql_scores_equal_python(built, boosted)
    warehouse = built.connect()
    try:
        versions = warehouse.query(
            "select model_name, max(model_version), count(*) from onefold_marts.prediction_models "
            "group by model_name order by model_name"
        )
    finally:
        warehouse.close()
    assert versions == [
        ("churn_90d", 2, 2),
        ("clv_365d", 1, 1),
        (LOOKALIKE, 1, 1),
        ("purchase_30d", 2, 2),
        ("top_products", 1, 1),
    ]


def test_an_erasure_after_training_flags_the_models_for_retraining(built: Built) -> None:
    status = "select model_name, needs_retraining from onefold_marts.prediction_model_status"
    warehouse = built.connect()
    try:
        assert sorted(warehouse.query(status)) == [
            ("churn_90d", False),
            ("clv_365d", False),
            (LOOKALIKE, False),
            ("purchase_30d", False),
            ("top_products", False),
        ]
        # the receipt `onefold erase` writes when it starts on a request
        warehouse.execute(
            "insert into onefold_privacy.erasure_receipts "
            "(erasure_request_id, status, started_at) values ('after-training', 'in_progress', ?)",
            [dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=1)],
        )
        flagged = sorted(warehouse.query(status))
        warehouse.execute(
            "delete from onefold_privacy.erasure_receipts "
            "where erasure_request_id = 'after-training'"
        )
    finally:
        warehouse.close()
    assert flagged == [
        ("churn_90d", True),
        ("clv_365d", True),
        (LOOKALIKE, True),
        ("purchase_30d", True),
        ("top_products", True),
    ]


def test_profiling_needs_consent_and_no_erasure_request(built: Built) -> None:
    warehouse = built.connect()
    try:
        (refused, requested, scored) = warehouse.query(
            """
            select
                count(distinct case when not coalesce(consent.is_granted, false)
                    then predictions.customer_id end),
                count(distinct requests.customer_id),
                count(*)
            from onefold_marts.customer_predictions as predictions
            left join onefold_marts.consent_current as consent
                on predictions.customer_id = consent.customer_id
                and consent.purpose = 'analytics'
            left join onefold_intermediate.int_erasure_request_customers as requests
                on predictions.customer_id = requests.customer_id
            """
        )[0]
        excluded = warehouse.query(
            "select count(*) from onefold_intermediate.int_customer_features_current "
            "where not is_profiling_allowed"
        )[0][0]
        (blank,) = warehouse.query(
            "select count(*) from onefold_marts.customers as customers "
            "inner join onefold_marts.consent_current as consent "
            "on customers.customer_id = consent.customer_id and consent.purpose = 'analytics' "
            "where not consent.is_granted and (customers.p_purchase_30d is not null "
            "or customers.predicted_clv_365d is not null)"
        )[0]
    finally:
        warehouse.close()
    assert scored > 0 and excluded > 0
    assert (refused, requested, blank) == (0, 0, 0)


# The command's report and a segment over the same columns hold no SQL of the target's:
# checked on DuckDB only, to keep the suite within its time budget.
ON_DUCKDB = pytest.mark.parametrize("built", ["duckdb"], indirect=True, scope="module")


@ON_DUCKDB
def test_train_cli_reports_holdout_metrics_as_json(built: Built) -> None:
    from click.testing import CliRunner

    from onefold.cli import main

    with environment(built.env):
        outcome = CliRunner().invoke(
            main,
            ["train", "--target", built.target, "--json", "--dry-run", "--bootstrap", "20"],
        )
    assert outcome.exit_code == 0, outcome.output
    document = json.loads(outcome.output)
    assert document["stored"] is False
    assert document["horizon_days"] == 90
    purchase = document["models"]["purchase_30d"]["metrics"]
    assert purchase["baseline"]["name"] == "recency"
    assert {"auc", "pr_auc", "top_decile_lift", "brier", "calibration"} <= set(purchase["model"])
    assert set(document["models"]["clv_365d"]["metrics"]["model"]) >= {
        "spearman",
        "top_decile_capture",
        "total_error",
        "mean_absolute_error",
    }
    products = document["models"]["top_products"]["metrics"]
    assert products["baseline"]["name"] == "popularity"
    assert products["k"] == 5 and 0 <= products["model"]["hit_rate_at_k"] <= 1


@ON_DUCKDB
def test_a_segment_can_select_on_a_predictive_trait(built: Built) -> None:
    segments = (
        "{onefold__now: '2026-11-01', onefold__segments: {likely_lapsers: {description: "
        "'Buyers the churn model gives better than even odds of lapsing', owner: crm, "
        "predicate: 'p_churn_90d > 0.5 and predicted_clv_365d > 0', purposes: []}, "
        "tee_prospects: {description: 'Customers we would suggest the organic tee to', "
        "owner: merchandising, predicate: 'top_products like ''%\"SKU-10003\"%''', "
        "purposes: []}}}"
    )
    run_dbt(
        [
            "run",
            "--select",
            "segment_definitions",
            "int_segment_changes",
            "segment_membership_history",
            "segment_memberships",
            "--vars",
            segments,
        ],
        built.env,
        built.target_path,
    )
    warehouse = built.connect()
    try:
        members = {
            segment: {
                row[0]
                for row in warehouse.query(
                    "select customer_id from onefold_marts.segment_memberships "
                    f"where segment_name = '{segment}'"
                )
            }
            for segment in ("likely_lapsers", "tee_prospects")
        }
        expected = {
            "likely_lapsers": {
                row[0]
                for row in warehouse.query(
                    "select customer_id from onefold_marts.customers "
                    "where p_churn_90d > 0.5 and predicted_clv_365d > 0"
                )
            },
            "tee_prospects": {
                row[0]
                for row in warehouse.query(
                    "select customer_id from onefold_marts.customer_product_suggestions "
                    "where sku = 'SKU-10003'"
                )
            },
        }
    finally:
        warehouse.close()
    assert all(members.values()) and members == expected


def test_no_feature_reads_data_from_after_its_cutoff(built: Built) -> None:
    columns = [*CLASSIFIER_FEATURES, "has_ordered", "is_profiling_allowed"]
    labels = ["orders_next_30d_count", "orders_next_90d_count", "spend_next_horizon"]
    warehouse = built.connect()
    try:
        (cutoff,) = warehouse.query(
            "select min(cutoff_date) from onefold_marts.customer_feature_snapshots"
        )[0]
        snapshot = (
            f"select * from onefold_marts.customer_feature_snapshots where cutoff_date = '{cutoff}'"
        )
        before = _frame(warehouse, snapshot)
        # Everything that happened from the cutoff on disappears from the marts.
        for table, column in (
            ("orders", "ordered_at"),
            ("web_sessions", "started_at"),
            ("email_activity", "occurred_at"),
        ):
            warehouse.execute(f"delete from onefold_marts.{table} where {column} >= '{cutoff}'")
    finally:
        warehouse.close()
    assert before[labels].to_numpy().sum() > 0
    run_dbt(
        ["run", "--select", "customer_feature_snapshots", *NOW_VARS], built.env, built.target_path
    )
    warehouse = built.connect()
    try:
        after = _frame(warehouse, snapshot)
    finally:
        warehouse.close()
    pd.testing.assert_frame_equal(
        after[["customer_id", *columns]], before[["customer_id", *columns]]
    )
    assert after[labels].to_numpy().sum() == 0  # the labels did look ahead
