"""`generate_demo_data`: build every source from one simulated population and write it.

A run is a sequence of fixed-size person shards (see `shards`). Each shard simulates
its people and all nine source tables for them; a run generates `chunk_shards` shards, writes
their rows (appending to the tables the first chunk created) and lets them go, so
memory is bounded by the chunk, not the run, and the bytes written do not depend on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from onefold.errors import ConfigError
from onefold.generator import truth
from onefold.generator.arrays import IntArray
from onefold.generator.clock import Window
from onefold.generator.config import GeneratorConfig
from onefold.generator.noise import NoiseLog
from onefold.generator.persons import Population, build_population, concat_populations
from onefold.generator.shards import Shard, Taken, plan, shard_seed
from onefold.generator.sources.common import World
from onefold.generator.sources.consent import build_consent_events
from onefold.generator.sources.crm import build_crm_contacts
from onefold.generator.sources.email_events import Campaigns, build_email_events, draw_campaigns
from onefold.generator.sources.erasure import build_erasure_requests
from onefold.generator.sources.pos import build_pos_transactions
from onefold.generator.sources.shop import PurchaseBehaviour, build_customers, build_orders
from onefold.generator.sources.web import build_web_events
from onefold.generator.sources.web_devices import build_devices
from onefold.generator.table import LandedTable, RawTable, land
from onefold.generator.writer import RAW_SCHEMA, TRUTH_SCHEMA, TableWriter, bounded_writes
from onefold.warehouse import Warehouse

# One independent random stream per step, so changing one source leaves the others'
# data unchanged. Append new steps at the end; never reorder.
STREAMS = (
    "population", "customers", "orders", "devices", "web", "crm", "pos", "email", "consent",
    "erasure", "landing", "order_lines",
)  # fmt: skip

RAW_TABLES = (
    "web_events", "shop_customers", "shop_orders", "crm_contacts", "pos_transactions",
    "email_events", "consent_events", "erasure_requests", "shop_order_lines",
)  # fmt: skip


#: The order Simulation.raw_tables() yields them (sources depend on each other).
RAW_TABLES_IN_BUILD_ORDER = (
    "shop_customers", "shop_orders", "shop_order_lines", "web_events", "email_events",
    "crm_contacts", "pos_transactions", "consent_events", "erasure_requests",
)  # fmt: skip


@dataclass(frozen=True)
class GenerationReport:
    """What was written: rows per raw table, per truth table and per noise kind."""

    config: GeneratorConfig
    row_counts: dict[str, int]
    truth_row_counts: dict[str, int] = field(default_factory=dict)
    noise_counts: dict[str, int] = field(default_factory=dict)


class Simulation:
    """One shard of a generation run: its people up front, then raw tables one at a time.

    Tables are produced lazily so a caller can write each one and let it go: peak
    memory is one shard's tables, not the run's. Without `shard` it is the run's first
    shard (all people when the run has one shard).
    """

    def __init__(
        self,
        config: GeneratorConfig,
        shard: Shard | None = None,
        taken: Taken | None = None,
        campaigns: Campaigns | None = None,
    ) -> None:
        self.config = config
        self.shard = shard or plan(config)[0]
        root = np.random.Generator(np.random.PCG64(shard_seed(config, self.shard.index)))
        self._streams = dict(zip(STREAMS, root.spawn(len(STREAMS)), strict=True))
        landing = self._streams["landing"].spawn(len(RAW_TABLES))
        self._landing = dict(zip(RAW_TABLES, landing, strict=True))
        self.window = Window.of(config.end_date, config.days)
        self.log = NoiseLog()
        self._behaviour: PurchaseBehaviour | None = None  # set when orders are built
        self.people: Population = build_population(
            self._streams["population"], config, self.window, self.shard, taken
        )
        truth.log_person_noise(self.log, self.people)
        self.world = World(config, self.window, self.people, self.log, self.shard, campaigns)

    def raw_tables(self) -> Iterator[LandedTable]:
        """Every raw table, landed, in the order sources depend on each other."""
        world, streams = self.world, self._streams
        customers_table, customers = build_customers(world, streams["customers"])
        yield self._land(customers_table)
        orders_table, lines_table, orders = build_orders(
            world, streams["orders"], streams["order_lines"], customers
        )
        self._behaviour = orders.behaviour
        yield self._land(orders_table)
        yield self._land(lines_table)
        del lines_table
        devices = build_devices(world, streams["devices"])
        web_table, web_facts = build_web_events(world, streams["web"], devices, orders)
        yield self._land(web_table)
        del devices, web_table
        email_table, unsubscribes = build_email_events(world, streams["email"])
        yield self._land(email_table)
        del email_table
        yield self._land(build_crm_contacts(world, streams["crm"]))
        yield self._land(build_pos_transactions(world, streams["pos"]))
        yield self._land(build_consent_events(world, streams["consent"], web_facts, unsubscribes))
        yield self._land(build_erasure_requests(world, streams["erasure"], customers))

    def record_owners(self, table: LandedTable) -> pd.DataFrame:
        return truth.record_owners(table, self.people)

    def truth_frames(self) -> dict[str, pd.DataFrame]:
        """This shard's rows of `persons`, `noise_log` and `purchase_behaviour` (call
        after `raw_tables`)."""
        if self._behaviour is None:
            raise RuntimeError("truth_frames() needs raw_tables() to have built the orders")
        return {
            "persons": truth.persons(self.people),
            "noise_log": self.log.frame(),
            "purchase_behaviour": truth.purchase_behaviour(self.people, self._behaviour),
        }

    def _land(self, table: RawTable) -> LandedTable:
        return land(table, self._landing[table.name], self.config.noise, self.log)


class Run:
    """The shards of one run, simulated strictly in order (later shards avoid the
    mailboxes and numbers earlier ones took), sharing the run's email campaigns."""

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self.shards = plan(config)
        self.taken = Taken()
        first = np.random.Generator(np.random.PCG64(shard_seed(config, 0)))
        email_stream = first.spawn(len(STREAMS))[STREAMS.index("email")]
        self.campaigns = draw_campaigns(email_stream, Window.of(config.end_date, config.days))
        self._next = 0

    def simulation(self, shard: Shard) -> Simulation:
        if shard.index != self._next:
            raise ValueError(f"shard {shard.index} simulated out of order")
        self._next += 1
        return Simulation(self.config, shard, self.taken, self.campaigns)


