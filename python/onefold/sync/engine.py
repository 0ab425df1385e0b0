"""Run one sync: check, lock, snapshot, plan, deliver, record.

```python
from onefold.sync import load_syncs, run_sync
from onefold.project import locate

project = locate(target="prod")  # the dbt project of the working directory
with project.connection() as warehouse:
    result = run_sync(warehouse, load_syncs()["vip_webhook"], project=project)
```

State advances per acknowledged destination call, in one transaction with the run's
totals, so a run killed at any point resumes from the last acknowledged call and
replays the call in flight under the same idempotency key.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid
from dataclasses import dataclass, field
from typing import cast

from onefold.project import DbtProject, locate
from onefold.sql import transaction
from onefold.sync.config import SyncConfig, SyncSettings
from onefold.sync.delivery import CircuitOpen, Sender
from onefold.sync.destinations import build_destination
from onefold.sync.destinations.base import (
    BatchRejected,
    Destination,
    DestinationUnavailable,
    Operation,
)
from onefold.sync.destinations.settings import missing_secrets_allowed
from onefold.sync.dialect import Dialect
from onefold.sync.errors import RefusedSyncError
from onefold.sync.events import SyncObserver
from onefold.sync.lock import Heartbeat, heartbeat_interval, sync_lock
from onefold.sync.plan import Batches, build_plan, operations, state_relation, summarize
from onefold.sync.ratelimit import RateLimiter
from onefold.sync.results import DRY_RUN, FAILED, PARTIAL, SUCCEEDED, PlanSummary, SyncRunResult
from onefold.sync.runs import finish_run, record_plan, start_run
from onefold.sync.snapshot import build_snapshot
from onefold.sync.source import Source, count_and_check_keys, resolve_source
from onefold.sync.state import (
    IN_FLIGHT_TABLE,
    STATE_TABLE,
    CallJournal,
    PlannedRecord,
    StateWriter,
    SyncIdentity,
    clear_in_flight,
    ensure_state_tables,
    in_flight_relation,
    load_in_flight,
    sync_schema,
    utc_now,
)
from onefold.sync.status import ensure_run_status_view
from onefold.warehouse import Warehouse

# Error summaries quote at most this many rejected records.
_QUOTED_REJECTIONS = 3


@dataclass(frozen=True)
class SyncOptions:
    #: a lock whose holder has not beaten for this long may be broken (the holder beats
    #: every tenth of it, at most once a minute)
    lock_ttl_seconds: float = 3600

    @classmethod
    def from_environment(cls) -> SyncOptions:
        return cls(lock_ttl_seconds=SyncSettings().lock_ttl_seconds)


def run_sync(
    warehouse: Warehouse,
    sync: SyncConfig,
    *,
    dry_run: bool = False,
    observer: SyncObserver | None = None,
    destination: Destination | None = None,
    options: SyncOptions | None = None,
    project: DbtProject | None = None,
) -> SyncRunResult:
    """Run `sync` once against `warehouse` and return what happened.

    Raises ConfigError (bad config, null/duplicate keys, refused empty mirror),
    SyncLockedError (another run holds the lock) and WarehouseError. Records the
    destination rejected or could not take are not exceptions: see
    `SyncRunResult.status` and `.exit_code`. A dry run computes and returns the plan and
    writes nothing anywhere (no state, no run row, no lock, nothing sent). `project`
    finds the models in dbt's manifest (default: the dbt project of the working
    directory, see onefold.project).
    """
    options = options or SyncOptions.from_environment()
    project = project or locate()
    with warehouse.attached():  # a DuckDB file released by the previous sync
        return _run_sync(warehouse, sync, dry_run, observer, destination, options, project)


def _run_sync(
    warehouse: Warehouse,
    sync: SyncConfig,
    dry_run: bool,
    observer: SyncObserver | None,
    destination: Destination | None,
    options: SyncOptions,
    project: DbtProject,
) -> SyncRunResult:
    source = resolve_source(warehouse, sync, project)
    missing_secrets: list[str] = []
    if destination is None and dry_run:
        # A dry run contacts nothing: settings are checked, a missing secret only warned of.
        with missing_secrets_allowed() as missing_secrets:
            destination = build_destination(sync)
    destination = destination or build_destination(sync)
    run = _Run(
        warehouse=warehouse,
        sync=sync,
        source=source,
        destination=destination,
        observer=observer or SyncObserver(),
        identity=SyncIdentity(
            schema=sync_schema(project),
            sync_name=sync.name,
            destination_name=sync.destination_name,
            destination_type=sync.destination_type,
            run_id=str(uuid.uuid4()),
        ),
    )
    try:
        if dry_run:
            return run.dry_run(missing_secrets)
        return run.run(options.lock_ttl_seconds)
    finally:
        destination.close()
        run.drop_temporary_tables()
        warehouse.release()


@dataclass
class _Run:
    warehouse: Warehouse
    sync: SyncConfig
    source: Source
    destination: Destination
    observer: SyncObserver
    identity: SyncIdentity
    started_at: dt.datetime = field(default_factory=utc_now)
    started: float = field(default_factory=time.perf_counter)
    plan: PlanSummary | None = None
    sent: int = 0
    rejected: int = 0
    calls: int = 0
    rejection_examples: list[str] = field(default_factory=list)
    unavailable: str | None = None
    heartbeat: Heartbeat | None = None
    #: delivery stopped because the circuit breaker opened (see delivery.CircuitOpen)
    breaker_open: bool = False

    @property
    def dialect(self) -> Dialect:
        return Dialect(self.warehouse.target)

    @property
    def snapshot_name(self) -> str:
        return f"onefold_snapshot_{self.sync.name}"

    @property
    def plan_name(self) -> str:
        return f"onefold_plan_{self.sync.name}"

    def dry_run(self, missing_secrets: list[str]) -> SyncRunResult:
        self.observer.run_started(self.sync, self.identity.run_id, dry_run=True)
        for message in missing_secrets:
            self.observer.warning(self.sync, f"{message}; a real run will refuse to start")
        ident = self.identity
        if self.warehouse.table_exists(ident.schema, IN_FLIGHT_TABLE):
            call = load_in_flight(self.warehouse, ident.schema, ident.sync_name)
            if call is not None:
                self.observer.warning(
                    self.sync,
                    f"a call of run {call.run_id} is still in flight ({len(call.records):,} "
                    "record(s)): a real run replays it first, as it was, then sends the plan "
                    "below (which counts those records too)",
                )
        state_exists = self.warehouse.table_exists(ident.schema, STATE_TABLE)
        plan = self.compute_plan(state_exists, dry_run=True)
        result = self.result(DRY_RUN, plan, dry_run=True)
        self.observer.run_finished(result)
        return result

    def run(self, lock_ttl_seconds: float) -> SyncRunResult:
        ident = self.identity
        ensure_state_tables(self.warehouse, ident.schema)
        ensure_run_status_view(self.warehouse, ident.schema, lock_ttl_seconds)
        with sync_lock(
            self.warehouse,
            ident.schema,
            ident.sync_name,
            ident.run_id,
            lock_ttl_seconds,
            lambda message: self.observer.warning(self.sync, message),
        ):
            start_run(self.warehouse, ident, self.sync.mode, self.started_at)
            self.heartbeat = Heartbeat(
                self.warehouse,
                ident.schema,
                ident.sync_name,
                ident.run_id,
                heartbeat_interval(lock_ttl_seconds),
            )
            self.observer.run_started(self.sync, ident.run_id, dry_run=False)
            try:
                self.replay_in_flight()
                plan = self.compute_plan(state_exists=True, dry_run=False)
                # The plan is in TEMP tables: let go of a DuckDB file while delivering;
                # each state write attaches it again briefly (see sql.transaction).
                self.warehouse.release()
                self.deliver()
            except BaseException as exc:
                self.record_abort(exc)
                raise
            failed = plan.total - self.sent
            status = FAILED if self.unavailable else PARTIAL if failed else SUCCEEDED
            result = self.result(status, plan, dry_run=False, error=self.error_summary(failed))
            finish_run(
                self.warehouse,
                ident,
                status=status,
                finished_at=utc_now(),
                duration_seconds=result.duration_seconds,
                plan=plan,
                sent=self.sent,
                failed=failed,
                error_summary=result.error_summary,
            )
        self.observer.run_finished(result)
        return result

    def compute_plan(self, state_exists: bool, dry_run: bool) -> PlanSummary:
        """Check keys, build snapshot and plan; refuse a mirror that would empty the
        destination."""
        source_rows = count_and_check_keys(self.warehouse, self.sync, self.source)
        snapshot_rows = build_snapshot(
            self.warehouse, self.dialect, self.sync, self.source, self.snapshot_name
        )
        plan_table = build_plan(
            self.warehouse,
            self.dialect,
            self.sync,
            self.dialect.temp_table(self.snapshot_name),
            state_relation(self.sync, self.identity.schema, state_exists),
            self.plan_name,
        )
        plan = summarize(
            self.warehouse, plan_table, source_rows, snapshot_rows, with_samples=dry_run
        )
        self.plan = plan
        if (
            self.sync.mode == "mirror"
            and snapshot_rows == 0
            and plan.removes
            and not self.sync.allow_empty
        ):
            raise RefusedSyncError(
                f"sync {self.sync.name!r}: allow_empty: "
                f"{self.source.description} has no rows to send ({source_rows:,} before "
                f"consent filtering), so this mirror sync would remove all {plan.removes:,} "
                "records from the destination. Nothing was sent. If that is intended, set "
                "`allow_empty: true` for this sync.",
            )
        if not dry_run:
            record_plan(self.warehouse, self.identity, plan)
            self.beat(force=True)
        self.observer.plan_ready(self.sync, plan)
        return plan

    def deliver(self) -> None:
        """Send the plan batch by batch; stop at the first unavailable destination."""
        plan_table = self.dialect.temp_table(self.plan_name)
        writer = StateWriter(self.warehouse, self.identity, plan_table)
        sender = Sender(
            self.sync.name,
            self.destination,
            RateLimiter(self.destination.requests_per_second),
            max_refused_calls=self.sync.max_consecutive_refused_calls,
            journal=CallJournal(self.warehouse, self.identity, plan_table),
        )
        planned = operations(self.warehouse, plan_table)
        if self.unavailable:  # already down while replaying the call in flight
            writer.record_not_attempted(None, planned, self.not_attempted_message())
            return
        try:
            for index, operation in enumerate(planned):
                batches = Batches(
                    self.warehouse, plan_table, operation, self.destination.max_batch_size
                )
                for batch in batches:
                    if not self.send_batch(sender, writer, operation, batch):
                        writer.record_not_attempted(
                            (operation, batch[-1].key),
                            planned[index + 1 :],
                            self.not_attempted_message(),
                        )
                        return
        finally:
            self.calls += sender.calls

    def replay_in_flight(self) -> None:
        """Settle the call a previous run left in flight (killed, or the destination
        went down mid-call) before planning: the same records in the same order under
        the same idempotency key, so a destination that applied it drops it. Planning
        new batches first would cut those records differently, under new keys."""
        ident = self.identity
        call = load_in_flight(self.warehouse, ident.schema, ident.sync_name)
        if call is None:
            return
        operation = cast(Operation, call.operation)
        self.observer.warning(
            self.sync,
            f"replaying the call in flight when run {call.run_id} stopped "
            f"({len(call.records):,} record(s), {operation}, same body and idempotency key)",
        )
        writer = StateWriter(
            self.warehouse, ident, in_flight_relation(ident.schema, ident.sync_name)
        )
        sender = Sender(
            self.sync.name, self.destination, RateLimiter(self.destination.requests_per_second)
        )
        try:
            outcome = sender.replay(operation, call.records, call.idempotency_key)
        except BatchRejected:
            # Refused as a whole: nothing was applied; the records are planned as usual.
            with transaction(self.warehouse):
                clear_in_flight(self.warehouse, ident)
            return
        except DestinationUnavailable as exc:
            # Still in flight: the next run replays it; this one sends nothing.
            self.unavailable = str(exc)
            self.observer.warning(self.sync, self.stop_reason())
            return
        finally:
            self.calls += sender.calls
        writer.record_call(operation, outcome.acknowledged, outcome.rejected, 0, 0)

    def send_batch(
        self,
        sender: Sender,
        writer: StateWriter,
        operation: Operation,
        batch: list[PlannedRecord],
    ) -> bool:
        """Deliver one batch, recording each call's outcome as it comes; False when the
        destination became unavailable (the batch's unsettled records stay pending)."""
        settled: set[str] = set()
        try:
            for outcome in sender.deliver(operation, batch):
                self.sent += len(outcome.acknowledged)
                self.rejected += len(outcome.rejected)
                writer.record_call(
                    operation,
                    outcome.acknowledged,
                    outcome.rejected,
                    run_sent=self.sent,
                    run_failed=self.rejected,
                )
                self.beat()
                settled.update(record.key for record in outcome.acknowledged)
                settled.update(item.record.key for item in outcome.rejected)
                room = _QUOTED_REJECTIONS - len(self.rejection_examples)
                self.rejection_examples += [
                    f"{item.record.key}: {item.error}" for item in outcome.rejected[:room]
                ]
                self.observer.progress(self.sync, operation, self.sent, self.rejected)
        except DestinationUnavailable as exc:
            self.unavailable = str(exc)
            self.breaker_open = isinstance(exc, CircuitOpen)
            unsettled = [record for record in batch if record.key not in settled]
            writer.record_undelivered(operation, unsettled, str(exc))
            self.observer.warning(self.sync, self.stop_reason())
            return False
        return True

    def beat(self, force: bool = False) -> None:
        """Refresh the lock's heartbeat (at most every interval unless `force`)."""
        if self.heartbeat is not None:
            self.heartbeat.beat(force=force)

    def stop_reason(self) -> str:
        """Why delivery stopped early (the circuit breaker's message says so itself)."""
        return (
            self.unavailable or ""
            if self.breaker_open
            else f"destination unavailable: {self.unavailable}"
        )

    def not_attempted_message(self) -> str:
        """The error of the failure rows of records a stopped run never tried."""
        if self.breaker_open:
            return f"not attempted: the {self.unavailable}"
        return f"not attempted: the destination was unavailable ({self.unavailable}); sent next run"

    def error_summary(self, failed: int) -> str | None:
        parts = []
        if self.rejected:
            examples = "; ".join(self.rejection_examples)
            parts.append(
                f"{self.rejected:,} record(s) rejected, retried next run (e.g. {examples})"
            )
        if self.unavailable:
            pending = failed - self.rejected
            parts.append(f"{self.stop_reason()} ({pending:,} record(s) left for the next run)")
        return "; ".join(parts) or None

    def record_abort(self, exc: BaseException) -> None:
        """Close the run row of a run that raised. Best effort: when the warehouse
        connection is what failed, the next run breaks our lock as stale instead."""
        if isinstance(exc, RefusedSyncError):
            status = "refused"
        elif isinstance(exc, KeyboardInterrupt | SystemExit):
            status = "interrupted"
        else:
            status = "failed"
        with contextlib.suppress(Exception):
            finish_run(
                self.warehouse,
                self.identity,
                status=status,
                finished_at=utc_now(),
                duration_seconds=time.perf_counter() - self.started,
                plan=self.plan,
                sent=self.sent,
                failed=(self.plan.total - self.sent) if self.plan else 0,
                error_summary=str(exc) or type(exc).__name__,
            )

    def result(
        self, status: str, plan: PlanSummary, dry_run: bool, error: str | None = None
    ) -> SyncRunResult:
        return SyncRunResult(
            run_id=self.identity.run_id,
            sync_name=self.sync.name,
            destination_name=self.sync.destination_name,
            destination_type=self.sync.destination_type,
            mode=self.sync.mode,
            dry_run=dry_run,
            status=status,
            plan=plan,
            sent=self.sent,
            failed=0 if dry_run else plan.total - self.sent,
            calls=self.calls,
            started_at=self.started_at,
            duration_seconds=time.perf_counter() - self.started,
            error_summary=error,
        )

    def drop_temporary_tables(self) -> None:
        for name in (self.plan_name, self.snapshot_name):
            with contextlib.suppress(Exception):  # the connection may be what failed
                self.warehouse.execute(f"drop table if exists {self.dialect.temp_table(name)}")
