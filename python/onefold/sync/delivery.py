"""Sending one batch: idempotency key, rate limit, and splitting to isolate bad records."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from onefold.sync.config import DEFAULT_MAX_CONSECUTIVE_REFUSED_CALLS
from onefold.sync.destinations.base import (
    BatchRejected,
    BatchResult,
    Destination,
    DestinationUnavailable,
    Operation,
    Record,
)
from onefold.sync.plan import payload
from onefold.sync.ratelimit import RateLimiter
from onefold.sync.state import CallJournal, PlannedRecord, Rejected


def _change(record: PlannedRecord) -> str:
    """What identifies one change to one record: key, payload hash, state before it."""
    return f"{record.key}\t{record.payload_hash or ''}\t{record.prior_version}\n"


def idempotency_key(sync_name: str, operation: str, records: Sequence[PlannedRecord]) -> str:
    """Deterministic from the sync, operation, keys, payload hashes and prior states.

    A run replayed after a crash plans the same records from the same state, so it
    sends the same batches under the same keys and the destination can drop them; a
    record sent again after a later change has another prior state, so another key.
    """
    digest = hashlib.sha256(f"{sync_name}\n{operation}\n".encode())
    for record in records:
        digest.update(_change(record).encode())
    return digest.hexdigest()


def event_id(sync_name: str, operation: str, record: PlannedRecord) -> str:
    """One record's change id, derived like the batch key but independent of batching."""
    text = f"{sync_name}\n{operation}\n{_change(record)}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def as_record(sync_name: str, operation: str, record: PlannedRecord) -> Record:
    return Record(record.key, payload(record.payload_json), event_id(sync_name, operation, record))


@dataclass(frozen=True)
class CallOutcome:
    """What one destination call settled."""

    acknowledged: list[PlannedRecord]
    rejected: list[Rejected]


class CircuitOpen(DestinationUnavailable):
    """The circuit breaker opened: too many calls in a row acknowledged nothing (a
    destination refusing everything). The run stops; unsent records stay pending."""


@dataclass
class Sender:
    sync_name: str
    destination: Destination
    limiter: RateLimiter
    #: the circuit breaker: consecutive refused calls after which no call is made
    max_refused_calls: int = DEFAULT_MAX_CONSECUTIVE_REFUSED_CALLS
    #: destination calls made so far
    calls: int = 0
    #: calls in a row that acknowledged nothing (refused whole, or every record rejected)
    refused_in_a_row: int = 0
    #: what the last refused call was told
    last_refusal: str = ""
    #: writes each call down before it is made, for a replay after a crash
    journal: CallJournal | None = None

    def deliver(
        self, operation: Operation, batch: Sequence[PlannedRecord]
    ) -> Iterator[CallOutcome]:
        """Send `batch`, yielding after every call that got an answer.

        A batch refused as a whole is split in halves until the refused records stand
        alone; each of those is then a per-record rejection. DestinationUnavailable
        propagates: the caller knows which records were settled before it.
        """
        pending = [list(batch)]
        while pending:
            part = pending.pop()
            self._check_breaker()
            key = idempotency_key(self.sync_name, operation, part)
            if self.journal is not None:
                self.journal.record(operation, key, part)
            try:
                result = self._call(operation, part, key)
            except BatchRejected as exc:
                self._refused(str(exc) or "batch rejected")
                if len(part) == 1:
                    yield CallOutcome([], [Rejected(part[0], self.last_refusal)])
                else:
                    if self.journal is not None:
                        self.journal.clear()  # settled: nothing was applied
                    middle = len(part) // 2
                    pending += [part[middle:], part[:middle]]  # first half is sent first
                continue
            yield self._outcome(part, result)

    def replay(
        self, operation: Operation, records: Sequence[PlannedRecord], key: str
    ) -> CallOutcome:
        """Make a call a crashed run left in flight again, exactly: same records in the
        same order, same key. BatchRejected and DestinationUnavailable propagate."""
        return self._outcome(records, self._call(operation, records, key))

    def _call(self, operation: Operation, part: Sequence[PlannedRecord], key: str) -> BatchResult:
        self.limiter.acquire()
        self.calls += 1
        return self.destination.send(
            operation, [as_record(self.sync_name, operation, record) for record in part], key
        )

    def _outcome(self, part: Sequence[PlannedRecord], result: BatchResult) -> CallOutcome:
        refused = {rejection.key: rejection.error for rejection in result.rejected}
        if len(refused) < len(part):
            self.refused_in_a_row = 0
        else:
            self._refused(next(iter(refused.values()), "every record rejected"))
        return CallOutcome(
            [record for record in part if record.key not in refused],
            [Rejected(record, refused[record.key]) for record in part if record.key in refused],
        )

    def _refused(self, error: str) -> None:
        self.refused_in_a_row += 1
        self.last_refusal = error

    def _check_breaker(self) -> None:
        """Checked before a call, so a plan that ends on refusals still ends normally."""
        if self.refused_in_a_row >= self.max_refused_calls:
            raise CircuitOpen(
                f"circuit breaker opened after {self.refused_in_a_row} consecutive refused "
                f"calls (calls that acknowledged nothing; the last: {self.last_refusal}); "
                "check the destination and the payloads (max_consecutive_refused_calls)"
            )
