"""Lint as tests: sqlfluff (dbt templater), ruff and mypy, each a subprocess.

`make lint` runs just these; `make test` runs them in the same pytest session as the
unit and end-to-end tests, so they use the cores the end-to-end builds leave idle (dbt
start-up, PostgreSQL round trips) instead of running before them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from onefold.testing.dbt import PACKAGE_DIR

pytestmark = pytest.mark.lint

BIN = Path(sys.executable).parent
INTEGRATION_DIR = PACKAGE_DIR / "integration_tests"
# The dbt templater compiles against a scratch DuckDB file, never the demo's.
LINT_DIR = PACKAGE_DIR / "target" / "lint"

# sqlfluff lints files in parallel, one process per core (its dbt templater allows it).
SQLFLUFF = [str(BIN / "sqlfluff"), "lint", "--processes", "0"]
COMMANDS = {
    "sqlfluff-package": [*SQLFLUFF, "models", "tests"],
    "sqlfluff-loaders": [*SQLFLUFF, "--config", ".sqlfluff-loaders", "models/adapters"],
    "sqlfluff-integration": [
        *SQLFLUFF,
        "--config",
        ".sqlfluff-integration",
        str(INTEGRATION_DIR / "models"),
        str(INTEGRATION_DIR / "tests"),
    ],
    "ruff-check": [str(BIN / "ruff"), "check", "python", "benchmarks"],
    "ruff-format": [str(BIN / "ruff"), "format", "--check", "python", "benchmarks"],
    "mypy": [str(BIN / "mypy")],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_lint_clean(name: str) -> None:
    LINT_DIR.mkdir(parents=True, exist_ok=True)
    if name == "sqlfluff-integration" and not (INTEGRATION_DIR / "dbt_packages").exists():
        subprocess.run(
            [str(BIN / "dbt"), "deps", "--project-dir", str(INTEGRATION_DIR), "--quiet"],
            cwd=PACKAGE_DIR,
            check=True,
        )
    env = {
        **os.environ,
        "ONEFOLD_DUCKDB_PATH": str(LINT_DIR / f"{name}.duckdb"),
        "DBT_PROFILES_DIR": str(PACKAGE_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    result = subprocess.run(
        COMMANDS[name], cwd=PACKAGE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"{' '.join(COMMANDS[name])}\n{result.stdout}{result.stderr}"
