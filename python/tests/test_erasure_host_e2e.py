"""Erasure declared where tables are read, from a host project that installs Onefold as a
package (python/tests/fixtures/erasure_host), on both warehouses (PostgreSQL's run is in
`make extended`):

- the package's own declarations (meta.onefold.erasure of its source tables) and the
  host's (a table of its own, an adapter view's physical tables) are in the
  configuration snapshot, each with the relation erase deletes from;
- Onefold's web_events input pointed at a view that dbt does not build: `onefold erase`
  refuses before changing anything, naming the declaration, the view and what to do;
- pointed at a view that dbt builds and that declares no erasure: the build stops in
  its on-run-start hook with the same advice;
- pointed at the host's adapter view that declares its physical (Segment-shaped)
  tables: erase deletes the person's rows there and from the host's own table, and
  `--verify` finds nothing left;
- with the package's own Segment adapter selected (`onefold__web_loader: segment`)
  over the loader fixtures' identifies, tracks and pages tables: the same.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from onefold.erasure.cli import erase
from onefold.erasure.salt import POSTGRES_SETTING
from onefold.erasure.session_salt import SALT_ENV
from onefold.generator import GeneratorConfig, generate_demo_data
from onefold.testing.dbt import PACKAGE_DIR, dbt_output, ensure_packages, environment, locations
from onefold.testing.loader_fixtures import load_loader_fixtures
from onefold.testing.warehouse import connect_with, target_environment
from onefold.warehouse import Warehouse

pytestmark = pytest.mark.e2e

FIXTURE = Path(__file__).parent / "fixtures" / "erasure_host"
PERSONS = 300
SEED = 5
SALT = "host-erasure-salt-7c1e2a9f0b3d4e5f"
WEB_COLUMNS = (
    "anonymous_id, user_id, type, event, original_timestamp, sent_at, received_at, "
    "context, properties, traits, _loaded_at"
)
# Onefold's web_events source, pointed at a relation by its schema and table vars.
UNBUILT_VIEW = {"onefold__web_schema": "host_raw", "onefold__web_events_table": "web_events_view"}
UNDECLARED_MODEL = {
    "onefold__web_schema": "onefold_host",
    "onefold__web_events_table": "web_events_plain_view",
}
ADAPTER = {"onefold__web_schema": "onefold_host", "onefold__web_events_table": "web_events_adapter"}
SEGMENT = {"onefold__web_loader": "segment"}
SEGMENT_PERSON = ("ana.silva@fastmail.com", "anon-0001", "u-1001")  # the fixtures' first
SEGMENT_TABLES = ("identifies", "tracks", "pages")


@dataclass
class Host:
    target: str
    env: dict[str, str]
    project: Path
    target_path: Path

    def connect(self) -> Warehouse:
        return connect_with(self.env)

    def dbt(self, args: list[str], variables: dict[str, str], succeed: bool = True) -> str:
        return dbt_output(
            [*args, "--vars", json.dumps(variables)],
            self.env,
            self.target_path,
            project_dir=self.project,
            succeed=succeed,
        )

    def build(self, variables: dict[str, str]) -> str:
        # Models and seeds only: the data tests run in the package's own e2e builds.
        return self.dbt(["build", "--resource-type", "seed", "--resource-type", "model"], variables)

    def cli(self, *args: str) -> tuple[int, Any]:
        with environment({**self.env, **locations(self.target_path, self.project)}):
            result = CliRunner().invoke(erase, ["--target", self.target, *args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        try:
            return result.exit_code, json.loads(result.output)
        except json.JSONDecodeError:
            return result.exit_code, result.output


def _split_web_events(warehouse: Warehouse) -> None:
    """The generator's web events, moved into Segment-shaped tables (`id`, one table per
    call type) in the host's raw schema; raw.web_events is dropped, so the person's web
    rows live only there. Plus a view over both that dbt does not build."""
    warehouse.execute("create schema host_raw")
    for table, types in (("tracks", "('track', 'page')"), ("identifies", "('identify')")):
        warehouse.execute(
            f"create table host_raw.{table} as select message_id as id, {WEB_COLUMNS} "
            f"from raw.web_events where type in {types}"
        )
    warehouse.execute("drop table raw.web_events")
    warehouse.execute(
        f"create view host_raw.web_events_view as "
        f"select id as message_id, {WEB_COLUMNS} from host_raw.tracks union all "
        f"select id as message_id, {WEB_COLUMNS} from host_raw.identifies"
    )
    warehouse.execute(
        "create table host_raw.loyalty_members "
        "(member_id varchar(64), member_email varchar(256), member_phone varchar(64))"
    )


# PostgreSQL's run is `make extended` (CI's time budget): test_erasure_postgres_e2e erases
# there through the package's own declarations.
@pytest.fixture(
    scope="module",
    params=["duckdb", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.extended])],
)
def host(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Host]:
    root = tmp_path_factory.mktemp(f"erasure-host-{request.param}")
    env = {SALT_ENV: SALT, "ONEFOLD_TARGET": request.param}
    env.update(
        target_environment(
            request.param,
            root,
            "onefold_erasure_host",
            lambda: request.getfixturevalue("postgres_server"),
        )
    )
    if request.param == "postgres":
        env["PGOPTIONS"] = f"-c {POSTGRES_SETTING}={SALT}"
    warehouse = connect_with(env)
    try:
        generate_demo_data(
            warehouse, GeneratorConfig(persons=PERSONS, seed=SEED, end_date=dt.date(2026, 11, 1))
        )
        warehouse.execute("drop schema raw_truth cascade")
        _split_web_events(warehouse)
    finally:
        warehouse.close()
    project = root / "host"
    shutil.copytree(FIXTURE, project)
    (project / "packages.yml").write_text(f"packages:\n  - local: {PACKAGE_DIR}\n")
    built = Host(request.param, env, project, root / "target")
    ensure_packages(project)
    yield built


def _snapshot(host: Host) -> dict[str, Any]:
    warehouse = host.connect()
    try:
        rows = warehouse.query("select config_json from onefold_privacy.erasure_config")
    finally:
        warehouse.close()
    return dict(json.loads(str(rows[0][0])))


def _person(warehouse: Warehouse) -> tuple[str, str, list[str]]:
    """A customer with an email and web events: (customer id, email, anonymous ids)."""
    customer_id, email = warehouse.query(
        "select customer_id, min(normalized_value) from onefold_marts.identity_map "
        "where identifier_type = 'email' and customer_id in (select customer_id "
        "from onefold_marts.identity_map where identifier_type = 'anonymous_id') "
        "group by customer_id having count(*) = 1 order by customer_id limit 1"
    )[0]
    anonymous = warehouse.query(
        "select normalized_value from onefold_marts.identity_map "
        "where identifier_type = 'anonymous_id' and customer_id = ?",
        [customer_id],
    )
    return str(customer_id), str(email), [str(value) for (value,) in anonymous]


def test_a_view_input_is_refused_before_anything_changes(host: Host) -> None:
    built = " ".join(host.build(UNBUILT_VIEW).split())
    # dbt warns (staging reads a view fine; erase will not delete from it).
    assert "Erasure: meta.onefold.erasure of source 'web.web_events' reads" in built, built[-3000:]
    assert "a view: onefold erase deletes only from base tables" in built
    snapshot = _snapshot(host)
    web = snapshot["sources"]["web_events"]
    assert web["relation"].replace('"', "").endswith("host_raw.web_events_view"), web
    assert web["declared_in"] == "meta.onefold.erasure of source 'web.web_events'"
    warehouse = host.connect()
    try:
        _, email, _ = _person(warehouse)
    finally:
        warehouse.close()
    for args in (("--email", email), ("--email", email, "--execute")):
        code, output = host.cli(*args)
        assert code == 2, output
        text = " ".join(str(output).split())
        assert "meta.onefold.erasure of source 'web.web_events'" in text, text
        assert "web_events_view" in text and "which is a view" in text, text
        assert "declare the physical tables behind it in meta.onefold.erasure" in text, text
        assert "Traceback" not in text and "base table" in text
    warehouse = host.connect()
    try:
        receipts = warehouse.query("select count(*) from onefold_privacy.erasure_receipts")
    finally:
        warehouse.close()
    assert receipts == [(0,)], "nothing may be written before the check"


def test_an_input_built_by_dbt_without_a_declaration_stops_the_build(host: Host) -> None:
    # Onefold's hooks run when the run selects one of its nodes.
    output = host.dbt(
        ["run", "-s", "web_events_plain_view", "base_web__events"], UNDECLARED_MODEL, succeed=False
    )
    text = " ".join(output.split())
    assert "Erasure cannot reach the rows of 'web_events'" in text, text[-3000:]
    assert "model 'web_events_plain_view'" in text
    assert "Declare the physical tables behind it in meta.onefold.erasure of model" in text


def test_adapter_tables_and_a_host_table_are_declared_in_the_snapshot(host: Host) -> None:
    host.dbt(["run", "-s", "web_events_adapter"], ADAPTER)
    host.build(ADAPTER)
    snapshot = _snapshot(host)
    assert snapshot["version"] == 4
    # The erasure functions, as this target calls them (Spark writes them out).
    assert snapshot["functions"]["suppression_hash"].endswith(
        ".suppression_hash(ERASURE_ARG_VALUE)"
    )
    # Staging's base models are views here: no table holds a copy of raw rows.
    assert all(entry["copies"] == [] for entry in snapshot["sources"].values())
    # The purposes `onefold sync` accepts: the package's var as the host resolved it.
    assert snapshot["consent_purposes"] == [
        "email_marketing",
        "sms_marketing",
        "ad_personalization",
        "analytics",
        "data_sale",
    ]
    sources = snapshot["sources"]
    # The package's own declarations, from its sources YAML.
    assert sources["shop_orders"]["action"] == "redact"
    assert sources["shop_orders"]["redact"] == {"customer_id": None, "email": None}
    assert sources["erasure_requests"]["suppress"] is False
    # The host's override of a package source table's declaration.
    assert sources["pos_transactions"]["action"] == "delete"
    assert sources["pos_transactions"]["redact"] == {}
    # web_events is served by the adapter: its physical tables are the entries.
    assert "web_events" not in sources
    assert snapshot["served"]["web_events"]["served_by"] == "model 'web_events_adapter'"
    for name in ("tracks", "identifies"):
        entry = sources[f"erasure_host__{name}"]
        assert entry["relation"].replace('"', "").endswith(f"host_raw.{name}"), entry
        assert entry["record_source"] == "web_events"
        assert entry["declared_in"].startswith("meta.onefold.erasure of model 'web_events_adapter'")
    loyalty = sources["loyalty_members"]
    assert loyalty["relation"].replace('"', "").endswith("host_raw.loyalty_members")
    assert loyalty["declared_in"] == "meta.onefold.erasure of source 'loyalty.loyalty_members'"


def test_erase_reaches_the_physical_tables_behind_the_adapter_and_the_host_table(
    host: Host,
) -> None:
    warehouse = host.connect()
    try:
        customer_id, email, anonymous_ids = _person(warehouse)
        assert anonymous_ids
        warehouse.execute(
            "insert into host_raw.loyalty_members values "
            "('m1', ?, null), ('m2', 'someone.else@example.org', null)",
            [email.upper()],
        )
        marks = ", ".join("?" for _ in anonymous_ids)
        web_rows = warehouse.query(
            f"select (select count(*) from host_raw.tracks where anonymous_id in ({marks})) "
            f"+ (select count(*) from host_raw.identifies where anonymous_id in ({marks}))",
            [*anonymous_ids, *anonymous_ids],
        )[0][0]
        others = warehouse.query(
            "select (select count(*) from host_raw.tracks) "
            "+ (select count(*) from host_raw.identifies)"
        )[0][0]
    finally:
        warehouse.close()
    assert web_rows > 0
    code, result = host.cli("--json", "--execute", "--request-id", "HOST-1", "--email", email)
    assert code == 0, result
    (outcome,) = result
    assert outcome["status"] == "completed", outcome
    steps = {step["step"]: step["rows"] for step in outcome["statements"]}
    assert steps["raw:loyalty_members"] == 1, steps
    assert steps["raw:erasure_host__tracks"] + steps["raw:erasure_host__identifies"] >= web_rows
    assert "raw:web_events" not in steps, "served by the adapter: no step of its own"
    warehouse = host.connect()
    try:
        left = warehouse.query(
            f"select (select count(*) from host_raw.tracks where anonymous_id in ({marks})) "
            f"+ (select count(*) from host_raw.identifies where anonymous_id in ({marks}))",
            [*anonymous_ids, *anonymous_ids],
        )[0][0]
        remaining = warehouse.query(
            "select (select count(*) from host_raw.tracks) "
            "+ (select count(*) from host_raw.identifies)"
        )[0][0]
        loyalty = warehouse.query("select member_id from host_raw.loyalty_members")
        in_marts = warehouse.query(
            "select count(*) from onefold_marts.identity_map where customer_id = ?",
            [customer_id],
        )[0][0]
    finally:
        warehouse.close()
    assert left == 0
    assert 0 < others - remaining < others / 10, "only the person's rows go"
    assert loyalty == [("m2",)]
    assert in_marts == 0
    code, verification = host.cli("--json", "--verify", "HOST-1")
    assert code == 0, verification
    assert verification["clean"], verification["residuals"]


def _segment_rows(warehouse: Warehouse) -> tuple[int, int]:
    """(rows of the Segment person, all rows) in the Segment tables."""
    _, anonymous_id, user_id = SEGMENT_PERSON
    person = total = 0
    for table in SEGMENT_TABLES:
        person += int(
            warehouse.query(
                f"select count(*) from segment.{table} where anonymous_id = ? or user_id = ?",
                [anonymous_id, user_id],
            )[0][0]
        )
        total += int(warehouse.query(f"select count(*) from segment.{table}")[0][0])
    return person, total


def test_erase_reaches_the_segment_tables_behind_the_packages_segment_adapter(
    host: Host,
) -> None:
    warehouse = host.connect()
    try:
        load_loader_fixtures(warehouse, "segment", "segment", only=list(SEGMENT_TABLES))
        person_rows, total_rows = _segment_rows(warehouse)
    finally:
        warehouse.close()
    assert person_rows > 0
    host.build(SEGMENT)
    snapshot = _snapshot(host)
    served = snapshot["served"]["web_events"]
    assert served["served_by"] == "model 'adapter_segment__web_events'", served
    for table in SEGMENT_TABLES:
        entry = snapshot["sources"][f"segment_{table}"]
        assert entry["relation"].replace('"', "").endswith(f"segment.{table}"), entry
        assert entry["record_source"] == "web_events"
    email = SEGMENT_PERSON[0]
    code, result = host.cli("--json", "--execute", "--request-id", "HOST-SEG", "--email", email)
    assert code == 0, result
    (outcome,) = result
    assert outcome["status"] == "completed", outcome
    steps = {step["step"]: step["rows"] for step in outcome["statements"]}
    assert sum(steps[f"raw:segment_{table}"] for table in SEGMENT_TABLES) == person_rows
    warehouse = host.connect()
    try:
        left, remaining = _segment_rows(warehouse)
    finally:
        warehouse.close()
    assert left == 0
    assert remaining == total_rows - person_rows, "only the person's rows go"
    code, verification = host.cli("--json", "--verify", "HOST-SEG")
    assert code == 0, verification
    assert verification["clean"], verification["residuals"]
