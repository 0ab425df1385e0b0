"""The command line finds the dbt project, profile, target and Onefold's relations the way
dbt does (onefold.project), and nothing hard-codes a schema name."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from onefold.cli import main
from onefold.errors import ConfigError
from onefold.project import Manifest, find_project_dir, locate, quote_name
from onefold.testing.manifest import manifest_node, write_manifest

PROFILES = """\
acme:
  target: "{{ env_var('ACME_TARGET', 'dev') }}"
  outputs:
    dev:
      type: duckdb
      path: "{{ env_var('ACME_DUCKDB', 'dev.duckdb') }}"
      schema: analytics
      settings:
        TimeZone: UTC
    prod_pg:
      type: postgres
      host: "{{ env_var('ACME_PG_HOST') }}"
      port: "{{ env_var('ACME_PG_PORT', '6543') | as_number }}"
      user: loader
      password: "{{ env_var('DBT_ENV_SECRET_ACME_PASSWORD') }}"
      dbname: warehouse
      schema: reporting
    lake:
      type: snowflake
      account: xy
      schema: s
"""

DBT_VARIABLES = (
    "DBT_PROJECT_DIR",
    "DBT_PROFILES_DIR",
    "DBT_TARGET",
    "DBT_TARGET_PATH",
    "ACME_TARGET",
    "ACME_DUCKDB",
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A host dbt project `acme` with its own profiles.yml, no dbt variables set."""
    for name in DBT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "acme"
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        "name: acme\nprofile: acme\nconfig-version: 2\nversion: '1.0'\n"
    )
    (root / "profiles.yml").write_text(PROFILES)
    monkeypatch.setenv("ACME_PG_HOST", "db.internal")
    monkeypatch.setenv("DBT_ENV_SECRET_ACME_PASSWORD", "s3cret")
    monkeypatch.chdir(tmp_path)
    return root


def test_default_target_is_rendered_by_dbt(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_DUCKDB", str(project / "acme.duckdb"))
    located = locate(project_dir=project)
    assert located.project_dir == project.resolve()
    assert located.profiles_dir == project
    assert (located.target.name, located.target.type) == ("dev", "duckdb")
    assert located.target.schema == "analytics"
    assert located.target.duckdb is not None
    assert located.target.duckdb.path == project / "acme.duckdb"
    assert located.target.duckdb.config == {"TimeZone": "UTC"}
    assert located.privacy_schema == "analytics_privacy"
    assert located.target_path == project.resolve() / "target"


def test_any_target_name_env_var_and_secret(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    located = locate(project_dir=project, target="prod_pg")
    postgres = located.target.postgres
    assert (located.target.name, located.target.type) == ("prod_pg", "postgres")
    assert postgres is not None
    assert (postgres.host, postgres.port, postgres.user, postgres.database) == (
        "db.internal",
        6543,
        "loader",
        "warehouse",
    )
    assert postgres.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(located)
    # DBT_TARGET, and the profile's own default rendered from the environment
    monkeypatch.setenv("DBT_TARGET", "prod_pg")
    assert locate(project_dir=project).target.name == "prod_pg"
    monkeypatch.delenv("DBT_TARGET")
    monkeypatch.setenv("ACME_TARGET", "prod_pg")
    assert locate(project_dir=project).target.schema == "reporting"


def test_unknown_target_and_unsupported_adapter(project: Path) -> None:
    with pytest.raises(ConfigError, match=r"does not have a target named 'nope'.*dev") as error:
        locate(project_dir=project, target="nope")
    assert "prod_pg" in str(error.value)
    with pytest.raises(ConfigError, match=r"adapter type 'snowflake'.*duckdb, postgres"):
        locate(project_dir=project, target="lake")


def test_project_and_profiles_dirs_are_found_like_dbt(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = project / "models"
    monkeypatch.chdir(models)
    assert find_project_dir() == project  # the nearest dbt_project.yml upwards
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="--project-dir"):
        find_project_dir()
    monkeypatch.setenv("DBT_PROJECT_DIR", str(project))
    assert locate().project_dir == project.resolve()
    # DBT_PROFILES_DIR wins over the project's profiles.yml
    elsewhere = tmp_path / "profiles"
    elsewhere.mkdir()
    (elsewhere / "profiles.yml").write_text(PROFILES.replace("schema: analytics", "schema: x"))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(elsewhere))
    assert locate().target.schema == "x"
    assert locate(profiles_dir=project).target.schema == "analytics"


def test_target_path_from_project_file_env_and_option(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "dbt_project.yml").write_text(
        "name: acme\nprofile: acme\nconfig-version: 2\ntarget-path: build\n"
    )
    assert locate(project_dir=project).manifest_path == project.resolve() / "build/manifest.json"
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "ci"))
    assert locate(project_dir=project).target_path == tmp_path / "ci"
    assert locate(project_dir=project, target_path=Path("t2")).target_path == (
        project.resolve() / "t2"
    )


