"""Vectorized building blocks: typed array aliases, string assembly and random ids.

Everything works on whole columns (numpy `StringDType` for text) so generating a
million rows costs a handful of C loops rather than a million Python calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.dtypes import StringDType

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
TextArray = npt.NDArray[Any]  # dtype StringDType(): variable-width UTF-8 text
ObjectArray = npt.NDArray[np.object_]  # str or None: the form pandas and drivers take

TEXT = StringDType()

DIGITS = b"0123456789"
HEX = b"0123456789abcdef"
ALNUM = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
LOWER_ALNUM = b"0123456789abcdefghijklmnopqrstuvwxyz"


def text(values: Sequence[str]) -> TextArray:
    """A text array from Python strings (reference data, literals)."""
    return np.array(list(values), dtype=TEXT)


def filled(n: int, value: str) -> TextArray:
    """`n` copies of one string."""
    return np.full(n, value, dtype=TEXT)


def concat(*parts: TextArray | str) -> TextArray:
    """Element-wise string concatenation of arrays and scalars (broadcasting)."""
    result: TextArray | None = None
    for part in parts:
        piece = part if isinstance(part, np.ndarray) else np.asarray(part, dtype=TEXT)
        result = piece if result is None else np.strings.add(result, piece)
    if result is None:
        raise ValueError("concat needs at least one part")
    return np.asarray(result, dtype=TEXT)


def int_text(values: npt.NDArray[Any]) -> TextArray:
    """Decimal rendering of integers."""
    return np.asarray(values.astype(np.int64).astype(TEXT), dtype=TEXT)


def zero_padded(values: npt.NDArray[Any], width: int) -> TextArray:
    """Integers rendered with leading zeros to `width` digits."""
    return np.asarray(np.strings.zfill(int_text(values), width), dtype=TEXT)


def cents_text(cents: npt.NDArray[Any]) -> TextArray:
    """Money as a decimal string with two places ('123.45'), from integer cents."""
    cents = cents.astype(np.int64)
    return concat(int_text(cents // 100), ".", zero_padded(cents % 100, 2))


def pick(values: TextArray, index: npt.NDArray[Any]) -> TextArray:
    """Look up reference values by index (a vectorized `values[i]` for every row)."""
    return np.asarray(values[index], dtype=TEXT)


def where(mask: BoolArray, yes: TextArray | str, no: TextArray | str) -> TextArray:
    """Element-wise choice between two text arrays or scalars."""
    yes_array = yes if isinstance(yes, np.ndarray) else np.asarray(yes, dtype=TEXT)
    no_array = no if isinstance(no, np.ndarray) else np.asarray(no, dtype=TEXT)
    return np.asarray(np.where(mask, yes_array, no_array), dtype=TEXT)


def random_chars(rng: np.random.Generator, n: int, width: int, alphabet: bytes) -> TextArray:
    """`n` random strings of `width` characters drawn from an ASCII alphabet.

    Draws indices as one (n, width) block, maps them through the alphabet and reads each
    row of bytes as one fixed-width string: no per-row Python work.
    """
    table = np.frombuffer(alphabet, dtype=np.uint8)
    codes = rng.integers(0, len(alphabet), size=(n, width), dtype=np.uint8)
    return bytes_rows_to_text(table[codes])


def bytes_rows_to_text(rows: npt.NDArray[np.uint8]) -> TextArray:
    """Read each row of an (n, width) ASCII byte matrix as one string."""
    n, width = rows.shape
    if n == 0:
        return np.empty(0, dtype=TEXT)
    fixed = np.ascontiguousarray(rows).view(f"S{width}").reshape(n)
    return np.asarray(fixed.astype(TEXT), dtype=TEXT)


def uuid4_text(rng: np.random.Generator, n: int) -> TextArray:
    """Random RFC 4122 version-4 UUIDs in canonical 8-4-4-4-12 form (as text)."""
    return np.asarray(uuid4_objects(rng, n).astype(TEXT), dtype=TEXT)


def uuid4_objects(rng: np.random.Generator, n: int) -> ObjectArray:
    """Random RFC 4122 version-4 UUIDs in canonical 8-4-4-4-12 form."""
    table = np.frombuffer(HEX, dtype=np.uint8)
    nibbles = rng.integers(0, 16, size=(n, 32), dtype=np.uint8)
    nibbles[:, 12] = 4  # version
    nibbles[:, 16] = 8 + (nibbles[:, 16] & 3)  # variant 10xx
    hexed = table[nibbles]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for start, stop, dest in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        out[:, dest : dest + stop - start] = hexed[:, start:stop]
    return ascii_rows_to_objects(out)


def ascii_rows_to_objects(rows: npt.NDArray[np.uint8]) -> ObjectArray:
    """Read each row of an (n, width) ASCII byte matrix as one Python string."""
    n, width = rows.shape
    if n == 0:
        return np.empty(0, dtype=object)
    fixed = np.ascontiguousarray(rows).view(f"S{width}").reshape(n)
    # bytes -> StringDType -> str is about three times faster than going through "U".
    return np.asarray(fixed.astype(TEXT).astype(object), dtype=object)


def unique_random_ints(rng: np.random.Generator, n: int, low: int, high: int) -> IntArray:
    """`n` distinct integers in [low, high), in random order.

    Redraws only the colliding values, in rounds, so the result is deterministic and
    cheap when the range is much larger than `n` (ids, card numbers, phone numbers).
    """
    if high - low < n:
        raise ValueError(f"cannot draw {n} distinct values from [{low}, {high})")
    values = rng.integers(low, high, size=n, dtype=np.int64)
    while True:
        clash = duplicated(values)
        if not clash.any():
            return values
        values[clash] = rng.integers(low, high, size=int(clash.sum()), dtype=np.int64)


def sharded_unique_ints(
    rng: np.random.Generator, n: int, low: int, high: int, shard: int, shards: int
) -> IntArray:
    """`n` distinct integers in [low, high) that no other shard of the run can draw.

    Shard `shard` of `shards` owns the values `low + k * shards + shard`: ids stay
    unique across shards without any shared state, and look just as random. With one
    shard this is exactly `unique_random_ints(rng, n, low, high)`.
    """
    local = unique_random_ints(rng, n, 0, (high - low) // shards)
    return np.asarray(low + local * shards + shard, dtype=np.int64)


def in_set(values: npt.NDArray[Any], taken: set[str]) -> BoolArray:
    """True where a value (as text) is already in `taken`."""
    if not taken:
        return np.zeros(len(values), dtype=bool)
    return np.fromiter((str(v) in taken for v in values), dtype=bool, count=len(values))


def duplicated(values: npt.NDArray[Any]) -> BoolArray:
    """True for every occurrence of a value after its first one (stable, like pandas)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    repeat = np.zeros(len(values), dtype=bool)
    if len(values) > 1:
        repeat[1:] = ordered[1:] == ordered[:-1]
    result = np.zeros(len(values), dtype=bool)
    result[order] = repeat
    return result


