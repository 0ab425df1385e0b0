"""One run per sync at a time: a row in `onefold_sync_locks`, taken atomically.

`insert … on conflict do nothing` either creates the row or leaves the holder's; reading
it back says who won. A lock whose holder is a dead process on this host, or older
than the lock TTL, is stale: it is broken with a warning (and the dead run's history
row is closed as `abandoned`).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from onefold.sql import relation
from onefold.sync.errors import SyncLockedError
from onefold.sync.runs import mark_abandoned
from onefold.sync.state import LOCKS_TABLE, utc_now
from onefold.warehouse import Warehouse


@dataclass(frozen=True)
class LockHolder:
    run_id: str
    holder: str
    acquired_at: dt.datetime

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


def stale_reason(holder: LockHolder, ttl_seconds: float, now: dt.datetime) -> str | None:
    """Why the lock may be broken, or None while its holder may still be running."""
    if holder.host == socket.gethostname() and holder.pid is not None:
        if not process_is_running(holder.pid):
            return f"process {holder.pid} on this host is no longer running"
        return None
    age = (now - holder.acquired_at).total_seconds()
    if age > ttl_seconds:
        return f"held for {age:,.0f}s, longer than the lock TTL ({ttl_seconds:,.0f}s)"
    return None


def _current_holder(warehouse: Warehouse, table: str, sync_name: str) -> LockHolder | None:
    rows = warehouse.query(
        f"select run_id, holder, acquired_at from {table} where sync_name = ?", [sync_name]
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
            f"insert into {table} (sync_name, run_id, holder, acquired_at) values (?, ?, ?, ?) "
            "on conflict (sync_name) do nothing",
            [sync_name, run_id, this_holder(), now],
        )
        holder = _current_holder(warehouse, table, sync_name)
        if holder is None:
            continue
        if holder.run_id == run_id:
            return
        reason = stale_reason(holder, ttl_seconds, now)
        if reason is None:
            raise SyncLockedError(
                f"sync {sync_name!r} is already running: locked by {holder.holder} "
                f"(run {holder.run_id}) since {holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC. "
                "Wait for that run to finish. If its process is gone on another machine, "
                "the lock is broken after ONEFOLD_SYNC_LOCK_TTL_SECONDS "
                f"({ttl_seconds:,.0f}s), or delete its row from {table}."
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


def release_lock(warehouse: Warehouse, schema: str, sync_name: str, run_id: str) -> None:
    warehouse.execute(
        f"delete from {relation(schema, LOCKS_TABLE)} where sync_name = ? and run_id = ?",
        [sync_name, run_id],
    )


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
