"""The noise ledger and the shared mechanics of injecting identifier noise.

Every injected noise instance is logged (table, record key, column, kind) so the
ground truth can say exactly what a resolver had to cope with, and tests can compare
logged counts with what is visible in the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from onefold.generator.arrays import BoolArray, ObjectArray, TextArray, objects
from onefold.generator.config import NoiseRates

NOISE_LOG_COLUMNS = ("source_table", "record_key", "column_name", "noise_kind")


@dataclass
class NoiseLog:
    """Accumulates noise instances in the order they were injected (deterministic)."""

    _chunks: list[tuple[str, ObjectArray, str, str]] = field(default_factory=list)

    def add(self, table: str, keys: TextArray | ObjectArray, column: str, kind: str) -> None:
        if len(keys):
            self._chunks.append((table, np.asarray(keys).astype(object), column, kind))

    def count(self, kind: str, table: str | None = None) -> int:
        return sum(
            len(keys)
            for chunk_table, keys, _, chunk_kind in self._chunks
            if chunk_kind == kind and (table is None or chunk_table == table)
        )

    def frame(self) -> pd.DataFrame:
        if not self._chunks:
            return pd.DataFrame({name: pd.Series([], dtype="str") for name in NOISE_LOG_COLUMNS})
        sizes = [len(keys) for _, keys, _, _ in self._chunks]
        columns = {
            "source_table": np.repeat(np.array([c[0] for c in self._chunks], dtype=object), sizes),
            "record_key": np.concatenate([c[1] for c in self._chunks]),
            "column_name": np.repeat(np.array([c[2] for c in self._chunks], dtype=object), sizes),
            "noise_kind": np.repeat(np.array([c[3] for c in self._chunks], dtype=object), sizes),
        }
        return pd.DataFrame({k: pd.Series(v, dtype="str") for k, v in columns.items()})


@dataclass
class FieldNoise:
    """Where identifier noise for one raw table is drawn from and logged to.

    `keys` holds each row's record key, so a mask over the rows is all a noise function
    needs to log what it did.
    """

    rng: np.random.Generator
    rates: NoiseRates
    log: NoiseLog
    table: str
    keys: ObjectArray

    def logged(self, column: str, kind: str, mask: BoolArray) -> None:
        self.log.add(self.table, self.keys[mask], column, kind)

    def split(
        self, present: BoolArray, junk_rate: float, malformed_rate: float
    ) -> tuple[BoolArray, BoolArray, BoolArray]:
        """Partition present values into junk, malformed and genuine (exclusive)."""
        draw = self.rng.random(len(present))
        junk = present & (draw < junk_rate)
        malformed = present & ~junk & (draw < junk_rate + malformed_rate)
        return junk, malformed, present & ~junk & ~malformed

    def choose(self, pool: Sequence[str], mask: BoolArray) -> ObjectArray:
        """Values drawn uniformly from `pool` for the rows in `mask`."""
        return objects(pool)[self.rng.integers(0, len(pool), int(mask.sum()))]

    def junk_field(
        self, column: str, values: ObjectArray, present: BoolArray, pool: Sequence[str]
    ) -> ObjectArray:
        """Replace a share of an id column with shared junk ('null', 'anonymous', '')."""
        junk, _, _ = self.split(present, self.rates.junk_value, 0.0)
        out = values.copy()
        out[junk] = self.choose(pool, junk)
        self.logged(column, "junk_value", junk)
        return out
