"""Run history rows in `onefold_sync_runs` (one per run, updated as it goes)."""

from __future__ import annotations

import datetime as dt

from onefold.sql import relation, transaction
from onefold.sync.results import PlanSummary
from onefold.sync.state import RUNS_TABLE, SyncIdentity
from onefold.warehouse import Warehouse

# Error summaries are for people and dashboards, not a log dump.
_SUMMARY_LIMIT = 2000


def start_run(
    warehouse: Warehouse, identity: SyncIdentity, mode: str, started_at: dt.datetime
) -> None:
    warehouse.execute(
        f"insert into {relation(identity.schema, RUNS_TABLE)} "
        "(run_id, sync_name, destination, destination_type, mode, started_at, status, "
        "sent, failed, is_dry_run, heartbeat_at) "
        "values (?, ?, ?, ?, ?, ?, 'running', 0, 0, false, ?)",
        [
            identity.run_id,
            identity.sync_name,
            identity.destination_name,
            identity.destination_type,
            mode,
            started_at,
            started_at,
        ],
    )


def _planned_counts(plan: PlanSummary | None) -> list[int | None]:
    if plan is None:
        return [None] * 5
    return [plan.adds, plan.changes, plan.removes, plan.retries, plan.excluded_without_consent]


def record_plan(warehouse: Warehouse, identity: SyncIdentity, plan: PlanSummary) -> None:
    """The planned counts, as soon as the plan is ready: a run that dies while delivering
    still says what it set out to do."""
    warehouse.execute(
        f"update {relation(identity.schema, RUNS_TABLE)} set planned_adds = ?, "
        "planned_changes = ?, planned_removes = ?, planned_retries = ?, "
        "excluded_without_consent = ? where run_id = ?",
        [*_planned_counts(plan), identity.run_id],
    )


def finish_run(
    warehouse: Warehouse,
    identity: SyncIdentity,
    *,
    status: str,
    finished_at: dt.datetime,
    duration_seconds: float,
    plan: PlanSummary | None,
    sent: int,
    failed: int,
    error_summary: str | None,
) -> None:
    counts = _planned_counts(plan)
    with transaction(warehouse):
        _finish(
            warehouse,
            identity,
            status,
            finished_at,
            duration_seconds,
            counts,
            sent,
            failed,
            error_summary,
        )


def _finish(
    warehouse: Warehouse,
    identity: SyncIdentity,
    status: str,
    finished_at: dt.datetime,
    duration_seconds: float,
    counts: list[int | None],
    sent: int,
    failed: int,
    error_summary: str | None,
) -> None:
    warehouse.execute(
        f"update {relation(identity.schema, RUNS_TABLE)} set status = ?, finished_at = ?, "
        "duration_seconds = ?, planned_adds = ?, planned_changes = ?, planned_removes = ?, "
        "planned_retries = ?, excluded_without_consent = ?, sent = ?, failed = ?, "
        "error_summary = ? where run_id = ?",
        [
            status,
            finished_at,
            duration_seconds,
            *counts,
            sent,
            failed,
            error_summary[:_SUMMARY_LIMIT] if error_summary else None,
            identity.run_id,
        ],
    )


ABANDONED_SUMMARY = (
    "the process stopped before finishing (killed or crashed); "
    "the next run resumed from the last acknowledged batch"
)


def mark_abandoned(warehouse: Warehouse, schema: str, run_id: str, at: dt.datetime) -> None:
    """A run whose process died holding the lock: close its row so BI does not show it
    running forever. It finished, as far as anyone can tell, at its last heartbeat; rows
    from before heartbeats existed use `at` (when the death was noticed)."""
    with transaction(warehouse):
        _abandon(warehouse, relation(schema, RUNS_TABLE), run_id, at)


def _abandon(warehouse: Warehouse, runs: str, run_id: str, at: dt.datetime) -> None:
    rows = warehouse.query(
        f"select started_at, heartbeat_at from {runs} where run_id = ? and status = 'running'",
        [run_id],
    )
    if not rows:
        return
    started_at, heartbeat_at = rows[0]
    finished_at = heartbeat_at or at
    warehouse.execute(
        f"update {runs} set status = 'abandoned', finished_at = ?, duration_seconds = ?, "
        "error_summary = ? where run_id = ? and status = 'running'",
        [
            finished_at,
            max(0.0, (finished_at - started_at).total_seconds()),
            ABANDONED_SUMMARY,
            run_id,
        ],
    )
