"""Intake requests erasure cannot act on, and a renamed DuckDB file, end to end.

A small demo world (a few hundred people) whose `erasure_requests` source also holds
rows staging quarantines: an unparseable received_at, an unknown regulation (delivered
twice), an identifier type that is really an email address, a row without a request
id, and a request whose first delivery was bad and whose second is fine. Every request
with an id is on `erasure_requests_status` (the bad ones `rejected`, with the reason and
no value of the row); `onefold erase` reports the bad rows and still erases the good
request. On DuckDB, erase also works on a copy of the file under another name (the
configuration snapshot names relations by the catalog, which is the file's stem).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from onefold.erasure.cli import erase
from onefold.erasure.session_salt import POSTGRES_SETTING, SALT_ENV
from onefold.generator import GeneratorConfig, generate_demo_data
from onefold.testing.dbt import environment, locations, project_args
from onefold.testing.measure import executable
from onefold.testing.warehouse import connect_with, target_environment
from onefold.warehouse import Warehouse

pytestmark = pytest.mark.e2e

PERSONS = 300
SEED = 5
END_DATE = dt.date(2026, 11, 1)
SALT = "intake-e2e-salt-7d2f9a0c41b3e8d6"
LOADED_AT = "2026-10-20 00:00:00"
# (request_id, identifier_type, identifier_value, regulation, received_at); values that
# must never show up anywhere Onefold reports on them contain "pii-".
BAD_ROWS = [
    ("ER-BADDATE", "email", "pii-baddate@example.com", "GDPR", "31/02/2026 25:00"),
    ("ER-BADREG", "email", "pii-badreg@example.com", "HIPAA", "2026-10-01T00:00:00Z"),
    ("ER-BADREG", "email", "pii-badreg@example.com", "HIPAA", "2026-10-02T00:00:00Z"),
    ("ER-BADTYPE", "pii-badtype@example.com", "x", "GDPR", "2026-10-01T00:00:00Z"),
    ("  ", "email", "pii-noid@example.com", "GDPR", "2026-10-01T00:00:00Z"),
    ("ER-FIXED", "email", "pii-fixed@example.com", "GDPRR", "2026-10-01T00:00:00Z"),
    ("ER-FIXED", "email", "pii-fixed@example.com", "GDPR", "2026-10-01T00:00:00Z"),
    # Staged (its columns are fine), but no email: `onefold erase` rejects it.
    ("ER-MALFORMED", "email", "pii-not-an-email", "GDPR", "2026-10-01T00:00:00Z"),
]
REJECTED = {
    "ER-BADDATE": ("GDPR", "invalid_timestamp (received_at)"),
    "ER-BADREG": (None, "unexpected_value (regulation)"),
    "ER-BADTYPE": ("GDPR", "unexpected_value (identifier_type)"),
}


@dataclass
class World:
    target: str
    env: dict[str, str]
    target_path: Path
    emails: list[str]  # of two different shop customers

    def connect(self) -> Warehouse:
        return connect_with(self.env)

    def cli(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        """`onefold erase ...` in-process: (exit code, output)."""
        with environment(env or self.env):
            result = CliRunner().invoke(
                erase, ["--target", self.target, *args], env={"COLUMNS": "250"}
            )
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output


def dbt(args: list[str], env: dict[str, str], target_path: Path) -> None:
    result = subprocess.run(
        [executable("dbt"), *args, *project_args(target_path)],
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env},
        capture_output=True,
        text=True,
        cwd=target_path.parent,
    )
    assert result.returncode == 0, f"dbt {' '.join(args)} failed:\n{result.stdout[-4000:]}"


# PostgreSQL's run is `make extended` (CI's time budget): test_erasure_postgres_e2e also
# processes intake requests there and checks the status mart.
@pytest.fixture(
    scope="module",
    params=["duckdb", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.extended])],
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    root = tmp_path_factory.mktemp(f"erasure-intake-{request.param}")
    env = {SALT_ENV: SALT, "ONEFOLD_TARGET": request.param, **locations(root / "target")}
    env.update(
        target_environment(
            request.param,
            root,
            "onefold_erasure_intake_e2e",
            lambda: request.getfixturevalue("postgres_server"),
        )
    )
    if request.param == "postgres":
        env["PGOPTIONS"] = f"-c {POSTGRES_SETTING}={SALT}"  # dbt's connections only
    warehouse = connect_with(env)
    try:
        generate_demo_data(
            warehouse, GeneratorConfig(persons=PERSONS, seed=SEED, end_date=END_DATE)
        )
        emails = [
            str(email)
            for (email,) in warehouse.query(
                "select min(lower(trim(email))) from raw.shop_customers "
                "where email like '%@%.%' group by customer_id order by 1 limit 2"
            )
        ]
        rows = [*BAD_ROWS, ("ER-GOOD", "email", emails[0], "GDPR", "2026-10-05T09:00:00Z")]
        for number, row in enumerate(rows):
            warehouse.execute(
                "insert into raw.erasure_requests (request_id, identifier_type, "
                "identifier_value, regulation, received_at, _loaded_at) values "
                f"(?, ?, ?, ?, ?, cast(? as timestamp) + interval '{number} minutes')",
                [*row, LOADED_AT],
            )
    finally:
        warehouse.close()
    # Every model; the data tests of the privacy models only (the status mart's included).
    dbt(["build", "--resource-type", "seed", "--resource-type", "model"], env, root / "target")
    privacy = ["path:models/staging/privacy", "path:models/marts/privacy"]
    dbt(["test", "--select", *privacy], env, root / "target")
    yield World(request.param, env, root / "target", emails)


STATUS_COLUMNS = (
    "erasure_request_id", "request_source", "identifier_type", "regulation", "status",
    "progress_status", "rejection_reason", "received_at", "due_at",
)  # fmt: skip


def _status(world: World) -> dict[str, dict[str, Any]]:
    """erasure_requests_status by request id (all of its text columns, and dates)."""
    warehouse = world.connect()
    try:
        rows = warehouse.query(
            f"select {', '.join(STATUS_COLUMNS)} from onefold_marts.erasure_requests_status"
        )
    finally:
        warehouse.close()
    return {str(row[0]): dict(zip(STATUS_COLUMNS, row, strict=True)) for row in rows}


def test_every_intake_request_is_on_the_status_mart_with_its_reason(world: World) -> None:
    status = _status(world)
    warehouse = world.connect()
    try:
        staged = {
            str(request_id)
            for (request_id,) in warehouse.query(
                "select erasure_request_id from onefold_staging.stg_privacy__erasure_requests"
            )
        }
    finally:
        warehouse.close()
    assert {"ER-GOOD", "ER-FIXED"} <= staged
    assert set(status) == staged | set(REJECTED)
    for request_id, (regulation, reason) in REJECTED.items():
        row = status[request_id]
        assert (row["status"], row["progress_status"]) == ("rejected", "rejected")
        assert (row["regulation"], row["rejection_reason"]) == (regulation, reason)
        assert row["request_source"] == "erasure_requests"
    assert status["ER-BADDATE"]["received_at"] is None
    assert status["ER-BADTYPE"]["identifier_type"] is None  # the column held an email
    assert status["ER-BADTYPE"]["due_at"] == dt.datetime(2026, 11, 1)
    # A later, valid delivery of the same request supersedes the bad one.
    assert status["ER-FIXED"]["rejection_reason"] is None
    assert status["ER-FIXED"]["regulation"] == "GDPR"
    assert all(status[r]["rejection_reason"] is None for r in staged)
    shown = json.dumps(list(status.values()), default=str)
    assert "pii-" not in shown and "@" not in shown


def test_erase_reports_the_requests_it_cannot_act_on_and_erases_the_others(
    world: World,
) -> None:
    code, output = world.cli("--json", "--execute")
    assert code == 2, output  # a bad request, as for a malformed identifier
    outcomes = {o["erasure_request_id"]: o for o in json.loads(output)}
    assert outcomes["ER-GOOD"]["status"] == "completed", outcomes["ER-GOOD"]
    for request_id, (_, reason) in REJECTED.items():
        outcome = outcomes[request_id]
        assert outcome["status"] == "rejected"
        assert reason in outcome["message"]
        assert "stg_privacy__erasure_requests_quarantine" in outcome["message"]
    assert "ER-FIXED" in outcomes and outcomes["ER-FIXED"]["status"] != "rejected"
    id_less = outcomes[""]
    assert id_less["status"] == "rejected"
    assert "1 intake row(s) without a request_id" in id_less["message"]
    assert "missing_key (request_id)" in id_less["message"]
    assert "pii-" not in output

    status = _status(world)
    assert status["ER-GOOD"]["status"] == "completed"
    assert {r: status[r]["status"] for r in REJECTED} == dict.fromkeys(REJECTED, "rejected")
    # Staged but refused by erase: rejected too, with a reason and no value.
    assert outcomes["ER-MALFORMED"]["status"] == "rejected"
    malformed = status["ER-MALFORMED"]
    assert (malformed["status"], malformed["progress_status"]) == ("rejected", "rejected")
    assert malformed["rejection_reason"].startswith("malformed email")
    assert "pii-" not in json.dumps(list(status.values()), default=str)

    code, text = world.cli("--execute", "--no-sql")
    assert code == 2, text
    flat = " ".join(text.split())
    assert "ER-BADDATE (GDPR): rejected the intake row cannot be processed" in flat
    assert "ER-BADREG: rejected" in flat
    assert "(no request_id): rejected 1 intake row(s) without a request_id" in flat
    assert "ER-GOOD" not in flat  # completed: no longer pending
    assert "pii-" not in text


def test_erase_works_on_a_renamed_duckdb_file(world: World) -> None:
    if world.target != "duckdb":
        pytest.skip("DuckDB names its catalog after the file")
    original = Path(world.env["ONEFOLD_DUCKDB_PATH"])
    renamed = original.with_name("warehouse-copy.duckdb")
    shutil.copyfile(original, renamed)
    env = {**world.env, "ONEFOLD_DUCKDB_PATH": str(renamed)}
    email = world.emails[1]
    code, output = world.cli("--json", "--execute", "--request-id", "E2E-RENAMED",
                             "--email", email, env=env)  # fmt: skip
    assert code == 0, output
    (outcome,) = json.loads(output)
    assert outcome["status"] == "completed", outcome
    rows = {s["step"]: s["rows"] for s in outcome["statements"]}
    assert rows["raw:shop_customers"] >= 1
    renamed_copy = connect_with(env)
    try:
        left = renamed_copy.query(
            "select count(*) from raw.shop_customers where lower(trim(email)) = ?", [email]
        )
    finally:
        renamed_copy.close()
    assert left == [(0,)]
    untouched = connect_with(world.env)
    try:
        kept = untouched.query(
            "select count(*) from raw.shop_customers where lower(trim(email)) = ?", [email]
        )
    finally:
        untouched.close()
    assert kept[0][0] >= 1  # the original file was not the one erased from
