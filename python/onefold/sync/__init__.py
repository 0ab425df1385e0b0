"""Reverse-ETL activation: send models and segments from the warehouse to destinations.

Library first; `onefold sync` is a thin layer over it.

- `load_syncs(path)` -> {name: SyncConfig} from syncs.yml
- `run_sync(warehouse, sync_config, dry_run=False)` -> SyncRunResult
- `run_syncs(names, target=…)` -> [SyncOutcome]: what a scheduler calls
- `onefold.sync.destinations.build_destination(sync_config)` -> Destination
- `onefold.sync.state`: the sync tables' names and schema (`sync_schema()`)

The names load on first use, so `onefold --help` does not import the whole engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onefold.sync.config import SyncConfig, load_syncs
    from onefold.sync.engine import SyncOptions, run_sync
    from onefold.sync.results import PlanSummary, SyncRunResult
    from onefold.sync.runner import SyncOutcome, exit_code, run_syncs

_EXPORTS = {
    "PlanSummary": "onefold.sync.results",
    "SyncConfig": "onefold.sync.config",
    "SyncOptions": "onefold.sync.engine",
    "SyncOutcome": "onefold.sync.runner",
    "SyncRunResult": "onefold.sync.results",
    "exit_code": "onefold.sync.runner",
    "load_syncs": "onefold.sync.config",
    "run_sync": "onefold.sync.engine",
    "run_syncs": "onefold.sync.runner",
}

__all__ = [
    "PlanSummary",
    "SyncConfig",
    "SyncOptions",
    "SyncOutcome",
    "SyncRunResult",
    "exit_code",
    "load_syncs",
    "run_sync",
    "run_syncs",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'onefold.sync' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
