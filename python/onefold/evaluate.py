"""Identity quality against a ground truth: the generator's, or any you hold.

The truth is a relation with one row per record: its source (as Onefold names it in
`customer_records.source`), its record key and the person who owns it. By default the
demo generator's `<truth schema>.record_owners` (source_table, record_key, person_id);
`Truth` names any other relation and its three columns (`onefold evaluate --truth`).

Evaluated: every truth record that staging accepted from the sources that feed the
identity graph (`int_identity_source_records`); rows staging quarantined are not the
resolver's to assign and are reported by `onefold summary` instead. Truth records no
identity source holds are counted (`records_not_found`), not scored. Pairwise metrics
over records: two records form a predicted pair when they share a customer_id, and a
true pair when the same person owns both. Records the resolver did not assign (all
identifiers rejected or blocked) count as singletons. Per source: the pairs with at
least one record of that source.

By noise kind (the demo generator's `<truth schema>.noise_log`, or any relation of
(source_table, record_key, noise_kind) named with `noise_log`): the pairs with at
least one record that carries that kind of noise, so the records only a fuzzy match
can link (`fuzzy_signup`, `fuzzy_new_email`) are scored on their own.

Before probabilistic matching: the same scores with every customer that holds an
active probabilistic link split into the parts its exact links alone hold together
(`identity_edges`), which is what the build gives with matching off (but for the
per-type limits, which can cut differently without the links).
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import Any

from onefold.erasure.config import relation_parts
from onefold.erasure.store import fill_temp_table
from onefold.errors import ConfigError
from onefold.project import DbtProject, locate
from onefold.warehouse import Warehouse, column_names, quote_ident


@dataclass(frozen=True)
class Truth:
    """Who owns each record: `relation` (`schema.table`) and its columns."""

    relation: str
    source: str = "source"
    record_key: str = "record_key"
    person_id: str = "person_id"


@dataclass(frozen=True)
class PairScores:
    """Pairwise scores over some records (every record, or one source's pairs)."""

    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass(frozen=True)
class Evaluation:
    records_evaluated: int
    records_unassigned: int
    customers: int
    persons: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    over_merged_customers: int
    over_merged_persons: int
    under_merged_persons: int
    cluster_sizes: dict[str, int]
    #: the truth relation read, and its records no identity source holds
    truth: str = ""
    records_not_found: int = 0
    by_source: dict[str, PairScores] = field(default_factory=dict)
    #: the noise log read ("" without one), and the scores per noise kind in it
    noise_log: str = ""
    by_noise_kind: dict[str, PairScores] = field(default_factory=dict)
    #: the scores with the probabilistic links taken out (None: the build made none)
    before_probabilistic: PairScores | None = None
    before_probabilistic_by_noise_kind: dict[str, PairScores] = field(default_factory=dict)

    @property
    def overall(self) -> PairScores:
        return PairScores(
            self.records_evaluated, self.true_pairs, self.predicted_pairs, self.correct_pairs
        )

    @property
    def precision(self) -> float:
        return self.overall.precision

    @property
    def recall(self) -> float:
        return self.overall.recall

    @property
    def f1(self) -> float:
        return self.overall.f1

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(precision=self.precision, recall=self.recall, f1=self.f1)
        for name in ("by_source", "by_noise_kind", "before_probabilistic_by_noise_kind"):
            data[name] = {key: scores.as_dict() for key, scores in getattr(self, name).items()}
        if self.before_probabilistic is not None:
            data["before_probabilistic"] = self.before_probabilistic.as_dict()
        return data


#: the session table of truth records staging accepted, with their customer
LABELLED = "onefold_evaluate_labelled"
#: the labelled records' noise kinds, one row per record and kind
NOISE = "onefold_evaluate_noise"
#: the exact-only part of each customer holding a probabilistic link, per record
EXACT_PARTS = "onefold_evaluate_exact_parts"
SIZE_BUCKETS = ((1, 1), (2, 5), (6, 20), (21, 100), (101, 1000), (1001, None))


def _bucket_label(low: int, high: int | None) -> str:
    return f"{low}" if low == high else (f"{low}+" if high is None else f"{low}-{high}")


def cluster_sizes(warehouse: Warehouse, records: str) -> dict[str, int]:
    """Customers by how many records they hold, in SIZE_BUCKETS (empty buckets left
    out): `records` is a relation with one row per record and its customer_id."""
    sizes = warehouse.query(f"""
        with by_customer as (select customer_id, count(*) as n from {records} group by 1)
        select {_bucket_sql("n")} as bucket, count(*) from by_customer group by 1
    """)
    size_map = {str(bucket): int(count) for bucket, count in sizes}
    labels = (_bucket_label(low, high) for low, high in SIZE_BUCKETS)
    return {label: size_map[label] for label in labels if label in size_map}


def _bucket_sql(column: str) -> str:
    branches = []
    for low, high in SIZE_BUCKETS:
        label = _bucket_label(low, high)
        condition = f"{column} >= {low}" + (f" and {column} <= {high}" if high else "")
        branches.append(f"when {condition} then '{label}'")
    return "case " + " ".join(branches) + " end"


def demo_truth(project: DbtProject) -> Truth:
    """The demo generator's ground truth (`onefold generate`)."""
    return Truth(f"{project.truth_schema}.record_owners", source="source_table")


def demo_noise_log(project: DbtProject) -> str:
    """The demo generator's noise log (`onefold generate`)."""
    return f"{project.truth_schema}.noise_log"


def _truth_relation(warehouse: Warehouse, truth: Truth) -> str:
    """The truth relation as SQL, after checking it exists with the three columns and
    one person per record."""
    parts = relation_parts(truth.relation)
    if parts is None:
        raise ConfigError(f"truth relation {truth.relation!r}: write it as schema.table")
    schema, table = parts[-2], parts[-1]
    if not warehouse.table_exists(schema, table):
        raise ConfigError(
            f"truth relation {truth.relation} not found (the demo's comes from `onefold "
            "generate`; name your own with --truth schema.table)."
        )
    columns = {name.lower() for name in column_names(warehouse, schema, table)}
    wanted = {"source": truth.source, "record key": truth.record_key, "person": truth.person_id}
    missing = [
        f"{role} column {name!r}" for role, name in wanted.items() if name.lower() not in columns
    ]
    if missing:
        raise ConfigError(
            f"truth relation {truth.relation} has no {', no '.join(missing)} "
            f"(its columns: {', '.join(sorted(columns))}); name them with --truth-source, "
            "--truth-record-key and --truth-person."
        )
    name = f"{quote_ident(schema)}.{quote_ident(table)}"
    source, key = quote_ident(truth.source), quote_ident(truth.record_key)
    (owners,) = warehouse.query(
        f"select count(*) from (select {source}, {key} from {name} "
        f"group by {source}, {key} having count(distinct {quote_ident(truth.person_id)}) > 1) as x"
    )[0]
    if owners:
        raise ConfigError(
            f"truth relation {truth.relation}: {owners} record(s) have more than one "
            f"{truth.person_id}; the truth needs one person per ({truth.source}, "
            f"{truth.record_key})."
        )
    return (
        f"(select distinct cast({source} as varchar) as source_table, "
        f"cast({key} as varchar) as record_key, "
        f"cast({quote_ident(truth.person_id)} as varchar) as person_id from {name})"
    )


def evaluate(
    warehouse: Warehouse,
    project: DbtProject | None = None,
    truth: Truth | None = None,
    noise_log: str | None = None,
) -> Evaluation:
    """Score the identity marts against `truth` (default: the demo generator's ground
    truth), by source and by the noise kinds of `noise_log` (default: the demo
    generator's, when it exists). `project` locates the marts (default: the dbt project
    of the working directory, see onefold.project)."""
    project = project or locate()
    truth = truth or demo_truth(project)
    record_relation = project.relation("customer_records")
    staged_relation = project.relation("int_identity_source_records")
    records, staged = str(record_relation), str(staged_relation)
    for schema, table in (
        (record_relation.schema, record_relation.identifier),
        (staged_relation.schema, staged_relation.identifier),
    ):
        if not warehouse.table_exists(schema, table):
            raise ConfigError(
                f"{schema}.{table} not found: evaluate needs a completed `dbt build`."
            )
    truth_rows = _truth_relation(warehouse, truth)
    noise_rows = _noise_relation(warehouse, noise_log, demo_noise_log(project))
    # Every query below reads the labelled records: joined once, into a session table.
    warehouse.execute(f"drop table if exists {LABELLED}")
    warehouse.execute(f"""
        create temp table {LABELLED} as
        select
            truth.source_table as source,
            truth.record_key,
            truth.person_id,
            coalesce(records.customer_id,
                     'unassigned|' || truth.source_table || '|' || truth.record_key)
                as customer_id,
            records.customer_id is null as is_unassigned
        from {truth_rows} as truth
        -- Only records staging accepted from the identity sources.
        inner join {staged} as staged
            on truth.source_table = staged.source
            and truth.record_key = staged.record_key
        left join {records} as records
            on truth.source_table = records.source
            and truth.record_key = records.record_key
    """)
    try:
        if noise_rows:
            warehouse.execute(f"drop table if exists {NOISE}")
            warehouse.execute(f"""
                create temp table {NOISE} as
                select distinct labelled.source, labelled.record_key, noise.noise_kind as label
                from {LABELLED} as labelled
                inner join {noise_rows} as noise
                    on labelled.source = noise.source_table
                    and labelled.record_key = noise.record_key
            """)
        result = _scores(warehouse, truth, truth_rows, LABELLED, bool(noise_rows))
        before, before_by_kind = _before_probabilistic(warehouse, project, bool(noise_rows))
        return dataclasses.replace(
            result,
            noise_log=(noise_log or demo_noise_log(project)) if noise_rows else "",
            before_probabilistic=before,
            before_probabilistic_by_noise_kind=before_by_kind,
        )
    finally:
        for table in (LABELLED, NOISE, EXACT_PARTS, f"{LABELLED}_before"):
            warehouse.execute(f"drop table if exists {table}")


def _noise_relation(warehouse: Warehouse, named: str | None, default: str) -> str | None:
    """The noise log as SQL (source_table, record_key, noise_kind); None when the default
    one does not exist. A named one must exist with those columns."""
    relation = named or default
    parts = relation_parts(relation)
    if parts is None:
        raise ConfigError(f"noise log {relation!r}: write it as schema.table")
    schema, table = parts[-2], parts[-1]
    if not warehouse.table_exists(schema, table):
        if named:
            raise ConfigError(f"noise log {relation} not found.")
        return None
    columns = {name.lower() for name in column_names(warehouse, schema, table)}
    missing = sorted({"source_table", "record_key", "noise_kind"} - columns)
    if missing:
        raise ConfigError(
            f"noise log {relation} has no column {', '.join(missing)} "
            "(it needs source_table, record_key and noise_kind)."
        )
    return (
        "(select cast(source_table as varchar) as source_table, cast(record_key as varchar) "
        f"as record_key, cast(noise_kind as varchar) as noise_kind from "
        f"{quote_ident(schema)}.{quote_ident(table)})"
    )


def _before_probabilistic(
    warehouse: Warehouse, project: DbtProject, with_noise: bool
) -> tuple[PairScores | None, dict[str, PairScores]]:
    """The scores with each customer that holds an active probabilistic link split into
    the parts its other active links hold together; (None, {}) without such links."""
    edges_relation = project.relation("identity_edges")
    edges = str(edges_relation)
    columns = {
        name.lower()
        for name in column_names(warehouse, edges_relation.schema, edges_relation.identifier)
    }
    if "linked_record_key" not in columns:
        return None, {}
    rows = warehouse.query(f"""
        select customer_id, source, record_key, rule, identifier_type, match_key
        from {edges}
        where is_active and customer_id in (
            select customer_id from {edges} where is_active and rule = 'probabilistic'
        )
    """)
    if not rows:
        return None, {}
    parents: dict[tuple[str, ...], tuple[str, ...]] = {}

    def root(node: tuple[str, ...]) -> tuple[str, ...]:
        parents.setdefault(node, node)
        while parents[node] != node:
            parents[node] = parents[parents[node]]
            node = parents[node]
        return node

    records: dict[tuple[str, str], str] = {}
    for customer_id, source, record_key, rule, identifier_type, match_key in rows:
        record = ("r", str(source), str(record_key))
        records[(str(source), str(record_key))] = str(customer_id)
        root(record)
        if rule != "probabilistic":
            value = ("v", str(customer_id), str(identifier_type), str(match_key))
            parents[root(record)] = root(value)
    parts = [
        (source, record_key, f"{customer_id}#{'|'.join(root(('r', source, record_key)))}")
        for (source, record_key), customer_id in records.items()
    ]
    fill_temp_table(warehouse, EXACT_PARTS, ("source", "record_key", "customer_id"), parts)
    before = f"{LABELLED}_before"
    warehouse.execute(f"drop table if exists {before}")
    warehouse.execute(f"""
        create temp table {before} as
        select labelled.source, labelled.record_key, labelled.person_id,
            coalesce(parts.customer_id, labelled.customer_id) as customer_id,
            labelled.is_unassigned
        from {LABELLED} as labelled
        left join {EXACT_PARTS} as parts
            on labelled.source = parts.source and labelled.record_key = parts.record_key
    """)
    with_labelled = f"with labelled as (select * from {before})"
    totals = warehouse.query(f"{with_labelled} {_totals_sql()}")[0]
    overall = PairScores(int(totals[0]), int(totals[4]), int(totals[5]), int(totals[6]))
    return overall, (_by_label(warehouse, with_labelled, NOISE) if with_noise else {})


def _totals_sql() -> str:
    """Counts over `labelled`: records, unassigned, customers, persons, true, predicted
    and correct pairs, over-merged customers and their persons, under-merged persons."""
    return """,
        cells as (
            select customer_id, person_id, count(*) as n from labelled group by 1, 2
        ),
        by_customer as (
            select customer_id, sum(n) as n, count(*) as persons from cells group by 1
        ),
        by_person as (
            select person_id, sum(n) as n, count(*) as customers from cells group by 1
        )
        select
            (select count(*) from labelled),
            (select count(*) from labelled where is_unassigned),
            (select count(*) from by_customer),
            (select count(*) from by_person),
            (select coalesce(sum(n * (n - 1) / 2), 0) from by_person),
            (select coalesce(sum(n * (n - 1) / 2), 0) from by_customer),
            (select coalesce(sum(n * (n - 1) / 2), 0) from cells),
            (select count(*) from by_customer where persons > 1),
            (select count(distinct cells.person_id) from cells
                inner join by_customer on cells.customer_id = by_customer.customer_id
                where by_customer.persons > 1),
            (select count(*) from by_person where customers > 1)
    """


def _scores(
    warehouse: Warehouse, truth: Truth, truth_rows: str, labelled_table: str, with_noise: bool
) -> Evaluation:
    labelled = f"with labelled as (select * from {labelled_table})"
    totals = warehouse.query(f"{labelled} {_totals_sql()}")[0]
    # One row per truth record (one person each, checked) and per staged record.
    (not_found,) = warehouse.query(
        f"select (select count(*) from {truth_rows} as truth) "
        f"- (select count(*) from {labelled_table})"
    )[0]
    return Evaluation(
        records_evaluated=int(totals[0]),
        records_unassigned=int(totals[1]),
        customers=int(totals[2]),
        persons=int(totals[3]),
        true_pairs=int(totals[4]),
        predicted_pairs=int(totals[5]),
        correct_pairs=int(totals[6]),
        over_merged_customers=int(totals[7]),
        over_merged_persons=int(totals[8]),
        under_merged_persons=int(totals[9]),
        cluster_sizes=cluster_sizes(warehouse, labelled_table),
        truth=truth.relation,
        records_not_found=int(not_found),
        by_source=_by_label(warehouse, labelled),
        by_noise_kind=_by_label(warehouse, labelled, NOISE) if with_noise else {},
    )


def _pairs_by_label(grouping: str) -> str:
    """Per label, the pairs inside each group of `grouping` (columns of `labelled`) with
    at least one record of that label (`labelled_with_labels`: one row per record and
    label): all pairs of the group, less those among its other records."""
    return f"""
        select per_label.label,
            sum(groups.n * (groups.n - 1) / 2
                - (groups.n - per_label.k) * (groups.n - per_label.k - 1) / 2) as pairs
        from (select {grouping}, label, count(*) as k from labelled_with_labels
              group by {grouping}, label) as per_label
        inner join (select {grouping}, count(*) as n from labelled group by {grouping}) as groups
            using ({grouping})
        group by per_label.label
    """


def _by_label(
    warehouse: Warehouse, labelled: str, labels: str | None = None
) -> dict[str, PairScores]:
    """Pair scores per source (labels None) or per label of the `labels` table."""
    labelled_with_labels = (
        "select labelled.*, labelled.source as label from labelled"
        if labels is None
        else f"select labelled.*, labels.label from labelled inner join {labels} as labels "
        "on labelled.source = labels.source and labelled.record_key = labels.record_key"
    )
    rows = warehouse.query(f"""
        {labelled},
        labelled_with_labels as ({labelled_with_labels}),
        records as (select label, count(*) as n from labelled_with_labels group by label),
        true_pairs as ({_pairs_by_label("person_id")}),
        predicted_pairs as ({_pairs_by_label("customer_id")}),
        correct_pairs as ({_pairs_by_label("customer_id, person_id")})
        select records.label, records.n, coalesce(true_pairs.pairs, 0),
            coalesce(predicted_pairs.pairs, 0), coalesce(correct_pairs.pairs, 0)
        from records
        left join true_pairs on records.label = true_pairs.label
        left join predicted_pairs on records.label = predicted_pairs.label
        left join correct_pairs on records.label = correct_pairs.label
        order by records.label
    """)
    return {
        str(label): PairScores(int(n), int(true), int(predicted), int(correct))
        for label, n, true, predicted, correct in rows
    }
