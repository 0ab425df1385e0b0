"""Benchmark `onefold sync` to a local webhook: an initial sync, then a no-change re-sync.

Builds a members model (and consent) of `--rows` rows in a scratch DuckDB file, starts
the test webhook receiver in its own process (so it does not share this one's
interpreter), and runs the same mirror sync twice through the library API.

    .venv/bin/python benchmarks/sync_webhook.py --rows 100000
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import click

from onefold.sync import run_sync
from onefold.sync.config import parse_sync
from onefold.testing.dbt import environment
from onefold.testing.postgres import free_port
from onefold.testing.sync import (
    SECRET,
    SyncWorld,
    members,
    webhook_sync_settings,
    world_environment,
)
from onefold.testing.warehouse import connect_with


def receiver_stats(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats", timeout=10) as response:
        stats: dict[str, int] = json.load(response)
        return stats


def start_receiver(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "onefold.testing.webhook_server"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--secret", SECRET], stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            receiver_stats(port)
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the webhook receiver did not start")


@click.command()
@click.option("--rows", type=click.IntRange(min=1), default=100_000, show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True)
@click.option("--requests-per-second", type=float, default=1000.0, show_default=True)
def main(rows: int, batch_size: int, requests_per_second: float) -> None:
    """Print records/s of the initial sync and requests + seconds of a no-change re-sync."""
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    port = free_port()
    receiver = start_receiver(port)
    scratch = tempfile.TemporaryDirectory(prefix="onefold-sync-bench-")
    workdir = Path(scratch.name)
    env = {
        # its own DuckDB file and a manifest naming where the world's models are
        **world_environment("duckdb", workdir),
        "ONEFOLD_WEBHOOK_SECRET": SECRET,
        "ONEFOLD_TEST_WEBHOOK_SECRET": SECRET,
    }
    try:
        with environment(env):
            world = SyncWorld(connect_with(env))
            model = members(rows)
            world.write_model(model)
            world.write_consent(granted=[row["customer_id"] for row in model])
            settings = webhook_sync_settings(
                f"http://127.0.0.1:{port}/hooks/onefold",
                batch_size=batch_size,
                destination={"requests_per_second": requests_per_second},
            )
            sync = parse_sync("bench_webhook", settings)

            started = time.perf_counter()
            initial = run_sync(world.warehouse, sync)
            initial_seconds = time.perf_counter() - started
            after_initial = receiver_stats(port)

            started = time.perf_counter()
            again = run_sync(world.warehouse, sync)
            again_seconds = time.perf_counter() - started
            after_again = receiver_stats(port)
            world.warehouse.close()
    finally:
        receiver.terminate()
        receiver.wait()
        scratch.cleanup()
    assert initial.status == "succeeded" and after_initial["records"] == rows, after_initial
    print(
        f"initial sync: {initial.sent:,} records in {initial_seconds:.2f}s = "
        f"{initial.sent / initial_seconds:,.0f} records/s "
        f"({after_initial['requests']:,} requests of {batch_size} records)"
    )
    print(
        f"no-change re-sync: {after_again['requests'] - after_initial['requests']} requests "
        f"sent, {again_seconds:.2f}s (planned {again.plan.total})"
    )


if __name__ == "__main__":
    main()