def test_manifest_prefers_onefold_over_a_host_model_of_the_same_name(project: Path) -> None:
    write_manifest(
        project / "target",
        [
            manifest_node("customers", "analytics", package="acme", path="customers.sql"),
            manifest_node("customers", "analytics_cdp", alias="cdp_customers"),
            manifest_node("orders", "analytics", package="acme"),
            manifest_node("ref_countries", "analytics_ref", resource_type="seed"),
        ],
    )
    located = locate(project_dir=project)
    customers = located.relation("customers")
    assert (customers.schema, customers.identifier) == ("analytics_cdp", "cdp_customers")
    assert str(customers) == "analytics_cdp.cdp_customers"
    assert located.relation("ref_countries").schema == "analytics_ref"
    assert located.manifest.find_any("orders") is not None  # a host model, for syncs
    with pytest.raises(ConfigError, match=r"'orders' is not in the dbt manifest.*dbt parse"):
        located.relation("orders")  # not Onefold's


def test_missing_manifest_says_what_to_run(project: Path) -> None:
    located = locate(project_dir=project)
    with pytest.raises(ConfigError) as error:
        located.relation("customers")
    message = str(error.value)
    assert "dbt parse" in message and str(project.resolve()) in message
    write_manifest(project / "target", [manifest_node("orders", "analytics", package="acme")])
    with pytest.raises(ConfigError, match="no node of package 'onefold'"):
        locate(project_dir=project).relation("customers")


def test_quoting_only_where_needed() -> None:
    assert quote_name("identity_map") == "identity_map"
    assert quote_name("Identity Map") == '"Identity Map"'
    assert Manifest({"nodes": {}}).find("x") is None


def _marts_in_custom_places(path: Path) -> None:
    """Onefold's marts as a host placed them: schema `crm`, names prefixed `cdp_`."""
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema crm")
        connection.execute(
            "create table crm.cdp_customer_records as select 'cus_1' as customer_id, "
            "'shop_customers' as source, 's1' as record_key union all select 'cus_1', "
            "'web_events', 'w1'"
        )
        connection.execute(
            "create table crm.cdp_identity_map as select 'cus_1' as customer_id, "
            "'email' as identifier_type, 'ann@example.com' as normalized_value, "
            "'k-email' as match_key, 2 as record_count union all select 'cus_1', "
            "'anonymous_id', 'a-1', 'k-anon', 1"
        )
        connection.execute(
            "create table crm.cdp_identity_edges as select 'cus_1' as customer_id, "
            "source, record_key, identifier_type, match_key, cast(null as varchar) as drop_rule "
            "from (values ('shop_customers', 's1', 'email', 'k-email'), "
            "('web_events', 'w1', 'email', 'k-email'), "
            "('web_events', 'w1', 'anonymous_id', 'k-anon')) as t(source, record_key, "
            "identifier_type, match_key)"
        )
        connection.execute(
            "create table crm.cdp_identity_blocked_values (identifier_type varchar, "
            "normalized_value varchar, block_reason varchar)"
        )


def test_explain_reads_marts_wherever_the_manifest_puts_them(project: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "host.duckdb"
    _marts_in_custom_places(warehouse)
    profiles = tmp_path / "ci-profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(
        textwrap.dedent(f"""\
            acme:
              target: dev
              outputs:
                dev: {{type: duckdb, path: /nonexistent.duckdb, schema: analytics}}
                ci: {{type: duckdb, path: "{warehouse}", schema: analytics}}
            """)
    )
    names = ("customer_records", "identity_map", "identity_edges", "identity_blocked_values")
    write_manifest(
        tmp_path / "ci-target",
        [
            *(manifest_node(name, "crm", alias=f"cdp_{name}") for name in names),
            # a host model of the same name elsewhere must not be read
            manifest_node("identity_map", "analytics", package="acme"),
        ],
    )
    result = CliRunner().invoke(
        main,
        [
            "explain",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(profiles),
            "--target",
            "ci",
            "--target-path",
            str(tmp_path / "ci-target"),
            "--json",
            " Ann@Example.com ",
        ],
    )
    assert result.exit_code == 0, result.output
    explained = json.loads(result.output)
    assert explained["customer_id"] == "cus_1"
    assert explained["records_by_source"] == {"shop_customers": 1, "web_events": 1}
    assert explained["matched"] == "email:ann@example.com"


def test_a_command_without_a_manifest_exits_2_naming_what_to_run(project: Path) -> None:
    # A relative DuckDB path is relative to the working directory, as in dbt-duckdb.
    duckdb.connect("dev.duckdb").close()
    result = CliRunner().invoke(
        main, ["explain", "--project-dir", str(project), "someone@example.com"]
    )
    assert result.exit_code == 2, result.output
    assert "dbt parse" in result.output
    assert "Traceback" not in result.output


def test_every_command_takes_the_dbt_options() -> None:
    from onefold.docs_cli import walk

    for context, command in walk(main, "onefold"):
        if command.name == "onefold" or command.params == [] or context.command_path == "onefold":
            continue
        options = {option for param in command.params for option in param.opts}
        for wanted in ("--project-dir", "--profiles-dir", "--target", "--target-path"):
            assert wanted in options, f"{context.command_path} lacks {wanted}"
