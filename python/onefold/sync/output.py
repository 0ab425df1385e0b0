"""How `onefold sync` shows a run: Rich progress on a terminal, JSON lines otherwise."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from onefold.sync.config import SyncConfig
from onefold.sync.events import SyncObserver
from onefold.sync.results import PlanSummary, SyncRunResult
from onefold.sync.status import RunRow

# JSON progress lines are rate-limited: one per this many seconds per sync.
PROGRESS_INTERVAL_SECONDS = 1.0


class JsonLinesObserver(SyncObserver):
    """One JSON object per line, for schedulers and log collectors."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._planned: dict[str, int] = {}
        self._last_progress: dict[str, float] = {}

    def emit(self, event: str, level: str = "info", **fields: Any) -> None:
        line = {
            "ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "event": event,
            **fields,
        }
        self.stream.write(json.dumps(line, default=str) + "\n")
        self.stream.flush()

    def run_started(self, sync: SyncConfig, run_id: str, dry_run: bool) -> None:
        self.emit(
            "run_started",
            sync=sync.name,
            run_id=run_id,
            destination=sync.destination_name,
            destination_type=sync.destination_type,
            mode=sync.mode,
            dry_run=dry_run,
        )

    def plan_ready(self, sync: SyncConfig, plan: PlanSummary) -> None:
        self._planned[sync.name] = plan.total
        self.emit("plan", sync=sync.name, **plan.as_dict(with_samples=False))

    def progress(self, sync: SyncConfig, operation: str, sent: int, failed: int) -> None:
        now = time.monotonic()
        if now - self._last_progress.get(sync.name, 0.0) < PROGRESS_INTERVAL_SECONDS:
            return
        self._last_progress[sync.name] = now
        self.emit(
            "progress",
            sync=sync.name,
            operation=operation,
            sent=sent,
            failed=failed,
            planned=self._planned.get(sync.name),
        )

    def warning(self, sync: SyncConfig, message: str) -> None:
        self.emit("warning", level="warning", sync=sync.name, message=message)

    def run_finished(self, result: SyncRunResult) -> None:
        level = "info" if result.exit_code == 0 else "error"
        self.emit("run_finished", level=level, **result.as_dict())

    def error(self, sync_name: str | None, message: str, exit_code: int) -> None:
        self.emit("error", level="error", sync=sync_name, message=message, exit_code=exit_code)


class RichObserver(SyncObserver):
    """A progress bar per sync and a line per plan and result, for people."""

    def __init__(self, console: Console, error_console: Console | None = None) -> None:
        self.console = console
        self.error_console = error_console or Console(stderr=True)
        self._progress: Progress | None = None
        self._task: Any = None
        self._dry_run = False

    def run_started(self, sync: SyncConfig, run_id: str, dry_run: bool) -> None:
        self._dry_run = dry_run
        what = "[dim](dry run)[/]" if dry_run else f"[dim]run {run_id}[/]"
        self.console.print(
            f"[bold]{escape(sync.name)}[/] → {escape(sync.destination_type)} "
            f"{escape(sync.destination_name)} ({sync.mode}) {what}"
        )

    def plan_ready(self, sync: SyncConfig, plan: PlanSummary) -> None:
        excluded = (
            f", {plan.excluded_without_consent:,} excluded without consent"
            if plan.excluded_without_consent
            else ""
        )
        self.console.print(
            f"  plan: {plan.adds:,} adds, {plan.changes:,} changes, {plan.removes:,} removes, "
            f"{plan.retries:,} retries (source: {plan.source_rows:,} rows{excluded})"
        )
        for reason, samples in plan.samples.items():
            for sample in samples:
                self.console.print(
                    f"    [dim]{reason}[/] {escape(sample.key)}: "
                    f"{escape(json.dumps(sample.payload, default=str))}",
                    soft_wrap=True,
                )
        if plan.total and not self._dry_run:
            self._progress = Progress(
                TextColumn("  {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._task = self._progress.add_task(sync.name, total=plan.total)

    def progress(self, sync: SyncConfig, operation: str, sent: int, failed: int) -> None:
        if self._progress is None:
            return
        self._progress.start()
        self._progress.update(self._task, completed=sent + failed, description=operation)

    def warning(self, sync: SyncConfig, message: str) -> None:
        self._stop()
        self.error_console.print(f"  [yellow]warning:[/] {escape(message)}")

    def run_finished(self, result: SyncRunResult) -> None:
        self._stop()
        if result.dry_run:
            self.console.print("  [dim]dry run: nothing was sent or written[/]")
            return
        style = {"succeeded": "green", "partial": "yellow"}.get(result.status, "bold red")
        self.console.print(
            f"  [{style}]{result.status}[/]: {result.sent:,} sent, {result.failed:,} failed, "
            f"{result.calls:,} calls in {result.duration_seconds:.1f}s"
        )
        if result.error_summary:
            self.console.print(f"  {escape(result.error_summary)}", soft_wrap=True)

    def error(self, sync_name: str | None, message: str, exit_code: int) -> None:
        self._stop()
        prefix = "" if sync_name is None else f"[bold]{escape(sync_name)}[/]: "
        self.error_console.print(f"{prefix}[bold red]error:[/] {escape(message)}", highlight=False)

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def print_status_json(stream: TextIO, rows: list[RunRow]) -> None:
    """`onefold sync --status --json`: one `run_status` line per sync."""
    observer = JsonLinesObserver(stream)
    for row in rows:
        fields = row.as_dict()
        fields["sync"] = fields.pop("sync_name")
        observer.emit("run_status", **fields)


def print_status_table(console: Console, rows: list[RunRow]) -> None:
    """`onefold sync --status` for people: a table, never truncated (it wraps instead)."""
    from rich.table import Table

    if not rows:
        console.print("no sync has run yet")
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("sync", overflow="fold")
    for column in ("status", "started (UTC)", "duration", "planned", "sent", "failed"):
        table.add_column(column, no_wrap=True, justify="left" if column == "status" else "right")
    for row in rows:
        planned = [
            row.planned_adds,
            row.planned_changes,
            row.planned_removes,
            row.planned_retries,
        ]
        style = {"succeeded": "green", "running": "cyan", "partial": "yellow"}.get(
            row.status, "bold red"
        )
        table.add_row(
            escape(row.sync_name),
            f"[{style}]{row.status}[/]",
            f"{row.started_at:%Y-%m-%d %H:%M}",
            "" if row.duration_seconds is None else f"{row.duration_seconds:,.0f}s",
            "" if planned[0] is None else f"{sum(count or 0 for count in planned):,}",
            f"{row.sent:,}",
            f"{row.failed:,}",
        )
    console.print(table)
    for row in rows:
        if row.status != "succeeded":
            console.print(
                f"[bold]{escape(row.sync_name)}[/]: run {escape(row.run_id)}"
                + (f": {escape(row.error_summary)}" if row.error_summary else ""),
                soft_wrap=True,
            )
