"""Simulated time: the activity window, realistic instants and their ISO-8601 renderings.

Instants are int64 milliseconds since the Unix epoch (UTC) until the very end, when
they are rendered the way real sources write them: mostly `...T10:15:00.123Z`, some in
local time with an offset (`...T12:15:00.123+02:00`, the same instant), some without a
zone (`2026-03-01 10:15:00`, meaning UTC).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from onefold.generator.arrays import (
    TEXT,
    BoolArray,
    IntArray,
    ObjectArray,
    TextArray,
    ascii_rows_to_objects,
    weighted_choice,
)

MS_PER_SECOND = 1_000
MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000

# Relative activity per local hour of day: quiet at night, peaks in the evening.
HOURLY_PROFILE = (
    0.6, 0.4, 0.3, 0.2, 0.2, 0.3, 0.8, 1.6, 2.4, 3.0, 3.4, 3.6,
    3.8, 3.7, 3.5, 3.4, 3.5, 3.8, 4.4, 5.0, 5.2, 4.6, 3.2, 1.6,
)  # fmt: skip


class TimestampStyle(IntEnum):
    """How one row's timestamps are written."""

    ZULU = 0  # 2026-03-01T10:15:00.123Z
    OFFSET = 1  # 2026-03-01T11:15:00.123+01:00
    NAIVE = 2  # 2026-03-01 10:15:00 (no zone: UTC, whole seconds)


@dataclass(frozen=True)
class TimestampMix:
    """Shares of each style in one source; the remainder is ZULU."""

    offset: float = 0.10
    naive: float = 0.10


DEFAULT_MIX = TimestampMix()


@dataclass(frozen=True)
class Window:
    """The simulated activity period: whole UTC days ending at `end_date` (inclusive)."""

    start_ms: int
    end_ms: int  # exclusive: midnight after end_date

    @classmethod
    def of(cls, end_date: dt.date, days: int) -> Window:
        end = dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(), dt.UTC)
        end_ms = int(end.timestamp()) * MS_PER_SECOND
        return cls(start_ms=end_ms - days * MS_PER_DAY, end_ms=end_ms)

    @property
    def days(self) -> int:
        return (self.end_ms - self.start_ms) // MS_PER_DAY

    def clip(self, instants: IntArray) -> IntArray:
        """Keep instants inside the window (the last millisecond is end_ms - 1)."""
        return np.asarray(np.clip(instants, self.start_ms, self.end_ms - 1), dtype=np.int64)


def uniform_between(rng: np.random.Generator, low: IntArray, high: IntArray) -> IntArray:
    """One instant per row, uniform in [low, high] (high is clamped to at least low)."""
    span = np.maximum(high - low, 0).astype(np.float64)
    drawn = low + np.floor(rng.random(len(low)) * (span + 1))
    return np.asarray(drawn, dtype=np.int64)


def daily_instants(
    rng: np.random.Generator, window: Window, utc_offset_minutes: IntArray
) -> IntArray:
    """Instants spread over the window's days, following a local hour-of-day rhythm.

    Draws a day, a local hour from `HOURLY_PROFILE` and a moment within the hour, then
    converts local time to UTC with each row's offset.
    """
    n = len(utc_offset_minutes)
    day = rng.integers(0, window.days, size=n, dtype=np.int64)
    hour = weighted_choice(rng, n, HOURLY_PROFILE)
    within = rng.integers(0, MS_PER_HOUR, size=n, dtype=np.int64)
    local = window.start_ms + day * MS_PER_DAY + hour * MS_PER_HOUR + within
    return window.clip(local - utc_offset_minutes.astype(np.int64) * MS_PER_MINUTE)


def utc_offsets(
    instants: IntArray, standard_minutes: IntArray, observes_dst: BoolArray
) -> IntArray:
    """Local UTC offset in minutes, with summer time from April to October.

    An approximation of real DST rules, which is enough: the rendered offset and the
    rendered local time always agree, so the instant is exact either way.
    """
    months = instants.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    summer = observes_dst & (months >= 4) & (months <= 10)
    return (standard_minutes + np.where(summer, 60, 0)).astype(np.int64)


def pick_styles(rng: np.random.Generator, n: int, mix: TimestampMix = DEFAULT_MIX) -> IntArray:
    """One TimestampStyle per row."""
    return weighted_choice(rng, n, [1.0 - mix.offset - mix.naive, mix.offset, mix.naive])


