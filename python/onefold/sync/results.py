"""What a sync run planned and did: returned by the library, rendered by the CLI."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# Run statuses (also in onefold_sync_runs.status).
SUCCEEDED = "succeeded"
PARTIAL = "partial"  # some records rejected; retried next run
FAILED = "failed"  # the destination became unavailable; the rest is retried next run
DRY_RUN = "dry_run"

REASONS = ("add", "change", "retry", "remove")


@dataclass(frozen=True)
class Sample:
    key: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class PlanSummary:
    """Counts of what a run sends, computed in the warehouse."""

    adds: int
    changes: int
    removes: int
    retries: int
    #: rows the source returned, before consent filtering
    source_rows: int
    #: source rows dropped because the customer lacks a required consent
    excluded_without_consent: int
    samples: dict[str, list[Sample]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.adds + self.changes + self.removes + self.retries

    def as_dict(self, with_samples: bool = True) -> dict[str, Any]:
        result: dict[str, Any] = {
            "adds": self.adds,
            "changes": self.changes,
            "removes": self.removes,
            "retries": self.retries,
            "source_rows": self.source_rows,
            "excluded_without_consent": self.excluded_without_consent,
        }
        if with_samples:
            result["samples"] = {
                reason: [{"key": s.key, "payload": s.payload} for s in samples]
                for reason, samples in self.samples.items()
            }
        return result


@dataclass(frozen=True)
class SyncRunResult:
    run_id: str
    sync_name: str
    destination_name: str
    destination_type: str
    mode: str
    dry_run: bool
    status: str
    plan: PlanSummary
    #: records the destination acknowledged
    sent: int
    #: planned records not acknowledged (rejected, or pending after the destination failed)
    failed: int
    #: destination calls made (batches, split halves included; HTTP retries not counted)
    calls: int
    started_at: dt.datetime
    duration_seconds: float
    error_summary: str | None = None

    @property
    def exit_code(self) -> int:
        """0 when everything planned was delivered (or a dry run), else 1."""
        return 0 if self.status in (SUCCEEDED, DRY_RUN) else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "sync": self.sync_name,
            "destination": self.destination_name,
            "destination_type": self.destination_type,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "status": self.status,
            "plan": self.plan.as_dict(with_samples=self.dry_run),
            "sent": self.sent,
            "failed": self.failed,
            "calls": self.calls,
            "started_at": self.started_at.isoformat() + "Z",
            "duration_seconds": round(self.duration_seconds, 3),
            "error_summary": self.error_summary,
        }
