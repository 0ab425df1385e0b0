"""Shared fixtures: warehouse locations for both targets and a dbt runner."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from onefold.testing.postgres import PostgresServer, postgres_for_tests
from onefold.testing.sync import SECRET, SyncWorld, open_world, world_environment
from onefold.testing.warehouse import target_environment
from onefold.testing.webhook_server import WebhookReceiver, webhook_server

# `make test` runs `pytest -n 2 --dist loadscope --no-loadscope-reorder`: xdist hands
# a worker one module at a time, in collection order. (Its default order, most tests
# first, put the few-test modules that build warehouses last, and one worker ran them
# alone at the end.) Longest first, so the workers finish together: these modules in
# this order (the slowest in CI's last runs), then the other modules that build
# warehouses or lint, then the quick unit modules, which fill in at the end.
SLOWEST_MODULES = (
    "test_spark.py",
    "test_lint.py",
    "test_erasure_e2e.py",
    "test_erasure_postgres_e2e.py",
    "test_e2e_build.py",
    "test_erasure_host_e2e.py",
    "test_incremental.py",
    "test_segments_consent.py",
    "test_bad_input_e2e.py",
    "test_stable_ids.py",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--extended",
        action="store_true",
        help="also run the checks marked extended, left out for CI's time budget (make extended)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the checks marked extended unless --extended is given, whatever -m
    selects; order the modules longest first (see SLOWEST_MODULES); a module's tests
    keep their order and stay together."""
    if not config.getoption("--extended"):
        extended = [item for item in items if item.get_closest_marker("extended")]
        if extended:
            config.hook.pytest_deselected(items=extended)
            items[:] = [item for item in items if not item.get_closest_marker("extended")]
    slow = {item.path.name for item in items if item.get_closest_marker("e2e")}
    slow |= {item.path.name for item in items if item.get_closest_marker("lint")}

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        if name in SLOWEST_MODULES:
            return SLOWEST_MODULES.index(name)
        return len(SLOWEST_MODULES) + (0 if name in slow else 1)

    items.sort(key=rank)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """ONEFOLD_PG_* when set, else a throwaway cluster stopped at the end of the run."""
    with postgres_for_tests() as server:
        yield server


@pytest.fixture(scope="session")
def spark_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A local Spark warehouse for this test process (onefold.spark: a process has one
    Spark, its warehouse directory fixed when it starts, so every Spark test of a worker
    shares it and keeps to its own schemas). Skips, saying why, without Java."""
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java (java is not on PATH): apt-get install openjdk-17-jre")
    return {
        **target_environment("spark", tmp_path_factory.mktemp("spark"), "warehouse"),
        # A small local Spark: the suite runs it beside other builds on two cores.
        "ONEFOLD_SPARK_MASTER": "local[2]",
        "ONEFOLD_SPARK_DRIVER_MEMORY": "1g",
        "ONEFOLD_SPARK_SHUFFLE_PARTITIONS": "2",
    }


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
