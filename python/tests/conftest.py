"""Shared fixtures: warehouse locations for both targets and a dbt runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from onefold.testing.postgres import PostgresServer, postgres_for_tests


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """ONEFOLD_PG_* when set, else a throwaway cluster stopped at the end of the run."""
    with postgres_for_tests() as server:
        yield server


@pytest.fixture
def duckdb_env(tmp_path: Path) -> dict[str, str]:
    """Environment pointing Onefold and dbt at a fresh DuckDB file."""
    return {"ONEFOLD_TARGET": "duckdb", "ONEFOLD_DUCKDB_PATH": str(tmp_path / "onefold.duckdb")}
