"""Run dbt in-process against a chosen target, for tests and benchmarks.

dbt's start-up costs about 3 s per CLI invocation; `dbtRunner` reuses the imports, and
parsed_manifests the parsed project.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onefold.testing.parsed_manifests import cache_key, parsed_manifest

if TYPE_CHECKING:
    from onefold.project import DbtProject

# The repository: the dbt package `onefold` (models, macros, profiles.yml).
PACKAGE_DIR = Path(__file__).resolve().parents[3]
# The demo project that installs the package (`local: ..`); tests build the demo world.
DEMO_PROJECT_DIR = PACKAGE_DIR / "demo"
# For builds whose test is not about the package's unit tests: those do not read the
# data, and run in test_e2e_build's build on each target (and in the host project's).
WITHOUT_UNIT_TESTS = ("--exclude-resource-type", "unit_test")
# dbt formats and writes every event of a build (the file log at debug level: each
# statement's SQL), about a tenth of a small build's CPU. Tests read the events through
# a callback instead (DbtFailure lists what failed), so there is no console or file
# log unless the command asks for one (--log-path, --log-level).
QUIET_LOGS = ("--log-level", "none", "--log-level-file", "none")


class DbtFailure(AssertionError):
    """A dbt command did not succeed; the message lists the failing nodes."""


@dataclass
class DbtResult:
    success: bool
    results: list[Any]
    # dbt's event messages, in order (the text its console output is made of), and the
    # exception that ended the invocation, if any.
    messages: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "\n".join(self.messages)


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


def locations(target_path: Path, project_dir: Path = DEMO_PROJECT_DIR) -> dict[str, str]:
    """The environment that points `onefold` commands at `project_dir` built into
    `target_path` (dbt's own variables: the CLI finds the project the way dbt does)."""
    return {
        "DBT_PROJECT_DIR": str(project_dir),
        "DBT_PROFILES_DIR": str(PACKAGE_DIR),
        "DBT_TARGET_PATH": str(target_path),
    }


def locate_project(
    env: Mapping[str, str], target_path: Path, project_dir: Path = DEMO_PROJECT_DIR
) -> DbtProject:
    """The dbt project `env` and `target_path` describe, as `onefold` commands see it."""
    from onefold.project import locate

    with environment({**env, **locations(target_path, project_dir)}):
        return locate()


def project_args(target_path: Path, project_dir: Path = DEMO_PROJECT_DIR) -> list[str]:
    """The options that point a dbt command at `project_dir`, the repository's profile
    and `target_path`."""
    return [
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(PACKAGE_DIR),
        "--target-path",
        str(target_path),
    ]


def ensure_packages(project_dir: Path) -> None:
    """Install the project's `local:` packages (`dbt deps`) unless they already are.

    `dbt deps` links the package directory, so later edits need no reinstall."""
    from dbt.cli.main import dbtRunner

    if (project_dir / "dbt_packages" / "onefold").exists():
        return
    command = ["deps", "--project-dir", str(project_dir), "--profiles-dir", str(PACKAGE_DIR)]
    with environment({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}):
        outcome = dbtRunner().invoke(command)
    if not outcome.success:
        raise DbtFailure(f"dbt deps failed in {project_dir}: {outcome.exception}")


def _parse(args: Sequence[str], command: Sequence[str]) -> Any | None:
    """The manifest `dbt parse` makes with the command's vars and project options, or
    None when it fails (the command itself then reports the failure)."""
    from dbt.cli.main import dbtRunner

    options = list(command[len(args) :])
    if "--vars" in args:
        position = list(args).index("--vars")
        options += ["--vars", args[position + 1]]
    outcome = dbtRunner().invoke(["parse", "--quiet", *options])
    return outcome.result if outcome.success else None


def run_dbt(
    args: Sequence[str],
    env: Mapping[str, str],
    target_path: Path,
    expect_success: bool = True,
    project_dir: Path = DEMO_PROJECT_DIR,
) -> DbtResult:
    """Invoke `dbt <args>` for `project_dir` (the demo project unless told) with `env`
    set; raise DbtFailure on failure."""
    from dbt.cli.main import dbtRunner

    ensure_packages(project_dir)
    full_env = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env}
    quiet = () if {"--log-level", "--log-path"} & set(args) else QUIET_LOGS
    command = [*args, *quiet, *project_args(target_path, project_dir)]
    with environment(full_env):
        manifest = None
        key = cache_key(args, full_env, project_dir)
        if key is not None:
            manifest = parsed_manifest(key, lambda: _parse(args, command))
        messages: list[str] = []
        outcome = dbtRunner(
            manifest=manifest, callbacks=[lambda event: messages.append(event.info.msg)]
        ).invoke(command)
    if outcome.exception is not None:
        messages.append(str(outcome.exception))
    results = list(getattr(outcome.result, "results", None) or [])
    if expect_success and not outcome.success:
        # run-operation results carry no node.
        failing = [
            f"{getattr(getattr(r, 'node', None), 'unique_id', '?')}: {r.status} "
            f"{r.message or ''}".strip()
            for r in results
            if str(r.status) not in ("success", "pass", "skipped")
        ]
        # run-operation failures carry no node message; the exception and the last
        # events do.
        detail = "\n".join(failing) or "\n".join(messages[-20:])
        raise DbtFailure(f"dbt {' '.join(args)} failed:\n{detail}")
    return DbtResult(success=bool(outcome.success), results=results, messages=messages)


def dbt_output(
    args: Sequence[str],
    env: Mapping[str, str],
    target_path: Path,
    project_dir: Path = DEMO_PROJECT_DIR,
    succeed: bool = True,
) -> str:
    """dbt's output for `dbt <args>` (its event messages), which must succeed
    (`succeed=False`: must fail). In-process, as run_dbt (no start-up, the parse
    shared); on DuckDB dbt's connection is then closed, so that another process, or a
    connection with other settings, can open the file."""
    result = run_dbt(args, env, target_path, expect_success=succeed, project_dir=project_dir)
    if env.get("ONEFOLD_TARGET", "duckdb") == "duckdb":
        release_duckdb_file()
    assert succeed or not result.success, f"dbt {' '.join(args)} passed:\n{result.output}"
    return result.output


def release_duckdb_file() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a run (its
    `keep_open`): the next run opens it again."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    # dbt-duckdb 1.11 holds one environment per process and replaces it the same way
    # when a run's credentials change.
    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None