def effective_instants(instants: IntArray, styles: IntArray) -> IntArray:
    """The instant a rendering denotes: NAIVE renderings drop the milliseconds."""
    naive = styles == TimestampStyle.NAIVE
    return np.where(naive, instants - instants % MS_PER_SECOND, instants).astype(np.int64)


def format_instants(instants: IntArray, styles: IntArray, offset_minutes: IntArray) -> ObjectArray:
    """Render instants as ISO-8601 text in each row's style (all denote the same instant)."""
    out = np.empty(len(instants), dtype=object)
    zulu = styles == TimestampStyle.ZULU
    if zulu.any():
        out[zulu] = _render(instants[zulu], suffix=b"Z")
    offset = styles == TimestampStyle.OFFSET
    if offset.any():
        minutes = offset_minutes[offset].astype(np.int64)
        out[offset] = _render(instants[offset] + minutes * MS_PER_MINUTE, offsets=minutes)
    naive = styles == TimestampStyle.NAIVE
    if naive.any():
        out[naive] = _render(instants[naive], separator=" ", milliseconds=False)
    return out


def format_zulu(instants: IntArray) -> ObjectArray:
    """Server-side timestamps: always UTC with milliseconds and a `Z`."""
    return _render(instants, suffix=b"Z")


def date_text(days_since_epoch: IntArray) -> TextArray:
    """'YYYY-MM-DD' from day numbers."""
    return np.asarray(
        np.datetime_as_string(days_since_epoch.astype("datetime64[D]"), unit="D").astype(TEXT),
        dtype=TEXT,
    )


_DIGIT_PAIRS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], dtype=np.uint8)
_DIGIT_TRIPLES = np.array(
    [[48 + i // 100, 48 + i // 10 % 10, 48 + i % 10] for i in range(1000)], dtype=np.uint8
)


def _render(
    instants: IntArray,
    *,
    separator: str = "T",
    milliseconds: bool = True,
    suffix: bytes = b"",
    offsets: IntArray | None = None,
) -> ObjectArray:
    """ISO-8601 text assembled as bytes: a date-table lookup plus digit lookups.

    `np.datetime_as_string` costs about a microsecond per value; gathering prebuilt
    digits into a byte matrix is several times faster on millions of rows.
    """
    n = len(instants)
    if n == 0:
        return np.empty(0, dtype=object)
    day = instants // MS_PER_DAY
    within = instants - day * MS_PER_DAY
    base = 23 if milliseconds else 19
    width = base + len(suffix) + (0 if offsets is None else 6)
    out = np.empty((n, width), dtype=np.uint8)
    first = int(day.min())
    out[:, :10] = _date_table(first, int(day.max()))[day - first]
    out[:, 10] = ord(separator)
    out[:, 11:13] = _DIGIT_PAIRS[within // MS_PER_HOUR]
    out[:, 13] = ord(":")
    out[:, 14:16] = _DIGIT_PAIRS[within // MS_PER_MINUTE % 60]
    out[:, 16] = ord(":")
    out[:, 17:19] = _DIGIT_PAIRS[within // MS_PER_SECOND % 60]
    if milliseconds:
        out[:, 19] = ord(".")
        out[:, 20:23] = _DIGIT_TRIPLES[within % MS_PER_SECOND]
    if suffix:
        out[:, base : base + len(suffix)] = np.frombuffer(suffix, dtype=np.uint8)
    if offsets is not None:
        magnitude = np.abs(offsets)
        out[:, base] = np.where(offsets < 0, ord("-"), ord("+"))
        out[:, base + 1 : base + 3] = _DIGIT_PAIRS[magnitude // 60]
        out[:, base + 3] = ord(":")
        out[:, base + 4 : base + 6] = _DIGIT_PAIRS[magnitude % 60]
    return ascii_rows_to_objects(out)


def _date_table(first_day: int, last_day: int) -> npt.NDArray[np.uint8]:
    """'YYYY-MM-DD' bytes for every day in [first_day, last_day] (days since epoch)."""
    days = np.arange(first_day, last_day + 1, dtype=np.int64).astype("datetime64[D]")
    as_bytes = np.datetime_as_string(days, unit="D").astype("S10")
    return np.frombuffer(as_bytes.tobytes(), dtype=np.uint8).reshape(len(days), 10)
