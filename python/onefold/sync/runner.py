"""Run syncs by name: what `onefold sync` and schedulers (Airflow, Dagster) call.

```python
from onefold.sync import run_syncs

outcomes = run_syncs(["vip_webhook"], target="prod")  # a target of the dbt profile
if any(outcome.exit_code for outcome in outcomes):
    raise RuntimeError("sync failed")  # or read outcome.result / outcome.error
```
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from onefold.errors import OnefoldError
from onefold.project import DbtProject, locate
from onefold.sync.config import SyncConfig, load_syncs, select_syncs
from onefold.sync.engine import SyncOptions, run_sync
from onefold.sync.events import SyncObserver
from onefold.sync.results import SyncRunResult


@dataclass(frozen=True)
class SyncOutcome:
    """One sync's run: its result, or the error that stopped it before or while running."""

    sync_name: str
    result: SyncRunResult | None = None
    error: OnefoldError | None = None

    @property
    def exit_code(self) -> int:
        """0 ok, 1 some records failed, 2 bad config/usage (or the sync was locked)."""
        if self.error is not None:
            return self.error.exit_code
        return self.result.exit_code if self.result else 0


def exit_code(outcomes: Sequence[SyncOutcome]) -> int:
    """The worst of the outcomes' exit codes (0 for none)."""
    return max((outcome.exit_code for outcome in outcomes), default=0)


def run_syncs(
    names: Sequence[str] | None,
    *,
    target: str | None = None,
    project: DbtProject | None = None,
    config_path: Path | None = None,
    dry_run: bool = False,
    observer: SyncObserver | None = None,
    options: SyncOptions | None = None,
) -> list[SyncOutcome]:
    """Run the named syncs (every sync in the file when `names` is None), in order.

    `project` is the dbt project whose warehouse and manifest the syncs read (default:
    the project of the working directory with the profile target `target`, see
    onefold.project). A sync that fails does not stop the next one; each outcome says
    what happened.
    Errors in the syncs file itself, or reaching the warehouse, raise ConfigError or
    WarehouseError. A dry run opens DuckDB read-only. On DuckDB the file is held while
    a sync plans and for each short state write, not while it waits on a destination.
    """
    project = project or locate(target=target)
    syncs = load_syncs(config_path, project.project_dir)
    selected: list[SyncConfig] = (
        list(syncs.values()) if names is None else select_syncs(syncs, list(names))
    )
    outcomes = []
    with project.connection(read_only=dry_run, detachable=True) as warehouse:
        for sync in selected:
            try:
                result = run_sync(
                    warehouse,
                    sync,
                    dry_run=dry_run,
                    observer=observer,
                    options=options,
                    project=project,
                )
            except OnefoldError as exc:
                outcomes.append(SyncOutcome(sync.name, error=exc))
            else:
                outcomes.append(SyncOutcome(sync.name, result=result))
    return outcomes
