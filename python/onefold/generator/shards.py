"""Fixed-size person shards: how a run of any size stays reproducible in bounded memory.

The population is cut into shards of `config.shard_persons` consecutive people. Each
shard draws from its own random streams, so a shard's rows depend only on the config
and on what earlier shards have taken (mailboxes, phone numbers), never on how many
shards a run generates and writes at once. Shard 0 uses the root stream of the seed
itself: a run of at most one shard gives the data of a run before sharding existed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from onefold.generator.config import GeneratorConfig

# Spawn-key namespace of shards 1, 2, ...: away from the step streams, which are the
# root's children (0,), (1,), ... and their children.
SHARD_SPAWN_KEY = 1 << 20


@dataclass(frozen=True)
class Shard:
    """People `first_person` .. `first_person + size - 1` (0-based) of `count` shards."""

    index: int
    count: int
    first_person: int
    size: int

    @property
    def label(self) -> str:
        """'persons 1-100 of 450' (1-based, as person_ids count)."""
        return f"persons {self.first_person + 1:,}-{self.first_person + self.size:,}"


def plan(config: GeneratorConfig) -> list[Shard]:
    """The shards of a run, in the order they are generated (and written)."""
    step = config.shard_persons
    count = -(-config.persons // step)
    return [
        Shard(index, count, index * step, min(step, config.persons - index * step))
        for index in range(count)
    ]


def shard_seed(config: GeneratorConfig, index: int) -> np.random.SeedSequence:
    """The root of a shard's random streams."""
    if index == 0:
        return np.random.SeedSequence(config.seed)
    return np.random.SeedSequence(config.seed, spawn_key=(SHARD_SPAWN_KEY, index))


@dataclass
class Taken:
    """What earlier shards have handed out and no later shard may repeat.

    Integer record keys need no state (each shard owns a residue class, see
    `arrays.sharded_unique_ints`); mailboxes and phone numbers are drawn from names and
    numbering plans, so they are remembered. About 100 bytes per person.
    """

    mailboxes: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
