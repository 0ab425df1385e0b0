"""One run per sync at a time: a row in `onefold_sync_locks`, taken atomically.

`insert … on conflict do nothing` either creates the row or leaves the holder's; reading
it back says who won. The holder refreshes the row's `heartbeat_at` while it runs (see
`Heartbeat`). A lock is stale, and broken with a warning (the dead run's history row is
closed as `abandoned`), when its holder is a dead process on this host, or when its
last heartbeat is older than the lock TTL, whatever host and pid it names: containers
reuse PIDs, so a live pid does not prove the holder is alive.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from onefold.sql import relation, transaction
from onefold.sync.errors import SyncLockedError
from onefold.sync.runs import mark_abandoned
from onefold.sync.state import LOCKS_TABLE, RUNS_TABLE, ensure_state_tables, utc_now
from onefold.warehouse import Warehouse


@dataclass(frozen=True)
class LockHolder:
    run_id: str
    holder: str
    acquired_at: dt.datetime
    #: null in rows written before heartbeats existed: the acquisition time counts
    heartbeat_at: dt.datetime | None = None

    @property
    def last_beat(self) -> dt.datetime:
        return self.heartbeat_at or self.acquired_at

    @property
    def host(self) -> str:
        return self.holder.rpartition(":")[0]

    @property
    def pid(self) -> int | None:
        text = self.holder.rpartition(":")[2]
        return int(text) if text.isdigit() else None


def this_holder() -> str:
    """`host:pid` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    # A killed process its parent has not reaped yet is a zombie: it no longer runs.
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def holder_is_gone(holder: LockHolder) -> bool:
    """True when the holder is a process on this host that is no longer running (the
    fast path: no need to wait for the TTL)."""
    if holder.host != socket.gethostname() or holder.pid is None:
        return False
    return not process_is_running(holder.pid)


def stale_reason(holder: LockHolder, ttl_seconds: float, now: dt.datetime) -> str | None:
    """Why the lock may be broken, or None while its holder may still be running."""
    if holder_is_gone(holder):
        return f"process {holder.pid} on this host is no longer running"
    silent = (now - holder.last_beat).total_seconds()
    if silent > ttl_seconds:
        return (
            f"no heartbeat for {silent:,.0f}s, longer than the lock TTL "
            f"({ttl_seconds:,.0f}s, ONEFOLD_SYNC_LOCK_TTL_SECONDS)"
        )
    return None


def _current_holder(warehouse: Warehouse, table: str, sync_name: str) -> LockHolder | None:
    rows = warehouse.query(
        f"select run_id, holder, acquired_at, heartbeat_at from {table} where sync_name = ?",
        [sync_name],
    )
    return LockHolder(*rows[0]) if rows else None


def acquire_lock(
    warehouse: Warehouse,
    schema: str,
    sync_name: str,
    run_id: str,
    ttl_seconds: float,
    warn: Callable[[str], None],
) -> None:
    """Take the sync's lock for `run_id` or raise SyncLockedError naming the holder."""
    table = relation(schema, LOCKS_TABLE)
    # Another pass follows breaking a stale lock, or a holder that released between
    # our insert and our read.
    for _ in range(3):
        now = utc_now()
        warehouse.execute(
            f"insert into {table} (sync_name, run_id, holder, acquired_at, heartbeat_at) "
            "values (?, ?, ?, ?, ?) on conflict (sync_name) do nothing",
            [sync_name, run_id, this_holder(), now, now],
        )
        holder = _current_holder(warehouse, table, sync_name)
        if holder is None:
            continue
        if holder.run_id == run_id:
            return
        reason = stale_reason(holder, ttl_seconds, now)
        if reason is None and holder.run_id.startswith(ERASURE_RUN_PREFIX):
            raise SyncLockedError(
                f"sync {sync_name!r} is paused: `onefold erase --execute` ({holder.holder}, "
                f"since {holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC) is erasing a person, "
                "and no sync delivers meanwhile. Run the sync again when it has finished."
            )
        if reason is None:
            silent = max(0.0, (now - holder.last_beat).total_seconds())
            raise SyncLockedError(
                f"sync {sync_name!r} is already running: locked by {holder.holder} "
                f"(run {holder.run_id}) since {holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC, "
                f"last heartbeat {silent:,.0f}s ago. Wait for that run to finish. A lock "
                "whose holder stops beating is broken once its last heartbeat is older "
                f"than ONEFOLD_SYNC_LOCK_TTL_SECONDS ({ttl_seconds:,.0f}s); or delete its "
                f"row from {table}."
            )
        # Deleting by run id: of two runs breaking the same stale lock, one wins.
        warehouse.execute(
            f"delete from {table} where sync_name = ? and run_id = ?", [sync_name, holder.run_id]
        )
        mark_abandoned(warehouse, schema, holder.run_id, now)
        warn(
            f"broke the stale lock of run {holder.run_id} by {holder.holder} "
            f"(since {holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC): {reason}"
        )
    raise SyncLockedError(f"sync {sync_name!r}: could not take its lock in {table}; try again")


