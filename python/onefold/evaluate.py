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
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from onefold.erasure.config import relation_parts
from onefold.errors import ConfigError
from onefold.project import DbtProject, locate
from onefold.warehouse import Warehouse, quote_ident


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
        data["by_source"] = {name: scores.as_dict() for name, scores in self.by_source.items()}
        return data


#: the session table of truth records staging accepted, with their customer
LABELLED = "onefold_evaluate_labelled"
SIZE_BUCKETS = ((1, 1), (2, 5), (6, 20), (21, 100), (101, 1000), (1001, None))


def _bucket_label(low: int, high: int | None) -> str:
    return f"{low}" if low == high else (f"{low}+" if high is None else f"{low}-{high}")


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
    columns = {
        str(name).lower()
        for (name,) in warehouse.query(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        )
    }
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
    warehouse: Warehouse, project: DbtProject | None = None, truth: Truth | None = None
) -> Evaluation:
    """Score the identity marts against `truth` (default: the demo generator's ground
    truth). `project` locates the marts (default: the dbt project of the working
    directory, see onefold.project)."""
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
    # Every query below reads the labelled records: joined once, into a session table.
    warehouse.execute(f"drop table if exists {LABELLED}")
    warehouse.execute(f"""
        create temp table {LABELLED} as
        select
            truth.source_table as source,
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
        return _scores(warehouse, truth, truth_rows)
    finally:
        warehouse.execute(f"drop table if exists {LABELLED}")


def _scores(warehouse: Warehouse, truth: Truth, truth_rows: str) -> Evaluation:
    labelled = f"with labelled as (select * from {LABELLED})"
    totals = warehouse.query(f"""
        {labelled},
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
    """)[0]
    sizes = warehouse.query(f"""
        {labelled},
        by_customer as (select customer_id, count(*) as n from labelled group by 1)
        select {_bucket_sql("n")} as bucket, count(*) from by_customer group by 1
    """)
    size_map = {str(bucket): int(count) for bucket, count in sizes}
    # One row per truth record (one person each, checked) and per staged record.
    (not_found,) = warehouse.query(
        f"select (select count(*) from {truth_rows} as truth) - (select count(*) from {LABELLED})"
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
        cluster_sizes={
            label: size_map[label]
            for label in (_bucket_label(low, high) for low, high in SIZE_BUCKETS)
            if label in size_map
        },
        truth=truth.relation,
        records_not_found=int(not_found),
        by_source=_by_source(warehouse, labelled),
    )


def _pairs_by_source(grouping: str) -> str:
    """Per source, the pairs inside each group of `grouping` (columns of `labelled`)
    with at least one record of that source: all pairs of the group, less those among
    its other records."""
    return f"""
        select per_source.source,
            sum(groups.n * (groups.n - 1) / 2
                - (groups.n - per_source.k) * (groups.n - per_source.k - 1) / 2) as pairs
        from (select {grouping}, source, count(*) as k from labelled
              group by {grouping}, source) as per_source
        inner join (select {grouping}, count(*) as n from labelled group by {grouping}) as groups
            using ({grouping})
        group by per_source.source
    """


def _by_source(warehouse: Warehouse, labelled: str) -> dict[str, PairScores]:
    rows = warehouse.query(f"""
        {labelled},
        records as (select source, count(*) as n from labelled group by source),
        true_pairs as ({_pairs_by_source("person_id")}),
        predicted_pairs as ({_pairs_by_source("customer_id")}),
        correct_pairs as ({_pairs_by_source("customer_id, person_id")})
        select records.source, records.n, coalesce(true_pairs.pairs, 0),
            coalesce(predicted_pairs.pairs, 0), coalesce(correct_pairs.pairs, 0)
        from records
        left join true_pairs on records.source = true_pairs.source
        left join predicted_pairs on records.source = predicted_pairs.source
        left join correct_pairs on records.source = correct_pairs.source
        order by records.source
    """)
    return {
        str(source): PairScores(int(n), int(true), int(predicted), int(correct))
        for source, n, true, predicted, correct in rows
    }
