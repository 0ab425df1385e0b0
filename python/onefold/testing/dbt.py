"""Run dbt in-process against a chosen target, for tests and benchmarks.

dbt's start-up costs about 3 s per CLI invocation; `dbtRunner` reuses the imports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[3]


class DbtFailure(AssertionError):
    """A dbt command did not succeed; the message lists the failing nodes."""


@dataclass
class DbtResult:
    success: bool
    results: list[Any]


@contextmanager
def environment(overrides: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block (dbt reads env_var())."""
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def project_args(target_path: Path) -> list[str]:
    """The options that point a dbt command at this project, its profile and `target_path`."""
    return [
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(target_path),
    ]


def run_dbt(
    args: Sequence[str],
    env: Mapping[str, str],
    target_path: Path,
    expect_success: bool = True,
) -> DbtResult:
    """Invoke `dbt <args>` for the project with `env` set; raise DbtFailure on failure."""
    from dbt.cli.main import dbtRunner

    full_env = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env}
    command = [*args, *project_args(target_path)]
    with environment(full_env):
        outcome = dbtRunner().invoke(command)
    results = list(getattr(outcome.result, "results", None) or [])
    if expect_success and not outcome.success:
        failing = [
            f"{getattr(r.node, 'unique_id', '?')}: {r.status} {r.message or ''}".strip()
            for r in results
            if str(r.status) not in ("success", "pass", "skipped")
        ]
        # run-operation failures carry no node message; the exception does.
        detail = "\n".join(failing) or str(outcome.exception or "see dbt.log under logs/")
        raise DbtFailure(f"dbt {' '.join(args)} failed:\n{detail}")
    return DbtResult(success=bool(outcome.success), results=results)
