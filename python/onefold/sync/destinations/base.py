"""The one interface every sync destination implements.

The engine (`onefold.sync.engine`) plans what to send in the warehouse, cuts the plan
into batches of at most `max_batch_size` records, paces calls with the destination's
rate limit, and advances state only for records a call acknowledged. A destination
only translates a batch into its own API and reports, per record, what was refused.

Operations:
- `upsert`: create or update each record (modes `upsert` and `mirror`).
- `insert`: append each record (mode `insert`); the batch's idempotency key lets a
  destination that supports one drop a replay after a crash.
- `remove`: the record left the model (mode `mirror`): take it out of the audience/table.
- `erase`: right-to-be-forgotten: delete everything the destination holds on the person
  (the vendor's documented delete / GDPR endpoint where it has one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Operation = Literal["upsert", "insert", "remove", "erase"]
OPERATIONS: tuple[Operation, ...] = ("upsert", "insert", "remove", "erase")


@dataclass(frozen=True)
class Record:
    """One row of a sync: its primary key (as text) and the mapped payload.

    Identifiers the sync sends hashed are already hashed in `payload`.
    """

    key: str
    payload: Mapping[str, Any]
    #: stable id of this change to this record: the same when a run replays it after a
    #: crash, new for the record's next change. Lets a destination drop a replayed record
    #: even when it arrives in a batch cut differently (empty when not from the engine).
    event_id: str = ""


@dataclass(frozen=True)
class Rejection:
    """The destination refused this record (a 4xx for it alone); retried next run."""

    key: str
    error: str


@dataclass
class BatchResult:
    """Every record of the batch not listed in `rejected` was acknowledged."""

    rejected: list[Rejection] = field(default_factory=list)


class DestinationError(Exception):
    """Base class for failures of a whole call."""


class BatchRejected(DestinationError):
    """The destination refused the whole batch without saying which record is at fault
    (e.g. HTTP 400 for the request). The engine splits the batch to isolate bad records."""


class DestinationUnavailable(DestinationError):
    """Transient failure that outlived the retries (429/5xx/timeouts/connection errors).
    The engine stops sending to this destination; unsent records stay pending."""


class Destination(Protocol):
    """A configured destination instance (one per sync run)."""

    #: largest batch the destination accepts (its documented limit)
    max_batch_size: int
    #: calls per second the engine may make (its documented rate limit)
    requests_per_second: float

    def send(
        self, operation: Operation, records: Sequence[Record], idempotency_key: str
    ) -> BatchResult:
        """Apply `operation` to `records` in one call; raise BatchRejected or
        DestinationUnavailable when the call as a whole fails."""
        ...

    def close(self) -> None: ...
