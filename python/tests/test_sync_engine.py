"""The sync engine end to end against a real local webhook, on DuckDB and PostgreSQL:
plans, modes, consent, segments, key checks, dry runs and the lock."""

from __future__ import annotations

import datetime as dt
import os
import socket

import pytest

from onefold.errors import ConfigError
from onefold.sql import relation
from onefold.sync import run_sync
from onefold.sync.config import parse_sync
from onefold.sync.engine import SyncOptions
from onefold.sync.errors import InvalidKeysError, RefusedSyncError, SyncLockedError
from onefold.sync.events import SyncObserver
from onefold.sync.lock import syncs_paused
from onefold.sync.state import LOCKS_TABLE, RUNS_TABLE, STATE_TABLE, ensure_state_tables
from onefold.sync.status import RUN_STATUS_VIEW, current_runs
from onefold.testing.sync import (
    SyncWorld,
    expected_destination,
    member,
    members,
    webhook_sync,
    webhook_sync_settings,
)
from onefold.testing.webhook_server import WebhookReceiver
from onefold.warehouse import quote_ident


def customers(rows: list[dict[str, str]]) -> list[str]:
    return [row["customer_id"] for row in rows]


def test_first_sync_sends_the_model_and_a_rerun_sends_nothing(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    rows = members(45)
    world.write_model(rows)
    world.write_consent(granted=customers(rows[:40]), withdrawn=customers(rows[40:42]))
    sync = webhook_sync(hook.url, batch_size=20)

    first = run_sync(world.warehouse, sync)

    expected = expected_destination(rows, customers(rows[:40]))
    assert hook.records == expected
    assert (first.status, first.sent, first.failed, first.calls) == ("succeeded", 40, 0, 2)
    assert (first.plan.adds, first.plan.excluded_without_consent) == (40, 5)
    state = world.state(sync.name)
    assert set(state) == set(expected)
    assert {(status, attempts) for status, attempts, *_ in state.values()} == {("synced", 1)}
    assert state["m00003"][3] == "c00003"  # customer_id kept for erasure
    requests_before = hook.requests

    second = run_sync(world.warehouse, sync)

    assert hook.requests == requests_before
    assert (second.plan.total, second.sent, second.calls) == (0, 0, 0)
    runs = world.runs(sync.name)
    assert [run["status"] for run in runs] == ["succeeded", "succeeded"]
    assert (runs[0]["planned_adds"], runs[0]["sent"], runs[0]["failed"]) == (40, 40, 0)
    assert runs[0]["excluded_without_consent"] == 5
    assert world.warehouse.query(
        f"select count(*) from {relation(world.sync_schema, LOCKS_TABLE)}"
    )[0] == (0,)


def test_mirror_sends_changes_and_removes_withdrawn_and_departed_customers(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    rows = members(30)
    world.write_model(rows)
    world.write_consent(granted=customers(rows))
    sync = webhook_sync(hook.url, mode="mirror")
    run_sync(world.warehouse, sync)

    changed = [member(n, tier="platinum") if n == 4 else row for n, row in enumerate(rows)]
    departed = changed[:7] + changed[8:]  # m00007 leaves the model (segment exit)
    world.write_model(departed)
    consented = [c for c in customers(rows) if c != "c00011"]  # c00011 withdraws consent
    world.write_consent(granted=consented, withdrawn=["c00011"])

    result = run_sync(world.warehouse, sync)

    assert (result.plan.changes, result.plan.removes, result.plan.adds) == (1, 2, 0)
    assert hook.records == expected_destination(departed, consented)
    assert ("remove", "m00007") in hook.events and ("remove", "m00011") in hook.events
    state = world.state(sync.name)
    assert state["m00007"][0] == state["m00011"][0] == "removed"
    # the last payload sent stays in state, for erasure
    payloads = world.warehouse.query(
        f"select payload_json from {relation(world.sync_schema, STATE_TABLE)} "
        "where record_key = 'm00011'"
    )
    assert "email_sha256" in payloads[0][0]

    # Consent granted again: the record comes back as an add (a new idempotency key).
    world.write_consent(granted=customers(rows))
    back = run_sync(world.warehouse, sync)
    assert (back.plan.adds, back.sent) == (1, 1)
    assert hook.records == expected_destination(departed, customers(rows))


def test_segment_sync_follows_the_audiences_mart(world: SyncWorld, hook: WebhookReceiver) -> None:
    audience = [
        {**member(n), "segment_name": "vip", "destination_name": "crm_hook"} for n in range(12)
    ]
    other = [
        {**member(n), "segment_name": "lapsed", "destination_name": "crm_hook"} for n in (20, 21)
    ]
    world.write_model(audience + other, table="activation_audiences")
    world.write_consent(granted=[f"c{n:05d}" for n in range(30)])
    settings = webhook_sync_settings(hook.url)
    del settings["model"]
    settings["segment"] = "vip"
    settings["destination"]["name"] = "crm_hook"
    sync = parse_sync("vip_to_crm", settings)

    run_sync(world.warehouse, sync)
    assert set(hook.records) == {f"m{n:05d}" for n in range(12)}

    world.write_model(audience[2:] + other, table="activation_audiences")  # two exit vip
    result = run_sync(world.warehouse, sync)

    assert result.plan.removes == 2
    assert set(hook.records) == {f"m{n:05d}" for n in range(2, 12)}
    assert world.runs("vip_to_crm")[-1]["destination"] == "crm_hook"


def test_insert_mode_sends_each_key_once(world: SyncWorld, hook: WebhookReceiver) -> None:
    rows = members(25)
    world.write_model(rows)
    world.write_consent(granted=[*customers(rows), "c00099"])
    sync = webhook_sync(hook.url, mode="insert", batch_size=10)
    run_sync(world.warehouse, sync)

    world.write_model([member(0, tier="platinum"), *rows[1:], member(99)])
    result = run_sync(world.warehouse, sync)

    assert (result.plan.adds, result.plan.changes, result.sent) == (1, 0, 1)
    assert set(hook.inserts) == {row["member_id"] for row in rows} | {"m00099"}
    assert set(hook.inserts.values()) == {1}
    assert hook.records["m00000"]["tier"] != "platinum"  # inserts never update


def test_upsert_mode_keeps_records_that_leave_the_model(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    rows = members(10)
    world.write_model(rows)
    world.write_consent(granted=customers(rows))
    sync = webhook_sync(hook.url, mode="upsert")
    run_sync(world.warehouse, sync)

    world.write_model(rows[:5])
    result = run_sync(world.warehouse, sync)

    assert result.plan.total == 0
    assert len(hook.records) == 10


def test_duplicate_and_null_keys_are_refused_before_sending(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    rows = members(10)
    rows[3]["member_id"] = rows[5]["member_id"] = rows[6]["member_id"] = "m00002"
    rows[8]["member_id"] = None  # type: ignore[assignment]
    world.write_model(rows)
    world.write_consent(granted=customers(rows))
    sync = webhook_sync(hook.url)

    with pytest.raises(InvalidKeysError) as raised:
        run_sync(world.warehouse, sync)

    message = str(raised.value)
    assert "sync 'members_webhook': primary_key:" in message
    assert "'m00002' (4 rows)" in message and "1 row(s) with a null member_id" in message
    assert hook.requests == 0
    assert world.state(sync.name) == {}
    assert [run["status"] for run in world.runs(sync.name)] == ["refused"]


def test_dry_run_plans_and_writes_nothing(world: SyncWorld, hook: WebhookReceiver) -> None:
    rows = members(15)
    world.write_model(rows)
    world.write_consent(granted=customers(rows))
    sync = webhook_sync(hook.url)

    fresh = run_sync(world.warehouse, sync, dry_run=True)
    assert (fresh.status, fresh.plan.adds, fresh.exit_code) == ("dry_run", 15, 0)
    assert not world.warehouse.table_exists(world.sync_schema, STATE_TABLE)
    assert len(fresh.plan.samples["add"]) == 3

    run_sync(world.warehouse, sync)
    requests, state, runs = hook.requests, world.state(sync.name), world.runs(sync.name)
    world.write_model([member(1, tier="platinum"), *rows[2:]])

    planned = run_sync(world.warehouse, sync, dry_run=True)

    assert (planned.plan.changes, planned.plan.removes) == (1, 1)
    assert planned.plan.samples["change"][0].payload["tier"] == "platinum"
    assert (hook.requests, world.state(sync.name), world.runs(sync.name)) == (requests, state, runs)


class _Warnings(SyncObserver):
    def __init__(self) -> None:
        self.messages: list[str] = []

    def warning(self, sync: object, message: str) -> None:
        self.messages.append(message)


def test_lock_prevents_overlap_and_a_dead_holder_is_cleared(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    rows = members(5)
    world.write_model(rows)
    world.write_consent(granted=customers(rows))
    sync = webhook_sync(hook.url)
    run_sync(world.warehouse, sync)  # creates the tables
    locks = relation(world.sync_schema, LOCKS_TABLE)
    runs = relation(world.sync_schema, RUNS_TABLE)
    live_holder = f"{socket.gethostname()}:{os.getpid()}"
    world.warehouse.execute(
        f"insert into {locks} (sync_name, run_id, holder, acquired_at) "
        "values ('members_webhook', 'run-live', ?, current_timestamp)",
        [live_holder],
    )

    with pytest.raises(SyncLockedError) as raised:
        run_sync(world.warehouse, sync)
    assert f"locked by {live_holder} (run run-live)" in str(raised.value)
    assert raised.value.exit_code == 2

    # A holder that died (SIGKILL) leaves its lock and a 'running' run row behind.
    world.warehouse.execute(f"delete from {locks}")
    dead_pid = _pid_of_finished_process()
    world.warehouse.execute(
        f"insert into {locks} (sync_name, run_id, holder, acquired_at) "
        "values ('members_webhook', 'run-dead', ?, current_timestamp)",
        [f"{socket.gethostname()}:{dead_pid}"],
    )
    world.warehouse.execute(
        f"insert into {runs} (run_id, sync_name, destination, destination_type, mode, "
        "started_at, status, sent, failed, is_dry_run) values ('run-dead', "
        "'members_webhook', 'members_webhook', 'webhook', 'mirror', current_timestamp, "
        "'running', 0, 0, false)"
    )
    observer = _Warnings()

    result = run_sync(world.warehouse, sync, observer=observer)

    assert result.status == "succeeded"
    assert "is no longer running" in observer.messages[0]
    statuses = {run["run_id"]: run["status"] for run in world.runs(sync.name)}
    assert statuses["run-dead"] == "abandoned"


def _pid_of_finished_process() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_a_mirror_does_not_empty_the_destination_unless_allowed(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    rows = members(8)
    world.write_model(rows)
    world.write_consent(granted=customers(rows))
    run_sync(world.warehouse, webhook_sync(hook.url))
    world.write_consent(granted=[], withdrawn=customers(rows))  # the consent feed broke

    with pytest.raises(RefusedSyncError, match=r"allow_empty: .* would remove all 8 records"):
        run_sync(world.warehouse, webhook_sync(hook.url))
    assert len(hook.records) == 8

    emptied = run_sync(world.warehouse, webhook_sync(hook.url, allow_empty=True))
    assert (emptied.sent, hook.records) == (8, {})


def test_model_columns_are_checked_before_anything_runs(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    world.write_model(members(3))
    world.write_consent(granted=["c00000"])
    bad_key = webhook_sync(hook.url, primary_key="id")
    with pytest.raises(ConfigError, match=r"sync 'members_webhook': primary_key: column 'id' not"):
        run_sync(world.warehouse, bad_key)
    bad_field = parse_sync(
        "members_webhook",
        {**webhook_sync_settings(hook.url), "fields": {"tier": "loyalty_tier"}, "hashed": []},
    )
    with pytest.raises(ConfigError, match=r"fields\.tier: column 'loyalty_tier' not in"):
        run_sync(world.warehouse, bad_field)
    world.write_model([{k: v for k, v in member(0).items() if k != "customer_id"}])
    with pytest.raises(ConfigError, match=r"purposes: consent is checked per customer"):
        run_sync(world.warehouse, webhook_sync(hook.url))
    missing = webhook_sync(hook.url, model="no_such_model")
    with pytest.raises(
        ConfigError, match=r"model: model 'no_such_model' is not in the dbt manifest"
    ):
        run_sync(world.warehouse, missing)
    # in the manifest (members' schema), not built
    unbuilt = webhook_sync(hook.url, model="customers")
    with pytest.raises(ConfigError, match=r"model: relation \S+\.customers not found"):
        run_sync(world.warehouse, unbuilt)
    qualified = webhook_sync(hook.url, model=f"{world.marts}.no_such_model")
    with pytest.raises(ConfigError, match=r"model: relation \S+\.no_such_model not found"):
        run_sync(world.warehouse, qualified)
    assert hook.requests == 0


def _insert_lock(world: SyncWorld, run_id: str, holder: str, acquired_at: dt.datetime) -> None:
    world.warehouse.execute(
        f"insert into {relation(world.sync_schema, LOCKS_TABLE)} "
        "(sync_name, run_id, holder, acquired_at) values ('members_webhook', ?, ?, ?)",
        [run_id, holder, acquired_at],
    )


def _insert_running_run(world: SyncWorld, run_id: str, started_at: dt.datetime) -> None:
    world.warehouse.execute(
        f"insert into {relation(world.sync_schema, RUNS_TABLE)} (run_id, sync_name, "
        "destination, destination_type, mode, started_at, status, sent, failed, is_dry_run) "
        "values (?, 'members_webhook', 'members_webhook', 'webhook', 'mirror', ?, "
        "'running', 0, 0, false)",
        [run_id, started_at],
    )


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def test_a_lock_without_a_recent_heartbeat_is_stale_even_when_its_pid_is_alive(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    """Containers reuse PIDs: a live local pid does not keep a silent lock forever."""
    rows = members(5)
    world.write_model(rows)
    world.write_consent(granted=customers(rows))
    sync = webhook_sync(hook.url)
    run_sync(world.warehouse, sync)  # creates the tables
    two_days_ago = _utc_now() - dt.timedelta(days=2)
    live_local_pid = f"{socket.gethostname()}:{os.getpid()}"
    _insert_lock(world, "run-silent", live_local_pid, two_days_ago)
    _insert_running_run(world, "run-silent", two_days_ago)
    observer = _Warnings()

    result = run_sync(
        world.warehouse, sync, observer=observer, options=SyncOptions(lock_ttl_seconds=3600)
    )

    assert result.status == "succeeded"
    assert any("no heartbeat for" in message for message in observer.messages), observer.messages
    silent = next(run for run in world.runs(sync.name) if run["run_id"] == "run-silent")
    assert silent["status"] == "abandoned"


def test_a_recent_heartbeat_keeps_an_old_lock_held(world: SyncWorld, hook: WebhookReceiver) -> None:
    """A long run on another host keeps its lock as long as it keeps beating."""
    rows = members(5)
    world.write_model(rows)
    world.write_consent(granted=customers(rows))
    sync = webhook_sync(hook.url)
    run_sync(world.warehouse, sync)
    _insert_lock(world, "run-long", "elsewhere:4242", _utc_now() - dt.timedelta(days=2))
    world.warehouse.execute(
        f"update {relation(world.sync_schema, LOCKS_TABLE)} set heartbeat_at = ? "
        "where run_id = 'run-long'",
        [_utc_now()],
    )

    with pytest.raises(SyncLockedError, match=r"last heartbeat .* ago"):
        run_sync(world.warehouse, sync, options=SyncOptions(lock_ttl_seconds=3600))


class _LockWatcher(SyncObserver):
    """Reads the lock row and the run row after each destination call (same thread)."""

    def __init__(self, world: SyncWorld) -> None:
        self.world = world
        self.beats: list[tuple[dt.datetime, dt.datetime]] = []
        self.planned_at_plan_time: list[object] = []

    def plan_ready(self, sync: object, plan: object) -> None:
        rows = self.world.warehouse.query(
            f"select planned_adds from {relation(self.world.sync_schema, RUNS_TABLE)} "
            "where status = 'running'"
        )
        self.planned_at_plan_time = [row[0] for row in rows]

    def progress(self, sync: object, operation: str, sent: int, failed: int) -> None:
        rows = self.world.warehouse.query(
            f"select acquired_at, heartbeat_at from {relation(self.world.sync_schema, LOCKS_TABLE)}"
        )
        self.beats.append(rows[0])


def test_the_holder_refreshes_its_heartbeat_and_the_run_row_has_its_plan_early(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    rows = members(12)
    world.write_model(rows)
    world.write_consent(granted=customers(rows))
    hook.delay_every_request(0.3)
    watcher = _LockWatcher(world)

    run_sync(
        world.warehouse,
        webhook_sync(hook.url, batch_size=4),
        observer=watcher,
        options=SyncOptions(lock_ttl_seconds=2.0),  # beats every 0.2 s
    )

    # planned counts are in the run row as soon as the plan is ready: a run killed
    # during delivery still says what it was going to do
    assert watcher.planned_at_plan_time == [12]
    acquired = watcher.beats[0][0]
    heartbeats = [beat for _, beat in watcher.beats]
    assert len(heartbeats) == 3
    assert acquired < heartbeats[0] < heartbeats[1] < heartbeats[2]


def test_an_old_lock_table_gains_the_heartbeat_column_and_keeps_its_rows(
    world: SyncWorld,
) -> None:
    schema = world.sync_schema
    locks = relation(schema, LOCKS_TABLE)
    world.warehouse.execute(f"create schema if not exists {quote_ident(schema)}")
    world.warehouse.execute(  # the table as releases before the heartbeat created it
        f"create table {locks} (sync_name varchar primary key, run_id varchar not null, "
        "holder varchar not null, acquired_at timestamp not null)"
    )
    acquired = _utc_now().replace(microsecond=0)
    world.warehouse.execute(
        f"insert into {locks} values ('members_webhook', 'run-old', 'h:1', ?)", [acquired]
    )

    ensure_state_tables(world.warehouse, schema)
    ensure_state_tables(world.warehouse, schema)  # idempotent

    assert world.warehouse.query(
        f"select sync_name, run_id, holder, acquired_at, heartbeat_at from {locks}"
    ) == [("members_webhook", "run-old", "h:1", acquired, None)]


def test_a_killed_run_reads_as_abandoned_before_any_next_run(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    """BI (the SQL view) and `onefold sync --status` (which also sees that a local pid
    is gone) stop showing a dead run as running without waiting for its sync to run."""
    rows = members(3)
    world.write_model(rows)
    world.write_consent(granted=customers(rows))
    run_sync(world.warehouse, webhook_sync(hook.url), options=SyncOptions(lock_ttl_seconds=600))
    now = _utc_now()
    started = now - dt.timedelta(hours=3)
    beat_long_ago = now - dt.timedelta(hours=2)
    here = socket.gethostname()
    runs = {  # run id -> (sync, lock holder or None, last heartbeat)
        "run-silent": ("a", "elsewhere:7", beat_long_ago),  # stopped beating 2 h ago
        "run-killed": ("b", f"{here}:{_pid_of_finished_process()}", now),  # kill -9 just now
        "run-orphan": ("c", None, now),  # its lock is gone
        "run-alive": ("d", "elsewhere:8", now),
    }
    for run_id, (sync_name, holder, beat) in runs.items():
        _insert_running_run(world, run_id, started)
        world.warehouse.execute(
            f"update {relation(world.sync_schema, RUNS_TABLE)} set sync_name = ?, "
            "heartbeat_at = ? where run_id = ?",
            [sync_name, beat, run_id],
        )
        if holder:
            world.warehouse.execute(
                f"insert into {relation(world.sync_schema, LOCKS_TABLE)} "
                "(sync_name, run_id, holder, acquired_at, heartbeat_at) values (?, ?, ?, ?, ?)",
                [sync_name, run_id, holder, started, beat],
            )

    view = relation(world.sync_schema, RUN_STATUS_VIEW)
    in_sql = dict(
        world.warehouse.query(f"select run_id, status from {view} where run_id like 'run-%'")
    )
    assert in_sql == {
        "run-silent": "abandoned",
        "run-killed": "running",  # SQL cannot see processes: abandoned after the TTL
        "run-orphan": "abandoned",
        "run-alive": "running",
    }
    silent = world.warehouse.query(
        f"select finished_at, duration_seconds from {view} where run_id = 'run-silent'"
    )
    assert silent == [(beat_long_ago, 3600.0)]  # it ended, as far as we know, at its last beat

    read = {run.run_id: run for run in current_runs(world.warehouse, world.sync_schema, 600)}
    assert {run_id: read[run_id].status for run_id in runs} == {
        "run-silent": "abandoned",
        "run-killed": "abandoned",
        "run-orphan": "abandoned",
        "run-alive": "running",
    }
    assert read["run-silent"].duration_seconds == 3600.0
    finished = [run for run in read.values() if run.sync_name == "members_webhook"]
    assert [run.status for run in finished] == ["succeeded"]


class _LockBreaker(SyncObserver):
    """Plays another run that broke this run's lock as stale once delivery started."""

    def __init__(self, world: SyncWorld) -> None:
        self.world = world

    def plan_ready(self, sync: object, plan: object) -> None:
        locks = relation(self.world.sync_schema, LOCKS_TABLE)
        self.world.warehouse.execute(f"delete from {locks}")
        _insert_lock(self.world, "run-other", "elsewhere:9", _utc_now())


def test_a_run_whose_lock_was_broken_stops_sending(world: SyncWorld, hook: WebhookReceiver) -> None:
    rows = members(12)
    world.write_model(rows)
    world.write_consent(granted=customers(rows))
    hook.delay_every_request(0.1)

    with pytest.raises(SyncLockedError, match="lost its lock"):
        run_sync(
            world.warehouse,
            webhook_sync(hook.url, batch_size=4),
            observer=_LockBreaker(world),
            options=SyncOptions(lock_ttl_seconds=0.5),  # beats every 0.05 s
        )

    assert hook.requests == 1  # the call in flight, then nothing more
    (run,) = world.runs("members_webhook")
    assert (run["status"], run["sent"]) == ("failed", 4)
    holders = world.warehouse.query(
        f"select run_id from {relation(world.sync_schema, LOCKS_TABLE)}"
    )
    assert holders == [("run-other",)]  # the other run's lock is left alone


def test_an_unknown_consent_purpose_is_refused_naming_the_known_ones(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    rows = members(5)
    world.write_model(rows)
    world.write_consent(granted=customers(rows))
    world.write_config_snapshot(["marketing_email", "analytics"])
    telepathy = webhook_sync(hook.url, purposes=["marketing_email", "telepathy"])

    for dry_run in (True, False):
        with pytest.raises(ConfigError) as raised:
            run_sync(world.warehouse, telepathy, dry_run=dry_run)
        assert str(raised.value) == (
            "sync 'members_webhook': purposes: unknown consent purpose 'telepathy' "
            "(onefold__consent_purposes has marketing_email, analytics)"
        )
    assert hook.requests == 0

    known = run_sync(world.warehouse, webhook_sync(hook.url, purposes=["marketing_email"]))
    assert (known.status, known.sent) == ("succeeded", 5)


def test_an_erasure_pauses_every_sync_and_waits_for_none(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    """While `onefold erase --execute` runs no sync delivers (a record planned before the
    erasure would go back to the destination), and an erasure does not start while a
    sync is delivering."""
    rows = members(5)
    world.write_model(rows)
    world.write_consent(granted=customers(rows))
    sync = webhook_sync(hook.url)
    run_sync(world.warehouse, sync)
    requests = hook.requests
    locks = relation(world.sync_schema, LOCKS_TABLE)
    warnings: list[str] = []

    paused = syncs_paused(world.warehouse, world.sync_schema, [sync.name], 3600, warnings.append)
    with paused, pytest.raises(SyncLockedError, match="is paused: `onefold erase --execute`"):
        run_sync(world.warehouse, sync)
    assert hook.requests == requests
    assert world.warehouse.query(f"select count(*) from {locks}") == [(0,)]

    live = f"{socket.gethostname()}:{os.getpid()}"
    _insert_lock(world, "run-delivering", live, _utc_now())
    # another sync of the file is free; the one holding its lock is not
    paused = syncs_paused(world.warehouse, world.sync_schema, ["other"], 3600, warnings.append)
    with pytest.raises(SyncLockedError, match="erasure not started: sync 'members_webhook'"):
        paused.__enter__()
    assert world.warehouse.query(f"select sync_name, run_id from {locks}") == [
        ("members_webhook", "run-delivering")
    ], "a refused erasure holds no lock"
    assert warnings == []
