"""Phone numbers: valid national numbers per region, and the many ways people write them.

A person's number is stored as its national significant number (NSN, no trunk 0) and
rendered per row: E.164 (`+447712345678`), national with spaces (`07712 345678`),
dashes, dots, parentheses, a `00` international prefix or no country code at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from onefold.generator import reference as ref
from onefold.generator.arrays import (
    DIGITS,
    BoolArray,
    IntArray,
    ObjectArray,
    TextArray,
    choose_in_groups,
    concat,
    duplicated,
    in_set,
    pick,
    random_chars,
    text,
    to_object,
    weighted_choice,
)
from onefold.generator.lookups import lookups
from onefold.generator.noise import FieldNoise

if TYPE_CHECKING:
    from onefold.generator.persons import Population

Token = str | tuple[int, int]  # a literal, or a [start, stop) slice of the NSN

# Per country, index 0 is E.164; the rest are other common renderings. The `00`
# international prefix is European usage (the US dials 011), so only EU/UK numbers get it.
PHONE_FORMATS: dict[str, tuple[tuple[Token, ...], ...]] = {
    "US": (
        ("+1", (0, 10)),
        ("(", (0, 3), ") ", (3, 6), "-", (6, 10)),
        ((0, 3), "-", (3, 6), "-", (6, 10)),
        ((0, 3), ".", (3, 6), ".", (6, 10)),
        ((0, 10),),
        ("+1 ", (0, 3), "-", (3, 6), "-", (6, 10)),
        ("1-", (0, 3), "-", (3, 6), "-", (6, 10)),
        ("+1 (", (0, 3), ") ", (3, 6), "-", (6, 10)),
    ),
    "GB": (
        ("+44", (0, 10)),
        ("0", (0, 4), " ", (4, 10)),
        ("0", (0, 10)),
        ("+44 ", (0, 4), " ", (4, 10)),
        ("0044 ", (0, 4), " ", (4, 10)),
        ("+44 (0)", (0, 4), " ", (4, 10)),
        ("0", (0, 4), "-", (4, 7), "-", (7, 10)),
    ),
    "DE": (
        ("+49", (0, 11)),
        ("0", (0, 3), " ", (3, 11)),
        ("0", (0, 3), "-", (3, 11)),
        ("+49 ", (0, 3), " ", (3, 11)),
        ("0049 ", (0, 3), " ", (3, 11)),
        ("(0", (0, 3), ") ", (3, 11)),
        ("0", (0, 3), "/", (3, 11)),
    ),
    "FR": (
        ("+33", (0, 9)),
        ("0", (0, 1), " ", (1, 3), " ", (3, 5), " ", (5, 7), " ", (7, 9)),
        ("0", (0, 1), ".", (1, 3), ".", (3, 5), ".", (5, 7), ".", (7, 9)),
        ("+33 ", (0, 1), " ", (1, 3), " ", (3, 5), " ", (5, 7), " ", (7, 9)),
        ("0033 ", (0, 1), " ", (1, 3), " ", (3, 5), " ", (5, 7), " ", (7, 9)),
        ("0", (0, 9)),
    ),
    "NL": (
        ("+31", (0, 9)),
        ("0", (0, 1), " ", (1, 9)),
        ("0", (0, 1), "-", (1, 9)),
        ("+31 ", (0, 1), " ", (1, 9)),
        ("0031 ", (0, 1), " ", (1, 9)),
        ("0", (0, 9)),
        ("0", (0, 1), " ", (1, 3), " ", (3, 5), " ", (5, 7), " ", (7, 9)),
    ),
}
US = 0  # index of the US in reference.COUNTRIES


def national_numbers(
    rng: np.random.Generator, region: IntArray, taken: set[str] | None = None
) -> TextArray:
    """One valid, distinct national number per row, drawn from the region's plan.

    `taken` holds the numbers (E.164) of earlier shards, which none of these repeats;
    it receives these.
    """
    numbers = _draw_numbers(rng, region)
    taken = set() if taken is None else taken
    while True:
        full = e164(lookups().region_country[region], numbers)
        clash = duplicated(full) | in_set(full, taken)
        if not clash.any():
            taken.update(full.tolist())
            return numbers
        numbers[clash] = _draw_numbers(rng, region[clash])


def e164(country: IntArray, national: TextArray) -> TextArray:
    """'+' + country calling code + national number."""
    return concat("+", pick(lookups().calling_codes, country), national)


def render(country: IntArray, national: TextArray, style: IntArray) -> TextArray:
    """Write each number in its row's style (an index into PHONE_FORMATS[country])."""
    out = national.copy()
    for country_index, spec in enumerate(ref.COUNTRIES):
        in_country = country == country_index
        for style_index, template in enumerate(PHONE_FORMATS[spec.code]):
            rows = in_country & (style == style_index)
            if rows.any():
                out[rows] = _apply(template, national[rows])
    return out


