"""Person names as sources hold them: mostly right, sometimes a nickname or a typo."""

from __future__ import annotations

import numpy as np

from onefold.generator.arrays import (
    TEXT,
    BoolArray,
    IntArray,
    ObjectArray,
    TextArray,
    choose_in_groups,
    concat,
    pick,
    to_object,
    where,
)
from onefold.generator.lookups import lookups
from onefold.generator.noise import FieldNoise


def render_first_names(
    noise: FieldNoise, column: str, first: IntArray, present: BoolArray | None = None
) -> ObjectArray:
    """First names; Robert becomes Bob for the configured share of nicknamable names."""
    lk = lookups()
    n = len(first)
    present = np.ones(n, dtype=bool) if present is None else present
    values = lk.first_name_objects[first]
    eligible = present & (lk.nicknames.counts[first] > 0)
    nickname = eligible & (noise.rng.random(n) < noise.rates.nickname)
    values[nickname] = nicknames(noise.rng, first[nickname])
    noise.logged(column, "nickname", nickname)
    return _with_typos(noise, column, values, present)


def render_last_names(
    noise: FieldNoise, column: str, last: IntArray, present: BoolArray | None = None
) -> ObjectArray:
    """Last names, with the configured share of typos."""
    n = len(last)
    present = np.ones(n, dtype=bool) if present is None else present
    return _with_typos(noise, column, lookups().last_name_objects[last], present)


def _with_typos(
    noise: FieldNoise, column: str, values: ObjectArray, present: BoolArray
) -> ObjectArray:
    typo = present & (noise.rng.random(len(values)) < noise.rates.name_typo)
    values[typo] = misspelt(noise.rng, values[typo])
    values[~present] = None
    noise.logged(column, "name_typo", typo)
    return values


def nicknames(rng: np.random.Generator, first: IntArray) -> ObjectArray:
    """One of each first name's nicknames (every name given must have one)."""
    lk = lookups()
    chosen = choose_in_groups(rng, first, lk.nicknames.offsets, lk.nicknames.counts)
    return to_object(pick(lk.nicknames.values, chosen))


def misspelt(rng: np.random.Generator, values: ObjectArray) -> ObjectArray:
    """Names as Python strings, each with a one-letter slip (misspell)."""
    return to_object(misspell(rng, np.asarray(values.astype(TEXT))))


def misspell(rng: np.random.Generator, names: TextArray) -> TextArray:
    """A one-letter slip that always changes the name: drop, double or swap a letter.

    The first letter is kept (people rarely get it wrong); a swap of two equal letters
    would change nothing, so it doubles the letter instead.
    """
    n = len(names)
    length = np.strings.str_len(names)
    position = 1 + np.floor(rng.random(n) * np.maximum(length - 1, 1)).astype(np.int64)
    position = np.minimum(position, np.maximum(length - 1, 0))
    head = np.strings.slice(names, 0, position)
    letter = np.strings.slice(names, position, position + 1)
    after = np.strings.slice(names, position + 1, None)
    following = np.strings.slice(names, position + 1, position + 2)
    rest = np.strings.slice(names, position + 2, None)
    dropped = concat(head, after)
    doubled = concat(head, letter, letter, after)
    swapped = concat(head, following, letter, rest)
    kind = rng.integers(0, 3, n)
    can_swap = (position + 1 < length) & (following != letter)
    out = where(kind == 0, dropped, doubled)
    out = where((kind == 2) & can_swap, swapped, out)
    return where(length < 2, doubled, out)
