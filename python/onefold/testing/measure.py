"""Wall time and peak memory of one child process, for the benchmark scripts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from onefold.testing.dbt import project_args

# Runs a command and prints its peak RSS (KiB) and exit code on the last line, so each
# command is measured on its own (this process's children's maximum RSS would carry
# over from one command to the next).
_MEASURE = (
    "import resource, subprocess, sys\n"
    "result = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "sys.stdout.write(result.stdout)\n"
    "sys.stderr.write(result.stderr)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, result.returncode)\n"
)

# The benchmarks pin "now" so builds of the same data do the same work on any day.
_BUILD_VARS = "{onefold__now: '2026-11-01'}"


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_rss_gib: float
    returncode: int
    stdout: str
    stderr: str


def executable(name: str) -> str:
    """A console script of this virtualenv (dbt, onefold)."""
    return str(Path(sys.executable).with_name(name))


def measure(command: Sequence[str], env: Mapping[str, str]) -> Measurement:
    """Run `command` with `env` added to the environment; its time and peak RSS."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env},
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    *output, last = result.stdout.rstrip("\n").split("\n")
    rss_kib, code = last.split()
    return Measurement(seconds, int(rss_kib) / 1024**2, int(code), "\n".join(output), result.stderr)


def dbt_build(env: Mapping[str, str], target_path: Path) -> Measurement:
    """`dbt build` of the whole project; RuntimeError with dbt's output when it fails."""
    measurement = measure(
        [executable("dbt"), "build", "--quiet", *project_args(target_path), "--vars", _BUILD_VARS],
        env,
    )
    if measurement.returncode != 0:
        raise RuntimeError(
            f"dbt build failed (exit {measurement.returncode}):\n{measurement.stdout[-3000:]}"
        )
    return measurement