def render_phone_field(
    noise: FieldNoise,
    column: str,
    people: Population,
    person: IntArray,
    instants: IntArray,
    e164_share: float,
    present: BoolArray | None = None,
    *,
    allow_junk: bool = True,
    allow_impossible: bool = True,
) -> ObjectArray:
    """One phone column: the number each person had then, in many formats, plus noise.

    `e164_share` is how often this source stores the number exactly as E.164; every
    other rendering is logged as `phone_format` so an evaluation knows what needed
    normalizing.
    """
    n = len(person)
    present = np.ones(n, dtype=bool) if present is None else present
    junk, impossible, genuine = noise.split(
        present,
        noise.rates.junk_value if allow_junk else 0.0,
        noise.rates.impossible_phone if allow_impossible else 0.0,
    )
    counts = np.array([len(PHONE_FORMATS[c.code]) for c in ref.COUNTRIES], dtype=np.int64)
    country = people.country[person]
    other = 1 + np.floor(noise.rng.random(n) * (counts[country] - 1)).astype(np.int64)
    style = np.where(noise.rng.random(n) < e164_share, 0, other)
    values = np.full(n, None, dtype=object)
    rows = np.flatnonzero(genuine)
    national = people.phone_at(person[rows], instants[rows])
    values[rows] = to_object(render(country[rows], national, style[rows]))
    values[impossible] = noise.choose(ref.IMPOSSIBLE_PHONES, impossible)
    values[junk] = noise.choose(ref.JUNK_PHONES, junk)
    noise.logged(column, "phone_format", genuine & (style != 0))
    noise.logged(column, "impossible_phone", impossible)
    noise.logged(column, "junk_value", junk)
    return values


def _apply(template: tuple[Token, ...], national: TextArray) -> TextArray:
    parts: list[TextArray | str] = []
    for token in template:
        if isinstance(token, str):
            parts.append(token)
        else:
            parts.append(np.strings.slice(national, token[0], token[1]))
    return concat(*parts)


def _draw_numbers(rng: np.random.Generator, region: IntArray) -> TextArray:
    lk = lookups()
    country = lk.region_country[region]
    prefixes = pick(
        lk.phone_prefixes.values,
        choose_in_groups(rng, region, lk.phone_prefixes.offsets, lk.phone_prefixes.counts),
    )
    needed = lk.national_number_length[country] - np.strings.str_len(prefixes)
    tail = np.strings.slice(random_chars(rng, len(region), 11, DIGITS), 0, needed)
    numbers = concat(prefixes, tail)
    us = country == US
    if us.any():
        numbers[us] = concat(
            prefixes[us],
            _us_exchanges(rng, int(us.sum())),
            random_chars(rng, int(us.sum()), 4, DIGITS),
        )
    return numbers


def _us_exchanges(rng: np.random.Generator, n: int) -> TextArray:
    """NXX exchange codes: N in 2-9, avoiding N11 service codes and 555."""
    forbidden = text(ref.US_EXCHANGE_FORBIDDEN)
    first = pick(text("23456789"), weighted_choice(rng, n, [1.0] * 8))
    codes = concat(first, random_chars(rng, n, 2, DIGITS))
    bad = np.isin(codes, forbidden)
    while bad.any():
        codes[bad] = concat(
            pick(text("23456789"), rng.integers(0, 8, int(bad.sum()))),
            random_chars(rng, int(bad.sum()), 2, DIGITS),
        )
        bad = np.isin(codes, forbidden)
    return codes
