"""Landing a raw table: what the loader adds and the row-level damage it lets through.

Sources build clean rows; `land` then applies, in this order and with logging:
duplicates (webhook retries, at-least-once delivery), malformed main timestamps and
broken JSON (never on a row that is also duplicated, so both counts stay exact), the
loader's `_loaded_at` with late arrivals, and finally the duplicate copies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from onefold.generator import reference as ref
from onefold.generator.arrays import TEXT, BoolArray, IntArray, ObjectArray, expand
from onefold.generator.clock import MS_PER_DAY, MS_PER_MINUTE, MS_PER_SECOND
from onefold.generator.config import NoiseRates
from onefold.generator.noise import NoiseLog

COPY_LATER_SHARE = 0.5  # duplicate copies loaded in a later batch rather than the same one
SECOND_COPY_SHARE = 0.1  # duplicated rows that arrive three times


@dataclass
class RawTable:
    """Rows of one source table before landing. Text columns are str-or-None arrays."""

    name: str
    key_column: str
    main_timestamp: str
    columns: dict[str, ObjectArray]
    owner: IntArray  # person index per row (ground truth)
    event_ms: IntArray  # when the source emitted the row; `_loaded_at` follows it
    json_columns: tuple[str, ...] = ()
    duplicable: bool = False

    def __post_init__(self) -> None:
        sizes = {len(v) for v in self.columns.values()} | {len(self.owner), len(self.event_ms)}
        if len(sizes) != 1:
            raise ValueError(f"{self.name}: columns have different lengths {sorted(sizes)}")

    @property
    def rows(self) -> int:
        return len(self.owner)


@dataclass(frozen=True)
class LandedTable:
    """A raw table as written, plus the owner of every row (for `record_owners`)."""

    name: str
    key_column: str
    frame: pd.DataFrame
    owner: IntArray


def land(
    table: RawTable, rng: np.random.Generator, rates: NoiseRates, log: NoiseLog
) -> LandedTable:
    """Apply loader behaviour and row-level noise, return the frame to write."""
    n = table.rows
    keys = table.columns[table.key_column]
    duplicated = (rng.random(n) < rates.duplicate_event) if table.duplicable else np.zeros(n, bool)
    _damage_rows(table, rng, rates, log, ~duplicated)
    loaded = _loaded_at(table, rng, rates, log)

    copies = np.where(duplicated, 1 + (rng.random(n) < SECOND_COPY_SHARE), 0)
    source_row, copy_number = expand(copies)
    retry = np.where(
        rng.random(len(source_row)) < COPY_LATER_SHARE,
        rng.integers(MS_PER_SECOND, 20 * MS_PER_MINUTE, len(source_row)),
        0,
    )
    copy_loaded = loaded[source_row] + retry * (copy_number + 1)
    log.add(table.name, keys[source_row], table.key_column, "duplicate")

    rows = np.concatenate([np.arange(n, dtype=np.int64), source_row])
    loaded_all = np.concatenate([loaded, copy_loaded])
    order = np.argsort(loaded_all, kind="stable")
    rows, loaded_all = rows[order], loaded_all[order]
    data = {name: pd.Series(values[rows], dtype="str") for name, values in table.columns.items()}
    data["_loaded_at"] = pd.Series(loaded_all.astype("datetime64[ms]").astype("datetime64[us]"))
    frame = pd.DataFrame(data, copy=False)
    return LandedTable(table.name, table.key_column, frame, table.owner[rows])


def _damage_rows(
    table: RawTable, rng: np.random.Generator, rates: NoiseRates, log: NoiseLog, allowed: BoolArray
) -> None:
    """Invalid or out-of-range main timestamps and truncated JSON, one kind per row."""
    n = table.rows
    keys = table.columns[table.key_column]
    draw = rng.random(n)
    invalid = allowed & (draw < rates.invalid_timestamp)
    limit = rates.invalid_timestamp + rates.timestamp_out_of_range
    out_of_range = allowed & ~invalid & (draw < limit)
    broken = allowed & ~invalid & ~out_of_range & (draw < limit + rates.broken_json)
    if not table.json_columns:
        broken[:] = False
    stamps = table.columns[table.main_timestamp]
    stamps[invalid] = _choose(rng, ref.INVALID_TIMESTAMPS, invalid)
    stamps[out_of_range] = _choose(rng, ref.OUT_OF_RANGE_TIMESTAMPS, out_of_range)
    log.add(table.name, keys[invalid], table.main_timestamp, "invalid_timestamp")
    log.add(table.name, keys[out_of_range], table.main_timestamp, "timestamp_out_of_range")
    if broken.any():
        _truncate_json(table, rng, log, broken)


def _truncate_json(
    table: RawTable, rng: np.random.Generator, log: NoiseLog, rows: BoolArray
) -> None:
    """Cut one JSON column short in each row (a proper prefix of an object never parses).

    The column is drawn at random; where it is NULL in a row (properties of an identify
    call), the first JSON column, which every row has, is cut instead.
    """
    keys = table.columns[table.key_column]
    pick = rng.integers(0, len(table.json_columns), len(rows))
    chosen = [rows & (pick == index) for index in range(len(table.json_columns))]
    for index, column in enumerate(table.json_columns[1:], start=1):
        candidates = np.flatnonzero(chosen[index])
        missing = candidates[pd.isna(table.columns[column][candidates])]
        chosen[index][missing] = False
        chosen[0][missing] = True
    for column, mask in zip(table.json_columns, chosen, strict=True):
        _cut(table, rng, column, mask)
        log.add(table.name, keys[mask], column, "broken_json")


def _cut(table: RawTable, rng: np.random.Generator, column: str, rows: BoolArray) -> None:
    if not rows.any():
        return
    values = table.columns[column][rows].astype(TEXT)
    length = np.strings.str_len(values)
    keep = 1 + np.floor(rng.random(len(values)) * np.maximum(length - 1, 1)).astype(np.int64)
    table.columns[column][rows] = np.strings.slice(values, 0, np.minimum(keep, length - 1))


def _loaded_at(
    table: RawTable, rng: np.random.Generator, rates: NoiseRates, log: NoiseLog
) -> IntArray:
    """Loader time: minutes after the event, or 1-5 days for late arrivals."""
    n = table.rows
    normal = 5 * MS_PER_SECOND + np.minimum(
        rng.exponential(6 * MS_PER_MINUTE, n), 50 * MS_PER_MINUTE
    ).astype(np.int64)
    late = rng.random(n) < rates.late_arriving
    delay = np.where(late, rng.integers(MS_PER_DAY, 5 * MS_PER_DAY, n), normal)
    log.add(table.name, table.columns[table.key_column][late], "_loaded_at", "late_arriving")
    return (table.event_ms + delay).astype(np.int64)


def _choose(rng: np.random.Generator, pool: tuple[str, ...], rows: BoolArray) -> ObjectArray:
    values = np.array(pool, dtype=object)
    return np.asarray(values[rng.integers(0, len(pool), int(rows.sum()))], dtype=object)
