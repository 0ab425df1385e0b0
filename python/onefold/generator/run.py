"""`generate_demo_data`: build every source from one simulated population and write it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from onefold.generator import truth
from onefold.generator.clock import Window
from onefold.generator.config import GeneratorConfig
from onefold.generator.noise import NoiseLog
from onefold.generator.persons import Population, build_population
from onefold.generator.sources.common import World
from onefold.generator.sources.consent import build_consent_events
from onefold.generator.sources.crm import build_crm_contacts
from onefold.generator.sources.email_events import build_email_events
from onefold.generator.sources.erasure import build_erasure_requests
from onefold.generator.sources.pos import build_pos_transactions
from onefold.generator.sources.shop import build_customers, build_orders
from onefold.generator.sources.web import build_web_events
from onefold.generator.sources.web_devices import build_devices
from onefold.generator.table import LandedTable, RawTable, land
from onefold.generator.writer import RAW_SCHEMA, TRUTH_SCHEMA, write_tables
from onefold.warehouse import Warehouse

# One independent random stream per step, so changing one source leaves the others'
# data unchanged. Append new steps at the end; never reorder.
STREAMS = (
    "population", "customers", "orders", "devices", "web", "crm", "pos", "email", "consent",
    "erasure", "landing",
)  # fmt: skip

RAW_TABLES = (
    "web_events", "shop_customers", "shop_orders", "crm_contacts", "pos_transactions",
    "email_events", "consent_events", "erasure_requests",
)  # fmt: skip


#: The order Simulation.raw_tables() yields them (sources depend on each other).
RAW_TABLES_IN_BUILD_ORDER = (
    "shop_customers", "shop_orders", "web_events", "email_events", "crm_contacts",
    "pos_transactions", "consent_events", "erasure_requests",
)  # fmt: skip


@dataclass(frozen=True)
class GenerationReport:
    """What was written: rows per raw table, per truth table and per noise kind."""

    config: GeneratorConfig
    row_counts: dict[str, int]
    truth_row_counts: dict[str, int] = field(default_factory=dict)
    noise_counts: dict[str, int] = field(default_factory=dict)


class Simulation:
    """One generation run: the population up front, then raw tables one at a time.

    Tables are produced lazily so a caller can write each one and let it go: peak
    memory is one table, not all eight.
    """

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        root = np.random.Generator(np.random.PCG64(config.seed))
        self._streams = dict(zip(STREAMS, root.spawn(len(STREAMS)), strict=True))
        landing = self._streams["landing"].spawn(len(RAW_TABLES))
        self._landing = dict(zip(RAW_TABLES, landing, strict=True))
        self.window = Window.of(config.end_date, config.days)
        self.log = NoiseLog()
        self.people: Population = build_population(self._streams["population"], config, self.window)
        truth.log_person_noise(self.log, self.people)
        self.world = World(config, self.window, self.people, self.log)

    def raw_tables(self) -> Iterator[LandedTable]:
        """Every raw table, landed, in the order sources depend on each other."""
        world, streams = self.world, self._streams
        customers_table, customers = build_customers(world, streams["customers"])
        yield self._land(customers_table)
        orders_table, orders = build_orders(world, streams["orders"], customers)
        yield self._land(orders_table)
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

    def truth_frames(
        self, owners: list[pd.DataFrame], row_counts: dict[str, int]
    ) -> dict[str, pd.DataFrame]:
        """The `raw_truth` tables, given the record owners collected per raw table."""
        return {
            "record_owners": pd.concat(owners, ignore_index=True),
            "persons": truth.persons(self.people),
            "noise_log": self.log.frame(),
            "generation_runs": truth.generation_run(self.config, row_counts),
        }

    def _land(self, table: RawTable) -> LandedTable:
        return land(table, self._landing[table.name], self.config.noise, self.log)


@dataclass(frozen=True)
class Generated:
    """Everything one run produces, held in memory (tests, notebooks, benchmarks)."""

    raw: dict[str, LandedTable]  # in RAW_TABLES order
    truth: dict[str, pd.DataFrame]
    people: Population


def generate(config: GeneratorConfig) -> Generated:
    """Build all raw and truth tables in memory without a warehouse."""
    simulation = Simulation(config)
    landed = {table.name: table for table in simulation.raw_tables()}
    raw = {name: landed[name] for name in RAW_TABLES}
    owners = [truth.record_owners(table, simulation.people) for table in raw.values()]
    counts = {name: len(table.frame) for name, table in raw.items()}
    return Generated(raw, simulation.truth_frames(owners, counts), simulation.people)


#: `progress(step, completed, total)`: called before each step of `generate_demo_data`
#: (population, one per raw table, truth) and once more when all are done.
GenerationProgress = Callable[[str, int, int], None]


def generate_demo_data(
    warehouse: Warehouse, config: GeneratorConfig, progress: GenerationProgress | None = None
) -> GenerationReport:
    """Write the demo warehouse: raw source tables into `raw`, ground truth into `raw_truth`.

    Existing tables of the same names are replaced. The same config always produces
    byte-identical tables. Each raw table is written as soon as it is built.
    `progress`, if given, hears which step runs next (see GenerationProgress).
    """
    total = len(RAW_TABLES) + 2
    report = progress or (lambda step, completed, total: None)
    report("population", 0, total)
    simulation = Simulation(config)
    owners: dict[str, pd.DataFrame] = {}
    counts: dict[str, int] = {}
    # Tables are built lazily: the step named is the one being built and written.
    report(f"{RAW_SCHEMA}.{RAW_TABLES_IN_BUILD_ORDER[0]}", 1, total)
    for done, table in enumerate(simulation.raw_tables(), start=2):
        write_tables(warehouse, RAW_SCHEMA, {table.name: table.frame})
        counts[table.name] = len(table.frame)
        owners[table.name] = truth.record_owners(table, simulation.people)
        del table
        following = RAW_TABLES_IN_BUILD_ORDER[done - 1 :]
        report(f"{RAW_SCHEMA}.{following[0]}" if following else TRUTH_SCHEMA, done, total)
    row_counts = {name: counts[name] for name in RAW_TABLES}
    truth_frames = simulation.truth_frames([owners[n] for n in RAW_TABLES], row_counts)
    write_tables(warehouse, TRUTH_SCHEMA, truth_frames)
    report(TRUTH_SCHEMA, total, total)
    kinds = truth_frames["noise_log"]["noise_kind"].value_counts().sort_index()
    return GenerationReport(
        config=config,
        row_counts=row_counts,
        truth_row_counts={name: len(frame) for name, frame in truth_frames.items()},
        noise_counts={str(kind): int(count) for kind, count in kinds.items()},
    )
