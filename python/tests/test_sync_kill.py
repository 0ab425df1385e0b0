"""`onefold sync` killed with SIGKILL mid-run, twice, then run again: the destination
ends equal to the model with no lost records and no duplicated effects, on both
targets, in mirror and insert modes."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from onefold.sql import relation
from onefold.sync.state import LOCKS_TABLE, STATE_TABLE
from onefold.sync.status import current_runs
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
from onefold.testing.webhook_server import WebhookReceiver, webhook_server

ONEFOLD = executable("onefold")
SYNC = "members_webhook"
ROWS = members(400)
BATCH = 25


# PostgreSQL's leg is in `make extended` (CI's budget); test_sync_engine and
# test_sync_faults run sync's state and locks on PostgreSQL in `make test`.
@pytest.fixture(
    params=["duckdb", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.extended])]
)
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    postgres = None
    if request.param == "postgres":
        postgres = request.getfixturevalue("postgres_server").environment()
    return world_environment(request.param, tmp_path, postgres)


def start_sync(env: dict[str, str], config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [ONEFOLD, "sync", SYNC, "--config", str(config), "--json"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def kill_after_batch(hook: WebhookReceiver, env: dict[str, str], config: Path, batch: int) -> None:
    """Run the CLI until the receiver has applied `batch` more batches, and SIGKILL it
    while the last one's answer is still on its way (applied, never acknowledged)."""
    hook.hold_after(hook.batches_applied + batch)
    process = start_sync(env, config)
    try:
        assert hook.held.wait(timeout=60), process.communicate(timeout=5)[0].decode()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        hook.release()
    assert process.returncode == -signal.SIGKILL


def kill_at_random(hook: WebhookReceiver, env: dict[str, str], config: Path) -> None:
    """SIGKILL the CLI at an unplanned moment while it is sending."""
    hook.delay_every_request(0.01)
    started = hook.requests
    process = start_sync(env, config)
    try:
        deadline = time.monotonic() + 60
        while hook.requests < started + 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(random.uniform(0.0, 0.1))
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        hook.delay_every_request(0.0)


def open_world(env: dict[str, str]) -> SyncWorld:
    with environment(env):
        return SyncWorld(connect_with(env))


@pytest.mark.parametrize("mode", ["mirror", "insert"])
def test_killed_runs_resume_without_loss_or_duplicates(
    env: dict[str, str], mode: str, tmp_path: Path
) -> None:
    with webhook_server(SECRET) as hook, environment(env):
        world = open_world(env)
        world.write_model(ROWS)
        world.write_consent(granted=[row["customer_id"] for row in ROWS])
        world.warehouse.close()  # DuckDB: the CLI needs the file to itself
        config = tmp_path / "syncs.yml"
        settings = webhook_sync_settings(hook.url, mode=mode, batch_size=BATCH)
        config.write_text(yaml.safe_dump({"syncs": {SYNC: settings}}))

        # The receiver deduplicates on the Idempotency-Key header only, and a record it
        # rejects makes each resumed run batch the remaining records differently: only
        # a replay of the call in flight as it was (same body, same key) is dropped.
        hook.dedupe_events = False
        hook.reject(["m00030"])
        kill_after_batch(hook, env, config, batch=4)
        # readers see the killed run as abandoned at once, before any next run
        world = open_world(env)
        try:
            (killed,) = current_runs(world.warehouse, world.sync_schema, 3600, [SYNC])
        finally:
            world.warehouse.close()
        # three calls answered before the kill, m00030 rejected in one of them
        assert (killed.status, killed.planned_adds, killed.sent) == (
            "abandoned",
            len(ROWS),
            3 * BATCH - 1,
        )
        kill_after_batch(hook, env, config, batch=3)  # the resumed run dies too
        kill_at_random(hook, env, config)  # anywhere, a state write included
        hook.heal()
        finished = subprocess.run(
            [ONEFOLD, "sync", SYNC, "--config", str(config), "--json"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )

        assert finished.returncode == 0, finished.stdout + finished.stderr
        expected = expected_destination(ROWS, [row["customer_id"] for row in ROWS])
        assert hook.records == expected  # nothing lost
        assert hook.replays >= 2  # each held batch came again under the same key
        applied = Counter(hook.events)
        assert max(applied.values()) == 1  # nothing applied twice
        world = open_world(env)
        try:
            assert_state_consistent(world, set(expected))
            statuses = [run["status"] for run in world.runs(SYNC)]
            assert statuses[:2] == ["abandoned", "abandoned"] and statuses[-1] == "succeeded"
            assert set(statuses[2:-1]) <= {"abandoned"}
            for run in world.runs(SYNC)[:2]:  # killed mid-delivery: what it planned
                assert pd.notna(run["planned_adds"])
            for run in world.runs(SYNC)[:-1]:  # the one killed at random may not have planned
                assert run["duration_seconds"] >= 0  # how long it lived
                assert run["finished_at"] == run["heartbeat_at"]
            locks = relation(world.sync_schema, LOCKS_TABLE)
            assert world.warehouse.query(f"select count(*) from {locks}") == [(0,)]
        finally:
            world.drop_schemas()
            world.warehouse.close()


def assert_state_consistent(world: SyncWorld, keys: set[str]) -> None:
    """Every record synced once, and each stored hash is the hash of its stored payload."""
    rows = world.warehouse.query(
        "select record_key, status, attempts, payload_json, payload_hash "
        f"from {relation(world.sync_schema, STATE_TABLE)} where sync_name = ?",
        [SYNC],
    )
    assert {row[0] for row in rows} == keys
    # Synced once each; the record the receiver rejected until the last run took more.
    assert {(row[1], row[2]) for row in rows if row[0] != "m00030"} == {("synced", 1)}
    assert {row[1] for row in rows} == {"synced"}
    for _, _, _, payload_json, payload_hash in rows:
        assert hashlib.sha256(payload_json.encode()).hexdigest() == payload_hash


def test_sigterm_closes_the_run_and_releases_the_lock(tmp_path: Path) -> None:
    env = world_environment("duckdb", tmp_path)
    with webhook_server(SECRET) as hook, environment(env):
        world = open_world(env)
        world.write_model(ROWS)
        world.write_consent(granted=[row["customer_id"] for row in ROWS])
        world.warehouse.close()
        config = tmp_path / "syncs.yml"
        config.write_text(
            yaml.safe_dump({"syncs": {SYNC: webhook_sync_settings(hook.url, batch_size=BATCH)}})
        )
        hook.hold_after(2)
        process = start_sync(env, config)
        assert hook.held.wait(timeout=60)
        process.send_signal(signal.SIGTERM)  # how schedulers stop a task
        output = process.communicate(timeout=30)[0].decode()
        hook.release()

        assert process.returncode == 130, output
        world = open_world(env)
        try:
            run = world.runs(SYNC)[0]
            assert (run["status"], run["sent"]) == ("interrupted", BATCH)
            locks = relation(world.sync_schema, LOCKS_TABLE)
            assert world.warehouse.query(f"select count(*) from {locks}") == [(0,)]
        finally:
            world.warehouse.close()