def weighted_choice(
    rng: np.random.Generator, n: int, weights: Sequence[float] | npt.NDArray[Any]
) -> IntArray:
    """`n` indices drawn with the given (unnormalized) weights."""
    probabilities = np.asarray(weights, dtype=np.float64)
    cumulative = np.cumsum(probabilities / probabilities.sum())
    cumulative[-1] = 1.0
    return np.searchsorted(cumulative, rng.random(n), side="right").astype(np.int64)


def choose_in_groups(
    rng: np.random.Generator, group: IntArray, offsets: IntArray, counts: IntArray
) -> IntArray:
    """For each row, a uniform index into the flat slice `offsets[g]:offsets[g]+counts[g]`."""
    draw = np.floor(rng.random(len(group)) * counts[group]).astype(np.int64)
    return np.asarray(offsets[group] + draw, dtype=np.int64)


def expand(counts: npt.NDArray[Any]) -> tuple[IntArray, IntArray]:
    """Rows for `counts[i]` children of each parent: (parent index, position in parent)."""
    counts = counts.astype(np.int64)
    parent = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    position = np.arange(len(parent), dtype=np.int64) - np.repeat(starts, counts)
    return parent, position


def run_starts(values: npt.NDArray[Any]) -> BoolArray:
    """True where a run of equal values begins (input sorted or grouped); empty-safe."""
    starts = np.ones(len(values), dtype=bool)
    starts[1:] = values[1:] != values[:-1]
    return starts


def run_ends(values: npt.NDArray[Any]) -> BoolArray:
    """True where a run of equal values ends (input sorted or grouped); empty-safe."""
    ends = np.ones(len(values), dtype=bool)
    ends[:-1] = values[1:] != values[:-1]
    return ends


def group_offsets(sizes: Sequence[int]) -> tuple[IntArray, IntArray]:
    """Offsets and counts of consecutive groups in a flat reference table."""
    counts = np.asarray(sizes, dtype=np.int64)
    return np.cumsum(counts) - counts, counts


def to_object(values: TextArray, null: BoolArray | None = None) -> ObjectArray:
    """Text as Python strings with None where `null` (what DataFrames and drivers take)."""
    result = values.astype(object)
    if null is not None:
        result[null] = None
    return np.asarray(result, dtype=object)


def objects(values: Sequence[str]) -> ObjectArray:
    """An object array of Python strings (for fast row-level gathers)."""
    result = np.empty(len(values), dtype=object)
    result[:] = list(values)
    return result


def join(*parts: ObjectArray | str) -> ObjectArray:
    """Element-wise concatenation of str columns (object arrays) and str scalars.

    Row-level text is assembled as Python strings: gathering them is a pointer copy and
    `+` on object arrays runs in one C loop, which beats converting to and from
    fixed or variable-width numpy strings for every column.
    """
    result: ObjectArray | str | None = None
    for part in parts:
        result = part if result is None else np.add(result, part)
    if not isinstance(result, np.ndarray):
        raise ValueError("join needs at least one array part")
    return np.asarray(result, dtype=object)


def null_where(mask: BoolArray, values: ObjectArray) -> ObjectArray:
    """A copy of a str column with NULL (None) where `mask` is true."""
    result = np.array(values, dtype=object)
    result[mask] = None
    return result


def nulls(n: int) -> ObjectArray:
    """An all-NULL text column."""
    return np.full(n, None, dtype=object)
