"""`onefold sync`: exit codes, JSON lines, --all, --dry-run, and the lock message."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from onefold.cli import main
from onefold.sql import relation
from onefold.sync.state import LOCKS_TABLE, RUNS_TABLE
from onefold.testing.dbt import environment
from onefold.testing.sync import (
    SECRET,
    SECRET_ENV,
    SyncWorld,
    members,
    open_world,
    webhook_sync_settings,
    world_environment,
)
from onefold.testing.webhook_server import WebhookReceiver


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    variables = world_environment("duckdb", tmp_path)
    with environment(variables), open_world("duckdb", keep=True) as world:
        rows = members(12)
        world.write_model(rows)
        world.write_consent(granted=[row["customer_id"] for row in rows])
    yield variables


def write_config(path: Path, syncs: dict[str, dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"syncs": syncs}))
    return path


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["sync", *args], env=env)


def events(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_usage_errors_exit_2(env: dict[str, str]) -> None:
    assert invoke(env).exit_code == 2
    assert invoke(env, "a", "--all").exit_code == 2


def test_a_sync_prints_json_lines_and_exits_0(
    env: dict[str, str], hook: WebhookReceiver, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "syncs.yml", {"crm": webhook_sync_settings(hook.url)})

    result = invoke(env, "crm", "--config", str(config))

    assert result.exit_code == 0, result.output
    kinds = [event["event"] for event in events(result)]
    assert kinds[0] == "run_started" and kinds[1] == "plan" and kinds[-1] == "run_finished"
    finished = events(result)[-1]
    assert (finished["status"], finished["sent"], finished["failed"]) == ("succeeded", 12, 0)
    assert SECRET not in result.output


def test_rejected_records_exit_1(
    env: dict[str, str], hook: WebhookReceiver, tmp_path: Path
) -> None:
    hook.reject(["m00003"], error="invalid email")
    config = write_config(tmp_path / "syncs.yml", {"crm": webhook_sync_settings(hook.url)})

    result = invoke(env, "crm", "--config", str(config), "--json")

    assert result.exit_code == 1
    finished = events(result)[-1]
    assert (finished["status"], finished["failed"], finished["level"]) == ("partial", 1, "error")


def test_dry_run_prints_the_plan_and_sends_nothing(
    env: dict[str, str], hook: WebhookReceiver, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "syncs.yml", {"crm": webhook_sync_settings(hook.url)})

    result = invoke(env, "crm", "--config", str(config), "--dry-run")

    assert result.exit_code == 0, result.output
    plan = events(result)[-1]["plan"]
    assert plan["adds"] == 12 and len(plan["samples"]["add"]) == 3
    assert hook.requests == 0


def test_all_runs_every_sync_and_exits_with_the_worst_code(
    env: dict[str, str], hook: WebhookReceiver, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "syncs.yml",
        {
            "broken": webhook_sync_settings(hook.url, primary_key="no_such_column"),
            "crm": webhook_sync_settings(hook.url),
        },
    )

    result = invoke(env, "--all", "--config", str(config), "--json")

    assert result.exit_code == 2
    errors = [event for event in events(result) if event["event"] == "error"]
    assert errors[0]["sync"] == "broken"
    assert "sync 'broken': primary_key: column 'no_such_column'" in errors[0]["message"]
    assert len(hook.records) == 12  # the good sync still ran


def test_config_errors_exit_2_naming_sync_and_field(env: dict[str, str], tmp_path: Path) -> None:
    settings = webhook_sync_settings("https://hooks.example.com")
    settings["mode"] = "merge"
    config = write_config(tmp_path / "syncs.yml", {"crm": settings})

    result = invoke(env, "crm", "--config", str(config))

    assert result.exit_code == 2
    assert "sync 'crm': mode: input should be" in events(result)[0]["message"]
    missing = invoke(env, "nope", "--config", str(config))
    assert missing.exit_code == 2


def test_an_overlapping_run_exits_2_naming_the_holder(
    env: dict[str, str], hook: WebhookReceiver, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "syncs.yml", {"crm": webhook_sync_settings(hook.url)})
    assert invoke(env, "crm", "--config", str(config)).exit_code == 0
    with environment(env), open_world("duckdb", keep=True) as world:
        _hold_lock(world, "crm", "otherhost:4242")
        result = invoke(env, "crm", "--config", str(config))
        world.warehouse.execute(f"delete from {relation(world.sync_schema, LOCKS_TABLE)}")

    assert result.exit_code == 2
    assert "is already running: locked by otherhost:4242" in events(result)[-1]["message"]


def _hold_lock(world: SyncWorld, sync_name: str, holder: str) -> None:
    world.warehouse.execute(
        f"insert into {relation(world.sync_schema, LOCKS_TABLE)} "
        "(sync_name, run_id, holder, acquired_at) "
        "values (?, 'run-elsewhere', ?, current_timestamp)",
        [sync_name, holder],
    )


def test_status_shows_each_syncs_latest_run_and_a_killed_one_as_abandoned(
    env: dict[str, str], hook: WebhookReceiver, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "syncs.yml", {"crm": webhook_sync_settings(hook.url)})
    assert invoke(env, "crm", "--config", str(config)).exit_code == 0
    # then a run of crm is killed with SIGKILL: its lock and `running` row stay behind
    dead = subprocess.Popen(["true"])
    dead.wait()
    with environment(env), open_world("duckdb", keep=True) as world:
        _hold_lock(world, "crm", f"{socket.gethostname()}:{dead.pid}")
        world.warehouse.execute(
            f"insert into {relation(world.sync_schema, RUNS_TABLE)} (run_id, sync_name, "
            "destination, destination_type, mode, started_at, status, sent, failed, "
            "is_dry_run, planned_adds, heartbeat_at) values ('run-elsewhere', 'crm', 'crm', "
            "'webhook', 'mirror', current_timestamp, 'running', 4, 0, false, 12, "
            "current_timestamp + interval '5 seconds')"  # its last beat 5 s after it started
        )

    result = invoke(env, "--status", "--json")

    assert result.exit_code == 0, result.output
    (latest,) = [event for event in events(result) if event["event"] == "run_status"]
    assert (latest["sync"], latest["run_id"], latest["status"]) == (
        "crm",
        "run-elsewhere",
        "abandoned",
    )
    assert (latest["planned_adds"], latest["sent"]) == (12, 4)
    assert 4 <= latest["duration_seconds"] <= 6
    shown = invoke(env, "--status", "crm")  # for people: a table
    assert shown.exit_code == 0, shown.output
    assert "abandoned" in shown.output and "run-elsewhere" in shown.output


def test_a_dry_run_needs_no_destination_secret_but_a_real_run_does(
    env: dict[str, str], hook: WebhookReceiver, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "syncs.yml", {"crm": webhook_sync_settings(hook.url)})
    unset = {**env, SECRET_ENV: None}

    dry = CliRunner().invoke(main, ["sync", "crm", "--config", str(config), "--dry-run"], env=unset)

    assert dry.exit_code == 0, dry.output
    warnings = [event["message"] for event in events(dry) if event["event"] == "warning"]
    assert len(warnings) == 1 and f"{SECRET_ENV} is not set" in warnings[0]
    assert events(dry)[-1]["plan"]["adds"] == 12
    real = CliRunner().invoke(main, ["sync", "crm", "--config", str(config)], env=unset)
    assert real.exit_code == 2
    assert f"destination.secret_env: environment variable {SECRET_ENV} is not set" in real.output
    assert hook.requests == 0
