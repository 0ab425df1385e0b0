"""Hooks a sync run calls as it goes; the CLI renders them, a scheduler may log them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from onefold.sync.config import SyncConfig
    from onefold.sync.results import PlanSummary, SyncRunResult


class SyncObserver:
    """Does nothing; override what you need."""

    def run_started(self, sync: SyncConfig, run_id: str, dry_run: bool) -> None:
        """The run passed its configuration checks (and took its lock)."""

    def plan_ready(self, sync: SyncConfig, plan: PlanSummary) -> None:
        """The plan is computed; delivery starts unless this is a dry run."""

    def progress(self, sync: SyncConfig, operation: str, sent: int, failed: int) -> None:
        """After each destination call: the run's totals so far."""

    def warning(self, sync: SyncConfig, message: str) -> None:
        """Something a person should know (a stale lock broken, the destination down)."""

    def run_finished(self, result: SyncRunResult) -> None:
        """The run ended (with or without failed records)."""