@dataclass(frozen=True)
class Generated:
    """Everything one run produces, held in memory (tests, notebooks, benchmarks)."""

    raw: dict[str, LandedTable]  # in RAW_TABLES order; owner indexes `people`
    truth: dict[str, pd.DataFrame]
    people: Population


def generate(config: GeneratorConfig) -> Generated:
    """Build all raw and truth tables in memory without a warehouse: the rows (and row
    order) `generate_demo_data` writes for the same config."""
    run = Run(config)
    frames: dict[str, list[pd.DataFrame]] = {name: [] for name in RAW_TABLES}
    owners: dict[str, list[IntArray]] = {name: [] for name in RAW_TABLES}
    keys: dict[str, str] = {}
    record_owners: list[pd.DataFrame] = []
    truth_parts: dict[str, list[pd.DataFrame]] = {}
    populations = []
    for shard in run.shards:
        simulation = run.simulation(shard)
        shard_owners: dict[str, pd.DataFrame] = {}
        for table in simulation.raw_tables():
            frames[table.name].append(table.frame)
            owners[table.name].append(table.owner + shard.first_person)
            keys[table.name] = table.key_column
            shard_owners[table.name] = simulation.record_owners(table)
        record_owners.extend(shard_owners[name] for name in RAW_TABLES)
        for name, frame in simulation.truth_frames().items():
            truth_parts.setdefault(name, []).append(frame)
        populations.append(simulation.people)
    raw = {
        name: LandedTable(
            name,
            keys[name],
            _concat(frames[name]),
            np.concatenate(owners[name]).astype(np.int64),
        )
        for name in RAW_TABLES
    }
    counts = {name: len(table.frame) for name, table in raw.items()}
    truth_frames = {
        "record_owners": _concat(record_owners),
        **{name: _concat(parts) for name, parts in truth_parts.items()},
        "generation_runs": truth.generation_run(config, counts),
    }
    return Generated(raw, truth_frames, concat_populations(populations))


