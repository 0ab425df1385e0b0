"""Peak memory of a process tree, sampled while something else runs (benchmarks).

A PostgreSQL server is a postmaster plus one backend per connection, and every backend
maps the same shared buffers: summing RSS would count them once per process. The
proportional set size (Pss, from /proc/<pid>/smaps_rollup) splits shared pages between
the processes that map them, so the sum over the tree is the memory the tree holds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


def children_by_parent(proc: Path = PROC) -> dict[int, list[int]]:
    """Every live process id, grouped under its parent's id."""
    tree: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited between listing and reading
            continue
        # The command name (2nd field) is in parentheses and may hold spaces.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def descendants(root: int, tree: dict[int, list[int]]) -> list[int]:
    """`root` and every process below it."""
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(tree.get(pid, []))
    return found


def proportional_set_size(pid: int, proc: Path = PROC) -> int:
    """Pss of one process in bytes; 0 once it has exited."""
    try:
        for line in (proc / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def tree_memory(root: int, proc: Path = PROC) -> int:
    """Bytes held by `root` and its descendants right now (sum of Pss)."""
    return sum(
        proportional_set_size(pid, proc) for pid in descendants(root, children_by_parent(proc))
    )


@dataclass
class PeakMemory:
    """The largest sum seen; `samples` says how often it was read."""

    peak_bytes: int = 0
    samples: int = 0

    @property
    def peak_gib(self) -> float:
        return self.peak_bytes / 1024**3


@contextmanager
def sampled_peak(root: int, interval_seconds: float = 0.25) -> Iterator[PeakMemory]:
    """Sample the tree under `root` every `interval_seconds` while the block runs.

    Sampling misses spikes shorter than the interval; the benchmarks' builds run for
    minutes, and their peaks (hash joins, sorts) last seconds.
    """
    peak = PeakMemory()
    stop = threading.Event()

    def sample() -> None:
        while True:
            peak.peak_bytes = max(peak.peak_bytes, tree_memory(root))
            peak.samples += 1
            if stop.wait(interval_seconds):
                return

    thread = threading.Thread(target=sample, name=f"memory-sampler-{root}", daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