class LockLostError(SyncLockedError):
    """Another run broke this run's lock as stale: stop before sending anything more."""


def heartbeat(
    warehouse: Warehouse, schema: str, sync_name: str, run_id: str, at: dt.datetime
) -> None:
    """Refresh the lock's and the run row's `heartbeat_at`, in one short transaction.

    Raises LockLostError when the lock is no longer this run's."""
    with transaction(warehouse):
        held = warehouse.query(
            f"update {relation(schema, LOCKS_TABLE)} set heartbeat_at = ? "
            "where sync_name = ? and run_id = ? returning run_id",
            [at, sync_name, run_id],
        )
        warehouse.execute(
            f"update {relation(schema, RUNS_TABLE)} set heartbeat_at = ? where run_id = ?",
            [at, run_id],
        )
    if not held:
        raise LockLostError(
            f"sync {sync_name!r}: run {run_id} lost its lock: another run broke it as stale "
            "(no heartbeat within ONEFOLD_SYNC_LOCK_TTL_SECONDS). Stopped before sending "
            "more; what was acknowledged is recorded. If a destination call can take longer "
            "than the TTL, raise it."
        )


class Heartbeat:
    """Beats at most every `interval_seconds`: the holder calls `beat()` between steps
    (after the plan, after each destination call) from its own thread, since a
    warehouse connection must not be shared across threads."""

    def __init__(
        self,
        warehouse: Warehouse,
        schema: str,
        sync_name: str,
        run_id: str,
        interval_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.warehouse = warehouse
        self.schema = schema
        self.sync_name = sync_name
        self.run_id = run_id
        self.interval_seconds = interval_seconds
        self.clock = clock
        self._last = clock()

    def beat(self, force: bool = False) -> None:
        now = self.clock()
        if force or now - self._last >= self.interval_seconds:
            heartbeat(self.warehouse, self.schema, self.sync_name, self.run_id, utc_now())
            self._last = now


def heartbeat_interval(ttl_seconds: float) -> float:
    """How often a holder beats: a tenth of the TTL, at most once a minute."""
    return min(60.0, ttl_seconds / 10)


def release_lock(warehouse: Warehouse, schema: str, sync_name: str, run_id: str) -> None:
    with transaction(warehouse):
        warehouse.execute(
            f"delete from {relation(schema, LOCKS_TABLE)} where sync_name = ? and run_id = ?",
            [sync_name, run_id],
        )


#: The run id of an erasure holding sync locks starts with this.
ERASURE_RUN_PREFIX = "erasure-"


def held_sync_names(warehouse: Warehouse, schema: str) -> list[str]:
    """The syncs whose lock is held now (none when no sync has run here)."""
    if not warehouse.table_exists(schema, LOCKS_TABLE):
        return []
    rows = warehouse.query(f"select sync_name from {relation(schema, LOCKS_TABLE)}")
    return [str(name) for (name,) in rows]


@contextmanager
def syncs_paused(
    warehouse: Warehouse,
    schema: str,
    sync_names: Sequence[str],
    ttl_seconds: float,
    warn: Callable[[str], None],
) -> Iterator[None]:
    """Hold the lock of every sync in `sync_names` (and of every sync holding one now)
    while an erasure runs. A sync delivering meanwhile could send back a record it
    planned before the person was erased, and mark it synced after the erasure marked
    it erased. Raises SyncLockedError, holding nothing, when one of them is running."""
    names = sorted({*sync_names, *held_sync_names(warehouse, schema)})
    if not names:
        yield
        return
    ensure_state_tables(warehouse, schema)
    run_id = f"{ERASURE_RUN_PREFIX}{uuid.uuid4()}"
    taken: list[str] = []
    try:
        for name in names:
            try:
                acquire_lock(warehouse, schema, name, run_id, ttl_seconds, warn)
            except SyncLockedError as exc:
                raise SyncLockedError(
                    f"erasure not started: {exc} Erasing while a sync delivers could send "
                    "the person's record back: run `onefold erase --execute` again when the "
                    "sync has finished (`onefold sync --status`)."
                ) from exc
            taken.append(name)
        yield
    finally:
        for name in taken:
            release_lock(warehouse, schema, name, run_id)


@contextmanager
def sync_lock(
    warehouse: Warehouse,
    schema: str,
    sync_name: str,
    run_id: str,
    ttl_seconds: float,
    warn: Callable[[str], None],
) -> Iterator[None]:
    acquire_lock(warehouse, schema, sync_name, run_id, ttl_seconds, warn)
    try:
        yield
    finally:
        release_lock(warehouse, schema, sync_name, run_id)
