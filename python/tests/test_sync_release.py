"""On DuckDB a sync holds the warehouse file only while it plans and for each short
state write: while it waits on a destination, `dbt build`, a BI reader or another dry
run can open the file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import duckdb
import yaml

from onefold.sql import relation
from onefold.sync.state import LOCKS_TABLE, RUNS_TABLE
from onefold.testing.dbt import environment
from onefold.testing.measure import executable
from onefold.testing.sync import (
    SECRET,
    SyncWorld,
    expected_destination,
    members,
    webhook_sync_settings,
    world_environment,
)
from onefold.testing.warehouse import connect_with
from onefold.testing.webhook_server import webhook_server

ONEFOLD = executable("onefold")
SYNC = "members_webhook"
ROWS = members(100)
BATCH = 25


def _sync(env: dict[str, str], config: Path, *args: str) -> list[str]:
    return [ONEFOLD, "sync", SYNC, "--config", str(config), "--json", *args]


def test_the_warehouse_file_is_free_while_a_sync_waits_on_its_destination(
    tmp_path: Path,
) -> None:
    env = world_environment("duckdb", tmp_path)
    path = env["ONEFOLD_DUCKDB_PATH"]
    with webhook_server(SECRET) as hook, environment(env):
        world = SyncWorld(connect_with(env))
        world.write_model(ROWS)
        world.write_consent(granted=[row["customer_id"] for row in ROWS])
        sync_schema = world.sync_schema
        world.warehouse.close()
        config = tmp_path / "syncs.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    "syncs": {
                        SYNC: webhook_sync_settings(
                            hook.url,
                            batch_size=BATCH,
                            # waits out the held answer: a shorter timeout retries and
                            # writes state while the checks below hold the file
                            destination={"timeout_seconds": 60.0},
                        )
                    }
                }
            )
        )
        hook.hold_after(2)  # the second call's answer waits until release()
        process = subprocess.Popen(
            _sync(env, config),
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            assert hook.held.wait(timeout=60), process.communicate(timeout=5)[0].decode()
            # a writer (dbt build, a loader) opens the file read-write mid-delivery
            writer = duckdb.connect(path)
            try:
                writer.execute("create table main.loaded_meanwhile as select 1 as x")
                lock = writer.execute(
                    f"select holder, heartbeat_at from {relation(sync_schema, LOCKS_TABLE)}"
                ).fetchall()
                run = writer.execute(
                    f"select status, planned_adds, sent from {relation(sync_schema, RUNS_TABLE)}"
                ).fetchall()
            finally:
                writer.close()
            assert len(lock) == 1 and lock[0][1] is not None
            assert run == [("running", 100, BATCH)]
            # and a second dry run of the same sync plans
            dry = subprocess.run(
                _sync(env, config, "--dry-run"),
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert dry.returncode == 0, dry.stdout + dry.stderr
        finally:
            hook.release()
        output = process.communicate(timeout=60)[0].decode()

        assert process.returncode == 0, output
        assert hook.records == expected_destination(ROWS, [row["customer_id"] for row in ROWS])