#: `progress(step, completed, total)`: called before each step of `generate_demo_data`
#: (per shard: population, one per raw table, truth) and once more when all are done.
GenerationProgress = Callable[[str, int, int], None]

#: Shards generated and written at once by default: one shard holds about 0.3 GB.
DEFAULT_CHUNK_SHARDS = 1


def generate_demo_data(
    warehouse: Warehouse,
    config: GeneratorConfig,
    progress: GenerationProgress | None = None,
    chunk_shards: int = DEFAULT_CHUNK_SHARDS,
) -> GenerationReport:
    """Write the demo warehouse: raw source tables into `raw`, ground truth into `raw_truth`.

    Existing tables of the same names are replaced. The same config always produces
    byte-identical tables, whatever `chunk_shards` (how many shards are generated before
    their rows are written: memory grows with it, the number of writes shrinks).
    `progress`, if given, hears which step runs next (see GenerationProgress).
    """
    if chunk_shards < 1:
        raise ConfigError(f"chunk_shards must be at least 1, got {chunk_shards}.")
    report = progress or (lambda step, completed, total: None)
    with bounded_writes(warehouse):
        return _write_run(warehouse, config, report, chunk_shards)


def _write_run(
    warehouse: Warehouse, config: GeneratorConfig, report: GenerationProgress, chunk_shards: int
) -> GenerationReport:
    run = Run(config)
    steps = len(RAW_TABLES) + 2  # population, the raw tables, truth
    total = steps * len(run.shards)
    writer = TableWriter(warehouse)
    counts = dict.fromkeys(RAW_TABLES, 0)
    truth_counts: dict[str, int] = {}
    noise: dict[str, int] = {}
    for chunk_start in range(0, len(run.shards), chunk_shards):
        chunk = run.shards[chunk_start : chunk_start + chunk_shards]
        owners: list[pd.DataFrame] = []  # per shard, in RAW_TABLES order
        for shard in chunk:
            last = shard is chunk[-1]
            done = shard.index * steps

            def label(step: str, shard: Shard = shard) -> str:
                if len(run.shards) == 1:
                    return step
                return f"{step} · {shard.label} of {config.persons:,}"

            report(label("population"), done, total)
            simulation = run.simulation(shard)
            shard_owners: dict[str, pd.DataFrame] = {}
            # Tables are built lazily: the step named is the one being built and written.
            report(label(f"{RAW_SCHEMA}.{RAW_TABLES_IN_BUILD_ORDER[0]}"), done + 1, total)
            for step, table in enumerate(simulation.raw_tables(), start=2):
                writer.add(RAW_SCHEMA, table.name, table.frame, flush=last)
                counts[table.name] += len(table.frame)
                shard_owners[table.name] = simulation.record_owners(table)
                del table
                following = RAW_TABLES_IN_BUILD_ORDER[step - 1 :]
                upcoming = f"{RAW_SCHEMA}.{following[0]}" if following else TRUTH_SCHEMA
                report(label(upcoming), done + step, total)
            owners.extend(shard_owners[name] for name in RAW_TABLES)
            for name, frame in simulation.truth_frames().items():
                writer.add(TRUTH_SCHEMA, name, frame, flush=last)
                truth_counts[name] = truth_counts.get(name, 0) + len(frame)
                if name == "noise_log":
                    for kind, count in frame["noise_kind"].value_counts().items():
                        noise[str(kind)] = noise.get(str(kind), 0) + int(count)
            del simulation
        writer.add(TRUTH_SCHEMA, "record_owners", _concat(owners), flush=True)
    row_counts = {name: counts[name] for name in RAW_TABLES}
    runs = truth.generation_run(config, row_counts)
    writer.add(TRUTH_SCHEMA, "generation_runs", runs, flush=True)
    report(TRUTH_SCHEMA, total, total)
    truth_counts = {
        "record_owners": writer.rows[(TRUTH_SCHEMA, "record_owners")],
        **truth_counts,
        "generation_runs": len(runs),
    }
    return GenerationReport(
        config=config,
        row_counts=row_counts,
        truth_row_counts=truth_counts,
        noise_counts=dict(sorted(noise.items())),
    )


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    return pd.concat(frames, ignore_index=True)
