"""The integration_tests/ project end to end, on DuckDB and on a throwaway PostgreSQL.

integration_tests/ is a host dbt project that installs Onefold as a package (`local:
..`) with three sources only: web as Segment warehouse tables, the shop as Fivetran's
Shopify tables, and a store-signup table of its own whose identity is name + birth
date (dd/mm/yyyy) + postcode. Per warehouse: `dbt seed` + `dbt build` once (module
scope), green, with the project's singular identity tests among what passed; a host
`dbt run` of the project's own `customers` renders none of Onefold's hook SQL; and the
`onefold` CLI works from the host project: explain, summary, erase (dry run, then
execute and verify) for a person known to all three sources.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from onefold.cli import main
from onefold.erasure.salt import POSTGRES_SETTING
from onefold.erasure.session_salt import SALT_ENV
from onefold.testing.dbt import PACKAGE_DIR, DbtResult, environment, locate_project, run_dbt
from onefold.testing.warehouse import connect_with, target_environment
from onefold.warehouse import Warehouse

pytestmark = pytest.mark.e2e

PROJECT_DIR = PACKAGE_DIR / "integration_tests"
SALT = "integration-tests-salt-5b2d8e71c4a9f03e"
# Known to web (identify), the shop (customer 7001000001) and the store (signup S-001).
ANA = "ana.silva@fastmail.com"
ANA_RECORDS = {
    "web_events": {"id-004", "tr-005", "pg-001"},
    "shop_customers": {"7001000001"},
    "store_signups": {"S-001"},
}
SINGULAR_TESTS = {
    "assert_one_customer_per_person_across_sources",
    "assert_different_people_stay_apart",
    "assert_store_birth_dates_read_in_declared_format",
    "assert_host_customers_apart_from_onefold_customers",
}
# Ana's rows in the loaders' tables and the store's: (table, where).
ANA_RAW_ROWS = (
    ("segment.identifies", "email = 'ana.silva@fastmail.com'"),
    ("segment.tracks", "anonymous_id = 'anon-0001'"),
    ("segment.pages", "anonymous_id = 'anon-0001'"),
    ("segment.order_completed", "anonymous_id = 'anon-0001'"),
    ("segment.product_added", "anonymous_id = 'anon-0001'"),
    ("shopify.customer", "id = 7001000001"),
    ("shopify.customer_address", "customer_id = 7001000001"),
    ('shopify."order"', "customer_id = 7001000001"),
    ("store.store_signups", "signup_id = 'S-001'"),
)


@dataclass
class Built:
    target: str
    env: dict[str, str]
    root: Path
    build: DbtResult

    @property
    def target_path(self) -> Path:
        return self.root / "build-target"

    def connect(self) -> Warehouse:
        return connect_with(self.env)

    def dbt(self, args: list[str], target_path: Path) -> DbtResult:
        return run_dbt(args, self.env, target_path, project_dir=PROJECT_DIR)

    def onefold(self, *args: str) -> tuple[int, str]:
        """`onefold <command> <args>` pointed at the host project and its build."""
        command, *rest = args
        options = [
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PACKAGE_DIR),
            "--target",
            self.target,
            "--target-path",
            str(self.target_path),
        ]
        with environment(self.env):
            result = CliRunner().invoke(main, [command, *options, *rest])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    def scalar(self, statement: str) -> Any:
        warehouse = self.connect()
        try:
            return warehouse.query(statement)[0][0]
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
    root = tmp_path_factory.mktemp(f"integration-{request.param}")
    env = {SALT_ENV: SALT, "ONEFOLD_TARGET": request.param}
    env.update(
        target_environment(
            request.param,
            root,
            "onefold_integration",
            lambda: request.getfixturevalue("postgres_server"),
        )
    )
    if request.param == "postgres":
        env["PGOPTIONS"] = f"-c {POSTGRES_SETTING}={SALT}"
    seeded = run_dbt(["seed"], env, root / "seed-target", project_dir=PROJECT_DIR)
    assert seeded.results, "dbt seed loaded nothing"
    build = run_dbt(["build"], env, root / "build-target", project_dir=PROJECT_DIR)
    yield Built(request.param, env, root, build)


def _records(built: Built, customer_id: str) -> dict[str, set[str]]:
    relation = locate_project(built.env, built.target_path, PROJECT_DIR).relation(
        "customer_records"
    )
    warehouse = built.connect()
    try:
        rows = warehouse.query(
            f"select source, record_key from {relation} where customer_id = ?", [customer_id]
        )
    finally:
        warehouse.close()
    found: dict[str, set[str]] = {}
    for source, record_key in rows:
        found.setdefault(str(source), set()).add(str(record_key))
    return found


def test_build_is_green_with_the_identity_tests_among_what_passed(built: Built) -> None:
    statuses = {result.node.name: str(result.status) for result in built.build.results}
    assert {name: statuses.get(name) for name in SINGULAR_TESTS} == dict.fromkeys(
        SINGULAR_TESTS, "pass"
    )
    # Only the three sources: the adapters of the selected loaders, and nothing of the
    # sources switched off.
    built_models = {
        result.node.unique_id
        for result in built.build.results
        if result.node.resource_type == "model"
    }
    assert "model.onefold.adapter_segment__web_events" in built_models
    assert "model.onefold.adapter_shopify_fivetran__shop_customers" in built_models
    assert "model.onefold_integration_tests.stg_store__signups" in built_models
    switched_off = {
        f"{layer}_{source}"
        for layer in ("base", "stg")
        for source in ("crm", "pos", "email", "consent", "privacy")
    }
    assert not [m for m in built_models if m.split(".")[-1].split("__")[0] in switched_off]
    assert not [m for m in built_models if "hubspot" in m]
    assert all(str(r.status) in ("success", "pass") for r in built.build.results)


def test_a_host_run_of_its_own_model_renders_no_onefold_hook(built: Built) -> None:
    def onefold_hooks(result: DbtResult) -> dict[str, str]:
        return {
            r.node.unique_id: (r.node.compiled_code or "").strip()
            for r in result.results
            if r.node.unique_id.startswith("operation.onefold.")
        }

    host = built.dbt(["run", "-s", "onefold_integration_tests.customers"], built.root / "host")
    models = [r.node.unique_id for r in host.results if r.node.resource_type == "model"]
    assert models == ["model.onefold_integration_tests.customers"]
    # Every hook of the full build ran here too, and rendered to nothing.
    build_hooks = onefold_hooks(built.build)
    assert onefold_hooks(host) == dict.fromkeys(build_hooks, "")
    # In the full build they rendered their SQL (the check above can fail).
    assert build_hooks["operation.onefold.onefold-on-run-start-4"], build_hooks  # erasure objects


def test_evaluate_scores_the_host_against_its_own_truth(built: Built) -> None:
    """`onefold evaluate --truth` on a truth the host keeps (its expected_people seed,
    person/source/record_key): every pair right, overall and per source, and the truth's
    records staging never saw are counted apart."""
    code, output = built.onefold(
        "evaluate", "--json", "--truth", "expected.expected_people", "--truth-person", "person"
    )
    assert code == 0, output
    scored = json.loads(output)
    assert scored["truth"] == "expected.expected_people"
    assert scored["records_evaluated"] > 20 and scored["records_not_found"] == 0, scored
    assert (scored["precision"], scored["recall"]) == (1.0, 1.0), scored
    by_source = scored["by_source"]
    assert {"web_events", "shop_customers", "store_signups"} <= set(by_source), by_source
    assert all((s["precision"], s["recall"]) == (1.0, 1.0) for s in by_source.values())
    code, output = built.onefold("evaluate", "--truth", "expected.expected_people")
    assert code != 0 and "no person column 'person_id'" in " ".join(output.split()), output


def test_explain_from_the_host_project_shows_one_customer_across_three_sources(
    built: Built,
) -> None:
    code, output = built.onefold("explain", "--json", ANA)
    assert code == 0, output
    explained = json.loads(output)
    records = _records(built, explained["customer_id"])
    for source, keys in ANA_RECORDS.items():
        assert keys <= records.get(source, set()), (source, records)
    assert set(explained["records_by_source"]) >= set(ANA_RECORDS), explained
    # The store signup joined through its composite keys, not an identifier of its own.
    linked = {link["to"].split(":")[0] for link in explained["links"]}
    assert {"name_postcode", "name_birth_date_postcode"} <= linked, explained["links"]


def test_summary_from_the_host_project_reconciles_the_loader_inputs(built: Built) -> None:
    code, output = built.onefold("summary")
    assert code == 0, output
    text = " ".join(output.split())
    for source in ("web.web_events", "shop.shop_customers", "shop.shop_orders"):
        assert source in text, text
    assert "rows unaccounted" not in text
    for switched_off in ("crm.", "pos.", "email.", "consent.", "privacy."):
        assert switched_off not in text, text


def _count_ana_rows(built: Built) -> dict[str, int]:
    warehouse = built.connect()
    try:
        return {
            table: int(warehouse.query(f"select count(*) from {table} where {where}")[0][0])
            for table, where in ANA_RAW_ROWS
        }
    finally:
        warehouse.close()


def test_erase_from_the_host_project_reaches_loader_and_store_tables(built: Built) -> None:
    before = _count_ana_rows(built)
    assert all(before.values()), before
    others = built.scalar("select count(*) from store.store_signups where signup_id <> 'S-001'")

    code, output = built.onefold("erase", "--json", "--no-sql", "--email", ANA)
    assert code == 0, output
    (planned,) = json.loads(output)
    assert planned["status"] == "dry_run", planned
    planned_rows = planned["found"]["rows"]
    assert planned_rows["raw:store_signups"] == 1, planned_rows
    assert planned_rows["raw:segment_identifies"] == before["segment.identifies"]
    assert planned_rows["raw:shopify_customer"] == 1
    assert _count_ana_rows(built) == before, "a dry run changes nothing"

    request_id = f"INTEGRATION-{built.target}"
    code, output = built.onefold(
        "erase", "--json", "--no-sql", "--execute", "--request-id", request_id, "--email", ANA
    )
    assert code == 0, output
    (done,) = json.loads(output)
    assert done["status"] == "completed", done
    assert _count_ana_rows(built) == dict.fromkeys(before, 0)
    # Ana's namesake in Berlin (another person) keeps her signup.
    assert built.scalar("select count(*) from store.store_signups") == others


def test_erase_verify_finds_nothing_left_of_the_erased_person(built: Built) -> None:
    """Every table of the loaders (per-event tables and every phone column included)
    and the store's is declared, so nothing of the person is left anywhere."""
    request_id = f"INTEGRATION-{built.target}"
    code, output = built.onefold("erase", "--json", "--receipt", request_id)
    assert code == 0, f"the erase test runs first: {output}"
    code, output = built.onefold("erase", "--json", "--verify", request_id)
    verified = json.loads(output)
    assert verified["tables_scanned"] > 0, verified
    assert code == 0 and verified["clean"] is True and not verified["residuals"], verified
