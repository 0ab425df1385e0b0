"""Delivery under injected faults, against a real local webhook on both targets: each
scenario ends with the destination equal to the model and the state consistent."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from onefold.sync import run_sync
from onefold.sync.config import DEFAULT_MAX_CONSECUTIVE_REFUSED_CALLS, SyncConfig
from onefold.sync.destinations import build_destination
from onefold.sync.destinations.base import BatchResult, Operation, Record
from onefold.sync.events import SyncObserver
from onefold.testing.sync import (
    SyncWorld,
    expected_destination,
    members,
    webhook_sync,
)
from onefold.testing.webhook_server import WebhookReceiver


@pytest.fixture
def world(world: SyncWorld) -> SyncWorld:
    """The shared sync world with 30 consenting members in its model."""
    rows = members(30)
    world.write_model(rows)
    world.write_consent(granted=[row["customer_id"] for row in rows])
    return world


EXPECTED = expected_destination(members(30), [row["customer_id"] for row in members(30)])


def assert_converged(world: SyncWorld, hook: WebhookReceiver, sync: SyncConfig) -> None:
    """The destination holds exactly the model; state says every record is synced."""
    assert hook.records == EXPECTED
    state = world.state(sync.name)
    assert set(state) == set(EXPECTED)
    assert {status for status, *_ in state.values()} == {"synced"}


def test_429_storm_waits_as_told_by_retry_after(world: SyncWorld, hook: WebhookReceiver) -> None:
    hook.fail_next(5, status=429, retry_after="0.1")
    sync = webhook_sync(hook.url, batch_size=10)

    started = time.perf_counter()
    result = run_sync(world.warehouse, sync)

    assert time.perf_counter() - started >= 0.5  # five waits of 0.1 s, no shortcuts
    assert (result.status, result.sent, result.calls, hook.requests) == ("succeeded", 30, 3, 8)
    assert_converged(world, hook, sync)


def test_server_errors_are_retried_with_backoff(world: SyncWorld, hook: WebhookReceiver) -> None:
    hook.fail_next(3, status=500)
    hook.fail_next(2, status=503)
    sync = webhook_sync(hook.url, batch_size=10)

    result = run_sync(world.warehouse, sync)

    assert (result.status, result.exit_code, hook.requests) == ("succeeded", 0, 8)
    assert_converged(world, hook, sync)


def test_timeouts_replay_applied_batches_without_duplicate_effects(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    # The receiver applies two batches but answers too late: the client retries them
    # under the same idempotency key and the receiver answers without applying again.
    hook.slow_next(2, seconds=0.6)
    sync = webhook_sync(
        hook.url, mode="insert", batch_size=10, destination={"timeout_seconds": 0.2}
    )

    result = run_sync(world.warehouse, sync)

    assert (result.status, result.sent, hook.replays) == ("succeeded", 30, 2)
    assert set(hook.inserts.values()) == {1}
    assert_converged(world, hook, sync)


def test_a_destination_that_stays_down_leaves_records_pending(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    hook.fail_next(50, status=503)
    sync = webhook_sync(hook.url, batch_size=10, destination={"max_retries": 2})

    down = run_sync(world.warehouse, sync)

    assert (down.status, down.exit_code, down.sent, down.failed) == ("failed", 1, 0, 30)
    assert "HTTP 503 after 3 attempt(s)" in (down.error_summary or "")
    assert world.state(sync.name) == {}  # nothing was acknowledged, nothing advanced
    # Every record left pending has a failure row saying why: the batch that was tried,
    # and the ones that were not because the destination was down.
    failures = world.failures(sync.name)
    assert len(failures) == down.failed == world.runs(sync.name)[0]["failed"] == 30
    assert all("HTTP 503 after 3 attempt(s)" in error for _, _, error in failures)
    untried = [key for key, _, error in failures if error.startswith("not attempted: the dest")]
    assert untried == [f"m{n:05d}" for n in range(10, 30)]
    assert world.runs(sync.name)[0]["status"] == "failed"

    hook.heal()
    up = run_sync(world.warehouse, sync)

    # The call that failed may have been applied (a 5xx after the work, a timeout): it
    # is replayed first as it was, then the other 20 records are planned and sent.
    assert (up.status, up.plan.adds, up.plan.retries, up.calls) == ("succeeded", 20, 0, 3)
    assert_converged(world, hook, sync)


def test_a_retry_after_beyond_the_limit_ends_the_run(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    hook.fail_next(1, status=429, retry_after="3600")
    sync = webhook_sync(hook.url, destination={"max_retry_after_seconds": 5})

    result = run_sync(world.warehouse, sync)

    assert (result.status, hook.requests) == ("failed", 1)
    assert "Retry-After 3600s" in (result.error_summary or "")
    run_sync(world.warehouse, sync)
    assert_converged(world, hook, sync)


def test_one_bad_record_is_isolated_by_splitting_and_retried_next_run(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    hook.poison(["m00013"])  # any batch holding it is refused with HTTP 400
    sync = webhook_sync(hook.url, batch_size=20)

    first = run_sync(world.warehouse, sync)

    assert (first.status, first.exit_code, first.sent, first.failed) == ("partial", 1, 29, 1)
    assert first.calls > 2  # the refused batch was split
    assert set(hook.records) == set(EXPECTED) - {"m00013"}
    status, attempts, _, _, error = world.state(sync.name)["m00013"]
    assert (status, attempts) == ("failed", 1)
    assert "HTTP 400" in error
    assert world.failures(sync.name)[0][:2] == ("m00013", "upsert")

    again = run_sync(world.warehouse, sync)  # still refused: only that record is retried
    assert (again.plan.retries, again.plan.total, again.calls) == (1, 1, 1)
    assert world.state(sync.name)["m00013"][:2] == ("failed", 2)

    hook.heal()
    healed = run_sync(world.warehouse, sync)
    assert (healed.status, healed.sent) == ("succeeded", 1)
    assert world.state(sync.name)["m00013"][:2] == ("synced", 3)
    assert_converged(world, hook, sync)


def test_a_rejected_record_does_not_block_its_batch(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    hook.reject(["m00005"], error="invalid email")  # 207 with a per-record rejection
    sync = webhook_sync(hook.url, batch_size=10)

    first = run_sync(world.warehouse, sync)

    assert (first.status, first.sent, first.failed, first.calls) == ("partial", 29, 1, 3)
    assert world.state(sync.name)["m00005"][0] == "failed"
    assert world.state(sync.name)["m00005"][4] == "invalid email"
    assert "m00005: invalid email" in (first.error_summary or "")
    run = world.runs(sync.name)[0]
    assert (run["status"], run["sent"], run["failed"]) == ("partial", 29, 1)

    hook.heal()
    second = run_sync(world.warehouse, sync)

    assert (second.plan.retries, second.sent) == (1, 1)
    assert_converged(world, hook, sync)


def test_a_destination_refusing_everything_trips_the_circuit_breaker(
    world: SyncWorld, hook: WebhookReceiver
) -> None:
    rows = members(120)
    world.write_model(rows)
    world.write_consent(granted=[row["customer_id"] for row in rows])
    hook.poison([row["member_id"] for row in rows])  # HTTP 400 for every batch
    sync = webhook_sync(hook.url, batch_size=50)

    result = run_sync(world.warehouse, sync)

    # Without a breaker: every batch split down to single records, 2 x 120 - 3 calls.
    assert hook.requests == result.calls == DEFAULT_MAX_CONSECUTIVE_REFUSED_CALLS
    assert (result.status, result.exit_code, result.sent, result.failed) == ("failed", 1, 0, 120)
    assert f"circuit breaker opened after {hook.requests} consecutive refused calls" in (
        result.error_summary or ""
    )
    run = world.runs(sync.name)[0]
    assert (run["status"], run["failed"]) == ("failed", 120)
    # Records refused alone are `failed` (retried); the untried ones have no state: pending.
    state = world.state(sync.name)
    assert {status for status, *_ in state.values()} == {"failed"}
    assert max(state) < "m00050"  # the breaker opened inside the first batch
    failures = world.failures(sync.name)
    assert len(failures) == 120
    assert {key for key, *_ in failures} == {row["member_id"] for row in rows}
    assert "not attempted: the circuit breaker opened" in failures[-1][2]

    small = webhook_sync(hook.url, batch_size=50, max_consecutive_refused_calls=3)
    requests = hook.requests
    again = run_sync(world.warehouse, small)
    assert (again.status, hook.requests - requests) == ("failed", 3)
    assert "circuit breaker opened after 3 consecutive refused calls" in (again.error_summary or "")


class _DiesAfter:
    """The real webhook destination, whose process dies (SIGTERM, a crash) right after
    the receiver applied its `batches`-th batch, before the answer is read."""

    def __init__(self, sync: SyncConfig, hook: WebhookReceiver, batches: int) -> None:
        self.inner = build_destination(sync)
        self.max_batch_size = self.inner.max_batch_size
        self.requests_per_second = self.inner.requests_per_second
        self.hook = hook
        self.batches = batches

    def send(self, operation: Operation, records: Sequence[Record], key: str) -> BatchResult:
        result = self.inner.send(operation, records, key)
        if self.hook.batches_applied == self.batches:
            raise KeyboardInterrupt("killed while the answer was on its way")
        return result

    def close(self) -> None:
        self.inner.close()


class _Warnings(SyncObserver):
    def __init__(self) -> None:
        self.messages: list[str] = []

    def warning(self, sync: object, message: str) -> None:
        self.messages.append(message)


@pytest.mark.parametrize("fault", ["rejected", "split"])
def test_the_call_in_flight_is_replayed_as_it_was_with_its_idempotency_key(
    world: SyncWorld, hook: WebhookReceiver, fault: str
) -> None:
    # A receiver that deduplicates on the Idempotency-Key header only. A per-record
    # rejection (or a split around a bad record) before the kill changes how the
    # remaining records would be batched: the call in flight must go out again as it was.
    hook.dedupe_events = False
    sync = webhook_sync(hook.url, mode="insert", batch_size=10)
    if fault == "rejected":
        hook.reject(["m00003"])  # 207: applied m00000-m00009 but that one
        dies = _DiesAfter(sync, hook, batches=2)  # m00010-m00019 applied, answer lost
    else:
        hook.poison(["m00003"])  # 400: the first batch is split around it
        dies = _DiesAfter(sync, hook, batches=5)  # four calls isolate it, then m00010-19

    with pytest.raises(KeyboardInterrupt):
        run_sync(world.warehouse, sync, destination=dies)
    assert world.runs(sync.name)[0]["status"] == "interrupted"
    dry = _Warnings()
    run_sync(world.warehouse, sync, dry_run=True, observer=dry)
    assert "is still in flight (10 record(s)): a real run replays it first" in dry.messages[0]
    hook.heal()
    observer = _Warnings()
    resumed = run_sync(world.warehouse, sync, observer=observer)

    assert {key: n for key, n in hook.inserts.items() if n > 1} == {}  # none applied twice
    assert hook.replays == 1  # the call in flight came again, same body and key
    assert "replaying the call in flight" in observer.messages[0]
    assert (resumed.status, resumed.plan.adds, resumed.plan.retries) == ("succeeded", 10, 1)
    assert_converged(world, hook, sync)
