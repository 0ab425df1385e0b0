"""Where each sync's runs stand, with dead runs shown as `abandoned` at once.

A killed run cannot close its own row in `onefold_sync_runs`; the next run of that sync
does (see lock.py). Until then readers use these instead:

- the view `onefold_sync_run_status` (for BI): the runs table, plus the lock holder of a
  running run, where a `running` run whose lock is gone or whose last heartbeat is
  older than the lock TTL reads `abandoned`, finished at its last heartbeat;
- `current_runs()` (`onefold sync --status`): the same, and also `abandoned` as soon as
  its holder is a process on this host that is no longer running.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from onefold.sql import relation
from onefold.sync.lock import LockHolder, holder_is_gone
from onefold.sync.state import LOCKS_TABLE, RUNS_TABLE
from onefold.warehouse import Warehouse

RUN_STATUS_VIEW = "onefold_sync_run_status"
ABANDONED = "abandoned"


@dataclass(frozen=True)
class RunRow:
    """One row of `onefold_sync_run_status`."""

    run_id: str
    sync_name: str
    destination: str
    destination_type: str
    mode: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    duration_seconds: float | None
    status: str
    planned_adds: int | None
    planned_changes: int | None
    planned_removes: int | None
    planned_retries: int | None
    excluded_without_consent: int | None
    sent: int
    failed: int
    error_summary: str | None
    is_dry_run: bool
    heartbeat_at: dt.datetime | None
    #: `host:pid` holding the sync's lock for this run (running runs only)
    holder: str | None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_COLUMNS = [field.name for field in dataclasses.fields(RunRow)]
# Computed for a run that reads abandoned; everything else is the stored column.
_WHEN_ABANDONED = {
    "status": f"'{ABANDONED}'",
    "finished_at": "coalesce(run.heartbeat_at, run.started_at)",
    "duration_seconds": "cast(extract(epoch from (coalesce(run.heartbeat_at, run.started_at) "
    "- run.started_at)) as double precision)",
    "error_summary": "'the process stopped before finishing (killed or crashed: its lock is "
    "gone or has had no heartbeat within the lock TTL); the next run resumes from the last "
    "acknowledged batch'",
}


def status_query(schema: str, ttl_seconds: float) -> str:
    """The view's SELECT (both targets): runs with dead `running` runs as abandoned."""
    seconds = math.ceil(ttl_seconds)
    now = "(current_timestamp at time zone 'UTC')"
    dead = (
        "run.status = 'running' and (lock.run_id is null or "
        f"coalesce(lock.heartbeat_at, lock.acquired_at) < {now} - interval '{seconds} seconds')"
    )
    columns = []
    for name in _COLUMNS:
        if name == "holder":
            columns.append("lock.holder as holder")
        elif name in _WHEN_ABANDONED:
            columns.append(
                f"case when {dead} then {_WHEN_ABANDONED[name]} else run.{name} end as {name}"
            )
        else:
            columns.append(f"run.{name}")
    return (
        f"select {', '.join(columns)} from {relation(schema, RUNS_TABLE)} as run "
        f"left join {relation(schema, LOCKS_TABLE)} as lock "
        "on lock.sync_name = run.sync_name and lock.run_id = run.run_id"
    )


def ensure_run_status_view(warehouse: Warehouse, schema: str, ttl_seconds: float) -> None:
    """(Re)create the view with the lock TTL this run uses. Two syncs starting together
    on PostgreSQL may both replace it; the loser's "tuple concurrently updated" is
    harmless once the view exists."""
    try:
        warehouse.execute(
            f"create or replace view {relation(schema, RUN_STATUS_VIEW)} as "
            f"{status_query(schema, ttl_seconds)}"
        )
    except Exception:
        if not warehouse.table_exists(schema, RUN_STATUS_VIEW):
            raise


def current_runs(
    warehouse: Warehouse,
    schema: str,
    ttl_seconds: float,
    sync_names: Sequence[str] | None = None,
) -> list[RunRow]:
    """Every run (of `sync_names`, default all), oldest first, as the view shows them,
    and a running run whose holder is a dead process on this host as abandoned too."""
    statement = f"select * from ({status_query(schema, ttl_seconds)}) as runs"
    params: list[Any] = []
    if sync_names is not None:
        statement += " where sync_name = any(?)"
        params.append(list(sync_names))
    rows = [RunRow(*row) for row in warehouse.query(statement + " order by started_at", params)]
    return [_with_local_check(row) for row in rows]


def _with_local_check(row: RunRow) -> RunRow:
    if row.status != "running" or row.holder is None:
        return row
    holder = LockHolder(row.run_id, row.holder, row.started_at, row.heartbeat_at)
    if not holder_is_gone(holder):
        return row
    finished = row.heartbeat_at or row.started_at
    return dataclasses.replace(
        row,
        status=ABANDONED,
        finished_at=finished,
        duration_seconds=(finished - row.started_at).total_seconds(),
        error_summary=f"process {holder.pid} on {holder.host} is no longer running; the next "
        "run resumes from the last acknowledged batch",
    )


def latest_runs(
    warehouse: Warehouse,
    schema: str,
    ttl_seconds: float,
    sync_names: Sequence[str] | None = None,
) -> list[RunRow]:
    """The latest real (not dry) run of each sync, by sync name; none before any run."""
    if not warehouse.table_exists(schema, RUNS_TABLE):
        return []
    latest: dict[str, RunRow] = {}
    for row in current_runs(warehouse, schema, ttl_seconds, sync_names):
        if not row.is_dry_run:
            latest[row.sync_name] = row
    return [latest[name] for name in sorted(latest)]
