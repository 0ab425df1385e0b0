"""Shared fixtures: warehouse locations for both targets and a dbt runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from onefold.testing.postgres import PostgresServer, postgres_for_tests
from onefold.testing.sync import SECRET, SyncWorld, open_world, world_environment
from onefold.testing.webhook_server import WebhookReceiver, webhook_server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """ONEFOLD_PG_* when set, else a throwaway cluster stopped at the end of the run."""
    with postgres_for_tests() as server:
        yield server


@pytest.fixture
def duckdb_env(tmp_path: Path) -> dict[str, str]:
    """Environment pointing Onefold and dbt at a fresh DuckDB file."""
    return {"ONEFOLD_TARGET": "duckdb", "ONEFOLD_DUCKDB_PATH": str(tmp_path / "onefold.duckdb")}


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SyncWorld]:
    """An empty sync world (model and consent tables, sync state) on each target."""
    postgres = None
    if request.param == "postgres":
        postgres = request.getfixturevalue("postgres_server").environment()
    for key, value in world_environment(request.param, tmp_path, postgres).items():
        monkeypatch.setenv(key, value)
    with open_world(request.param) as opened:
        yield opened


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    """A local webhook receiver: signatures checked, idempotency keys deduplicated."""
    with webhook_server(SECRET) as receiver:
        yield receiver
