"""Identity quality against the generator's ground truth.

Evaluated: every record that staging accepted from the sources that feed the identity
graph (`int_identity_source_records`); rows staging quarantined are not the resolver's
to assign and are reported by `onefold summary` instead. Pairwise metrics over records:
two records form a predicted pair when they share a customer_id, and a true pair when
the same simulated person owns both. Records the resolver did not assign (all
identifiers rejected or blocked) count as singletons.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from onefold.errors import ConfigError
from onefold.project import DbtProject, locate
from onefold.warehouse import Warehouse


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
        data = asdict(self)
        data.update(precision=self.precision, recall=self.recall, f1=self.f1)
        return data


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


def evaluate(warehouse: Warehouse, project: DbtProject | None = None) -> Evaluation:
    """Score the identity marts against the generator's ground truth. `project` locates
    the marts (default: the dbt project of the working directory, see onefold.project)."""
    project = project or locate()
    truth = f"{project.truth_schema}.record_owners"
    record_relation = project.relation("customer_records")
    staged_relation = project.relation("int_identity_source_records")
    records, staged = str(record_relation), str(staged_relation)
    for schema, table in (
        (project.truth_schema, "record_owners"),
        (record_relation.schema, record_relation.identifier),
        (staged_relation.schema, staged_relation.identifier),
    ):
        if not warehouse.table_exists(schema, table):
            raise ConfigError(
                f"{schema}.{table} not found: evaluate needs the demo generator's ground truth "
                "(`onefold generate`) and a completed `dbt build`."
            )
    labelled = f"""
        with labelled as (
            select
                truth.person_id,
                coalesce(records.customer_id,
                         'unassigned|' || truth.source_table || '|' || truth.record_key)
                    as customer_id,
                records.customer_id is null as is_unassigned
            from {truth} as truth
            -- Only records staging accepted from the identity sources.
            inner join {staged} as staged
                on truth.source_table = staged.source
                and truth.record_key = staged.record_key
            left join {records} as records
                on truth.source_table = records.source
                and truth.record_key = records.record_key
        )
    """
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
    )
