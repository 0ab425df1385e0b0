"""Reference data as arrays: flat tables plus (offset, count) per group, built once.

Row-level code then draws "a city of this region" or "a nickname of this name" for a
whole column at once with `choose_in_groups`, instead of looking things up per record.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np

from onefold.generator import reference as ref
from onefold.generator.arrays import (
    FloatArray,
    IntArray,
    ObjectArray,
    TextArray,
    group_offsets,
    objects,
    text,
)

NAME_GROUPS = ("en", "de", "fr", "nl")
GENDERS = ("f", "m")


def ascii_name(name: str) -> str:
    """Lowercase ASCII form of a name for email local parts ('Müller' -> 'mueller')."""
    lowered = name.lower()
    for source, target in ref.TRANSLITERATIONS.items():
        lowered = lowered.replace(source, target)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch == "-"))


@dataclass(frozen=True)
class Grouped:
    """A flat text table with the slice of each group."""

    values: TextArray
    offsets: IntArray
    counts: IntArray


def _grouped(groups: list[tuple[str, ...]]) -> Grouped:
    offsets, counts = group_offsets([len(group) for group in groups])
    return Grouped(text([v for group in groups for v in group]), offsets, counts)


@dataclass(frozen=True)
class Lookups:
    # names: first names grouped by (name group, gender) -> index group * 2 + gender
    first_names: Grouped
    first_ascii: TextArray
    first_name_objects: ObjectArray  # same as first_names.values, for fast row gathers
    nicknames: Grouped  # one group per first-name row
    last_names: Grouped  # grouped by name group
    last_ascii: TextArray
    last_name_objects: ObjectArray
    # places
    country_codes: TextArray
    calling_codes: TextArray
    currencies: TextArray
    country_name_group: IntArray
    national_number_length: IntArray
    postcode_tail: tuple[str, ...]
    region_country: IntArray
    region_province: TextArray  # '' where the country has no provinces here
    region_jurisdiction: TextArray
    region_weight: FloatArray
    region_offset_minutes: IntArray
    city_names: TextArray
    city_weight: FloatArray
    cities: Grouped  # city names grouped by region (values unused: use offsets/counts)
    postcode_stems: Grouped  # grouped by global city index
    phone_prefixes: Grouped  # grouped by region
    streets: Grouped  # grouped by country
    number_after_street: np.ndarray  # bool per country


@cache
def lookups() -> Lookups:
    """Build the arrays once per process (they never change)."""
    first_groups = [ref.FIRST_NAMES[g][s] for g in NAME_GROUPS for s in range(len(GENDERS))]
    first_names = _grouped(first_groups)
    first_list = [name for group in first_groups for name in group]
    nicknames = _grouped([ref.NICKNAMES.get(name, ()) for name in first_list])
    last_groups = [ref.LAST_NAMES[g] for g in NAME_GROUPS]
    last_names = _grouped(last_groups)
    last_list = [name for group in last_groups for name in group]

    country_index = {c.code: i for i, c in enumerate(ref.COUNTRIES)}
    cities = [city for region in ref.REGIONS for city in region.cities]
    city_offsets, city_counts = group_offsets([len(r.cities) for r in ref.REGIONS])
    return Lookups(
        first_names=first_names,
        first_ascii=text([ascii_name(n) for n in first_list]),
        first_name_objects=objects(first_list),
        nicknames=nicknames,
        last_names=last_names,
        last_ascii=text([ascii_name(n) for n in last_list]),
        last_name_objects=objects(last_list),
        country_codes=text([c.code for c in ref.COUNTRIES]),
        calling_codes=text([c.calling_code for c in ref.COUNTRIES]),
        currencies=text([c.currency for c in ref.COUNTRIES]),
        country_name_group=np.array(
            [NAME_GROUPS.index(c.name_group) for c in ref.COUNTRIES], dtype=np.int64
        ),
        national_number_length=np.array(
            [c.national_number_length for c in ref.COUNTRIES], dtype=np.int64
        ),
        postcode_tail=tuple(c.postcode_tail for c in ref.COUNTRIES),
        region_country=np.array([country_index[r.country] for r in ref.REGIONS], dtype=np.int64),
        region_province=text([r.province_code or "" for r in ref.REGIONS]),
        region_jurisdiction=text([r.jurisdiction for r in ref.REGIONS]),
        region_weight=np.array([r.weight for r in ref.REGIONS], dtype=np.float64),
        region_offset_minutes=np.array([r.utc_offset_minutes for r in ref.REGIONS], dtype=np.int64),
        city_names=text([c.name for c in cities]),
        city_weight=np.array([c.weight for c in cities], dtype=np.float64),
        cities=Grouped(text([c.name for c in cities]), city_offsets, city_counts),
        postcode_stems=_grouped([c.postcode_stems for c in cities]),
        phone_prefixes=_grouped([r.phone_prefixes for r in ref.REGIONS]),
        streets=_grouped([ref.STREETS[c.code] for c in ref.COUNTRIES]),
        number_after_street=np.array(
            [ref.NUMBER_AFTER_STREET[c.code] for c in ref.COUNTRIES], dtype=bool
        ),
    )
