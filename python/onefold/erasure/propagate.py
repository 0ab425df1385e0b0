"""Destination deletes: every destination that ever received the person gets its delete.

Who received the person is read from the sync state (`onefold_sync_state`: one row per
sync and record key with the last acknowledged payload); that snapshot is taken when the
request is journaled, so a sync run that changes the state meanwhile cannot make erasure
forget a destination. Each destination's `send("erase", ...)` is called through the sync
engine's own `Sender` (same batching, rate limit, splitting of refused batches, and the
destination's HTTP retries on 429/5xx with Retry-After), so the retry rules are the
syncs' rules. A destination that fails is recorded `failed` and retried on the next run;
the request completes only when every destination succeeded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from onefold.erasure.resolve import SyncRecord
from onefold.errors import OnefoldError
from onefold.sql import chunks

SUCCEEDED = "succeeded"
FAILED = "failed"


@dataclass(frozen=True)
class DestinationResult:
    sync_name: str
    destination_name: str
    destination_type: str
    records: int
    status: str
    error: str | None = None


def group_sync_records(
    records: Sequence[SyncRecord],
) -> dict[tuple[str, str], list[SyncRecord]]:
    groups: dict[tuple[str, str], list[SyncRecord]] = {}
    for record in records:
        groups.setdefault((record.sync_name, record.destination_name), []).append(record)
    return groups


def load_sync_configs(
    path: Path | None, project_dir: Path | None = None
) -> tuple[Mapping[str, object], str | None]:
    """The declared syncs, or an empty mapping and why (deletes then fail clearly)."""
    from onefold.sync.config import load_syncs

    try:
        return load_syncs(path, project_dir), None
    except OnefoldError as exc:
        return {}, str(exc)


def erase_at_destination(
    request_id: str,
    sync_name: str,
    records: Sequence[SyncRecord],
    syncs: Mapping[str, object],
    syncs_problem: str | None,
    scrub: Callable[[str], str],
) -> DestinationResult:
    """Call the destination's delete for every record; never raises for its failures."""
    from onefold.sync.config import SyncConfig
    from onefold.sync.delivery import Sender
    from onefold.sync.destinations import build_destination
    from onefold.sync.destinations.base import DestinationError
    from onefold.sync.ratelimit import RateLimiter
    from onefold.sync.state import PlannedRecord

    first = records[0]

    def result(status: str, error: str | None = None) -> DestinationResult:
        return DestinationResult(
            sync_name,
            first.destination_name,
            first.destination_type,
            len(records),
            status,
            None if error is None else scrub(error)[:1000],
        )

    sync = syncs.get(sync_name)
    if not isinstance(sync, SyncConfig):
        reason = syncs_problem or f"sync {sync_name!r} is not declared in the syncs file"
        return result(
            FAILED,
            f"cannot build destination {first.destination_name!r}: {reason}. Its settings are "
            "needed to delete the person there: declare the sync again and rerun "
            "`onefold erase --execute`.",
        )
    try:
        destination = build_destination(sync)
    except OnefoldError as exc:
        return result(FAILED, f"cannot build destination {first.destination_name!r}: {exc}")
    planned = [
        PlannedRecord(
            key=record.record_key,
            customer_id=record.customer_id,
            payload_json=json.dumps(record.payload, sort_keys=True),
            payload_hash=None,
            prior_version=f"erase:{request_id}",
            reason="erase",
        )
        for record in records
    ]
    refused: list[str] = []
    try:
        sender = Sender(sync.name, destination, RateLimiter(destination.requests_per_second))
        for batch in chunks(planned, max(1, int(destination.max_batch_size))):
            for outcome in sender.deliver("erase", batch):
                refused += [item.error for item in outcome.rejected]
    except DestinationError as exc:
        return result(FAILED, f"destination unavailable: {exc}")
    except OnefoldError as exc:
        return result(FAILED, str(exc))
    except Exception as exc:  # a destination bug must not lose the request: retried next run
        return result(FAILED, f"{type(exc).__name__}: {exc}")
    finally:
        destination.close()
    if refused:
        return result(FAILED, f"{len(refused)} record(s) refused the delete: {refused[0]}")
    return result(SUCCEEDED)
