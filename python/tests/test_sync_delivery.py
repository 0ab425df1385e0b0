"""Sending batches (onefold.sync.delivery), against an in-memory destination: how bad
records are isolated, and when the circuit breaker opens."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from onefold.sync.delivery import CircuitOpen, Sender
from onefold.sync.destinations.base import BatchRejected, BatchResult, Operation, Record
from onefold.sync.ratelimit import RateLimiter
from onefold.sync.state import PlannedRecord


class Refusing:
    """Refuses (HTTP 400-like) any call holding one of `bad`."""

    max_batch_size = 10_000
    requests_per_second = float("inf")

    def __init__(self, bad: set[str]) -> None:
        self.bad = bad
        self.calls = 0

    def send(self, operation: Operation, records: Sequence[Record], key: str) -> BatchResult:
        self.calls += 1
        if any(record.key in self.bad for record in records):
            raise BatchRejected("HTTP 400: invalid record")
        return BatchResult()

    def close(self) -> None:
        pass


def planned(count: int, start: int = 0) -> list[PlannedRecord]:
    return [
        PlannedRecord(f"k{n:06d}", None, "{}", "h", "", "add") for n in range(start, start + count)
    ]


def deliver(sender: Sender, batches: list[list[PlannedRecord]]) -> tuple[int, int]:
    acknowledged = rejected = 0
    for batch in batches:
        for outcome in sender.deliver("upsert", batch):
            acknowledged += len(outcome.acknowledged)
            rejected += len(outcome.rejected)
    return acknowledged, rejected


@pytest.mark.parametrize("size", [2, 50, 500, 10_000])
@pytest.mark.parametrize("where", ["first", "last", "adjacent", "apart"])
def test_isolating_one_or_two_bad_records_never_opens_the_breaker(size: int, where: str) -> None:
    # Two batches of the destination's largest size, bad records at the worst places:
    # each split refuses the half holding them, the last batch's tail runs into the next.
    last = size - 1
    positions = {
        "first": [0, size],
        "last": [last, last + size],
        "adjacent": [last - 1, last, size, size + 1],
        "apart": [0, last, size, size + last],
    }[where]
    records = planned(2 * size)
    bad = {records[p].key for p in positions}
    sender = Sender("s", Refusing(bad), RateLimiter(None))

    acknowledged, rejected = deliver(sender, [records[:size], records[size:]])

    assert (acknowledged, rejected) == (2 * size - len(bad), len(bad))


def test_the_breaker_opens_after_the_configured_consecutive_refusals() -> None:
    records = planned(200)
    destination = Refusing({record.key for record in records})
    sender = Sender("s", destination, RateLimiter(None), max_refused_calls=7)

    with pytest.raises(CircuitOpen, match="after 7 consecutive refused calls"):
        deliver(sender, [records[:100], records[100:]])
    assert destination.calls == 7
