"""What every source builder shares: the simulated world and per-row clocks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from onefold.generator.arrays import (
    TEXT,
    BoolArray,
    IntArray,
    ObjectArray,
    TextArray,
    expand,
    null_where,
    run_ends,
    run_starts,
    sharded_unique_ints,
)
from onefold.generator.clock import (
    DEFAULT_MIX,
    MS_PER_DAY,
    MS_PER_SECOND,
    TimestampMix,
    Window,
    format_instants,
    format_zulu,
    pick_styles,
    uniform_between,
    utc_offsets,
)
from onefold.generator.config import GeneratorConfig
from onefold.generator.lookups import lookups
from onefold.generator.noise import FieldNoise, NoiseLog
from onefold.generator.persons import Population
from onefold.generator.shards import Shard


@dataclass(frozen=True)
class World:
    """The configuration, time window, people and noise ledger of one shard of a run.

    `shard` says which people these are; `campaigns` are the email campaigns of the
    whole run (None: the shard draws them itself, as shard 0 does).
    """

    config: GeneratorConfig
    window: Window
    people: Population
    log: NoiseLog
    shard: Shard
    campaigns: tuple[IntArray, TextArray, IntArray] | None = None

    def unique_ints(self, rng: np.random.Generator, n: int, low: int, high: int) -> IntArray:
        """`n` distinct integers in [low, high) that no other shard draws (record keys)."""
        return sharded_unique_ints(rng, n, low, high, self.shard.index, self.shard.count)

    def field_noise(self, rng: np.random.Generator, table: str, keys: ObjectArray) -> FieldNoise:
        """Identifier noise for one raw table whose rows have these record keys."""
        return FieldNoise(rng, self.config.noise, self.log, table, keys)


class RowClock:
    """One timestamp style and time zone per row, shared by all its timestamp columns.

    A source system writes all timestamps of a record the same way, so a row is either
    all-UTC, all-local-with-offset or all-naive.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        people: Population,
        person: IntArray,
        mix: TimestampMix = DEFAULT_MIX,
    ) -> None:
        self.styles = pick_styles(rng, len(person), mix)
        self.standard_offsets = people.utc_offset_minutes[person]

    def render(self, instants: IntArray, present: BoolArray | None = None) -> ObjectArray:
        """ISO-8601 text per row (NULL where not `present`)."""
        offsets = utc_offsets(instants, self.standard_offsets, np.ones(len(instants), dtype=bool))
        rendered = format_instants(instants, self.styles, offsets)
        return rendered if present is None else null_where(~present, rendered)


def render_zulu(instants: IntArray) -> ObjectArray:
    """Server timestamps, always `...Z` with milliseconds."""
    return format_zulu(instants)


def as_text(values: ObjectArray, fill: str = "") -> TextArray:
    """str-or-None column back to text (NULL becomes `fill`) for further assembly."""
    return np.asarray(np.where(pd.isna(values), fill, values).astype(TEXT), dtype=TEXT)


def flags_text(values: BoolArray) -> ObjectArray:
    """'true'/'false' as a loader writes booleans into text columns."""
    return np.where(values, "true", "false").astype(object)


def currency_of(people: Population, person: IntArray) -> TextArray:
    """The currency people pay in where they live."""
    return np.asarray(lookups().currencies[people.country[person]], dtype=TEXT)


@dataclass(frozen=True)
class Versions:
    """Rows of a re-exported entity table: one per version, sorted by entity then time."""

    created_ms: IntArray  # per entity
    entity: IntArray  # per row
    updated_ms: IntArray  # per row
    is_first: BoolArray  # per row
    is_last: BoolArray  # per row


def versioned_rows(
    rng: np.random.Generator,
    window: Window,
    entities: int,
    created_before_share: float,
    max_age_days: int,
    extra_versions_mean: float,
    max_versions: int,
) -> Versions:
    """Creation instants and the `updated_at` of every exported version.

    Entities created before the window first appear with the connector's initial sync
    early in the window; later versions (changes) fall anywhere after that, all before
    the window ends.
    """
    before = rng.random(entities) < created_before_share
    created = np.where(
        before,
        window.start_ms - rng.integers(MS_PER_DAY, max_age_days * MS_PER_DAY, entities),
        uniform_between(
            rng, np.full(entities, window.start_ms), np.full(entities, window.end_ms - 1)
        ),
    )
    first_update = np.where(
        before,
        window.start_ms + rng.integers(0, 30 * MS_PER_DAY, entities),
        created + rng.integers(0, 10 * MS_PER_SECOND, entities),
    )
    first_update = np.minimum(first_update, window.end_ms - 1)
    versions = 1 + np.minimum(rng.poisson(extra_versions_mean, entities), max_versions - 1)
    entity, version = expand(versions)
    later = uniform_between(rng, first_update[entity], np.full(len(entity), window.end_ms - 1))
    updated = np.where(version == 0, first_update[entity], later)
    order = np.lexsort((updated, entity))
    entity, updated = entity[order], updated[order]
    return Versions(
        created_ms=np.asarray(created, dtype=np.int64),
        entity=entity,
        updated_ms=np.asarray(updated, dtype=np.int64),
        is_first=run_starts(entity),
        is_last=run_ends(entity),
    )
