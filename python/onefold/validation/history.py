"""Rates compared with previous runs of `onefold validate` (`history:` in the file).

dbt tests check each build on its own; a matching rule that silently stops matching, or
a loader that starts sending malformed rows, passes every one of them. Each validate run
measures

- `identity_match_rate`: the share of records in `customer_records` whose customer has
  at least one other record (records the identity graph joined to something), and
- `quarantine_rate` per source: quarantined rows / raw rows of each staging model,

stores them in `<target schema>_validation.onefold_validation_history` (one row per
metric per run) and fails a metric that moved more than its tolerance away from the
median of its previous `runs` values. The first run only records.
"""

from __future__ import annotations

import datetime as dt
import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from onefold.errors import ConfigError
from onefold.project import DbtProject
from onefold.summary import staging_models
from onefold.validation.report import Outcome
from onefold.validation.spec import HISTORY_KEY, HistorySettings
from onefold.warehouse import Warehouse, quote_ident

TABLE = "onefold_validation_history"
_COLUMNS = (
    ("run_id", "varchar"),
    ("validated_at", "timestamp"),
    ("target_name", "varchar"),
    ("metric", "varchar"),
    ("subject", "varchar"),
    ("metric_value", "double precision"),
    ("baseline_value", "double precision"),
    ("previous_runs", "integer"),
    ("tolerance", "double precision"),
    ("success", "boolean"),
)


def history_schema(project: DbtProject) -> str:
    """`<target schema>_validation`, next to `_sync` and `_privacy`."""
    return f"{project.target.schema}_validation"


@dataclass(frozen=True)
class Measure:
    metric: str
    subject: str  # what was measured: `marts.customer_records`, `shop.shop_orders`
    relation: str
    value: float | None  # None: nothing to measure (no rows)


def measure(project: DbtProject, warehouse: Warehouse) -> list[Measure]:
    """The current identity match rate and quarantine rate per source."""
    (records,) = project.require(warehouse, "customer_records")
    (rate,) = warehouse.query(
        "with sizes as (select customer_id, count(*) as records "
        f"from {records} group by customer_id) "
        "select sum(case when records > 1 then records else 0 end) * 1.0 "
        "/ nullif(sum(records), 0) from sizes"
    )[0]
    measures = [
        Measure(
            "identity_match_rate",
            "marts.customer_records",
            str(records),
            None if rate is None else float(rate),
        )
    ]
    for model in staging_models(dict(project.manifest.document)):
        quarantine = project.find(f"{model.name}_quarantine")
        if quarantine is None:  # a staging model that quarantines nothing
            continue
        if not warehouse.table_exists(quarantine.schema, quarantine.identifier):
            raise ConfigError(
                f"history: {quarantine} (model {quarantine.name}) does not exist on target "
                f"{project.target.name!r}: run `dbt build` in {project.project_dir}."
            )
        (quarantined,) = warehouse.query(f"select count(*) from {quarantine}")[0]
        (raw,) = warehouse.query(f"select count(*) from {model.source_relation}")[0]
        measures.append(
            Measure(
                "quarantine_rate",
                model.source_name,
                str(quarantine),
                int(quarantined) / int(raw) if raw else None,
            )
        )
    return measures


def previous_values(
    project: DbtProject, warehouse: Warehouse, measures: Sequence[Measure], runs: int
) -> dict[tuple[str, str], list[float]]:
    """The last `runs` stored values of each measured (metric, subject), newest first."""
    schema = history_schema(project)
    if not warehouse.table_exists(schema, TABLE):
        return {}
    relation = f"{quote_ident(schema)}.{quote_ident(TABLE)}"
    found: dict[tuple[str, str], list[float]] = {}
    for item in measures:
        rows = warehouse.query(
            f"select metric_value from {relation} where metric = ? and subject = ? "
            "and target_name = ? and metric_value is not null "
            f"order by validated_at desc limit {int(runs)}",
            [item.metric, item.subject, project.target.name],
        )
        found[(item.metric, item.subject)] = [float(value) for (value,) in rows]
    return found


def compare(
    measures: Sequence[Measure],
    previous: dict[tuple[str, str], list[float]],
    settings: HistorySettings,
) -> list[tuple[Measure, Outcome, float | None]]:
    """An outcome per measure, with the baseline (median of the previous values)."""
    results = []
    for position, item in enumerate(measures, start=1):
        tolerance = settings.tolerance[item.metric]
        values = previous.get((item.metric, item.subject), [])
        baseline = statistics.median(values) if values else None
        if baseline is None:
            expected = "no previous run: this run is the first value"
            success = True
        else:
            runs = f"{len(values)} previous run{'' if len(values) == 1 else 's'}"
            expected = f"±{tolerance * 100:.2f} points of the median of {runs}: {baseline:.2%}"
            success = item.value is None or abs(item.value - baseline) <= tolerance + 1e-12
        outcome = Outcome(
            table=HISTORY_KEY,
            relation=item.relation,
            position=position,
            check=item.metric,
            expectation="rate within tolerance of previous runs",
            columns=(item.subject,),
            expected=expected,
            success=success,
            observed="no rows" if item.value is None else f"{item.value:.2%}",
        )
        results.append((item, outcome, baseline))
    return results


def record(
    project: DbtProject,
    warehouse: Warehouse,
    results: Sequence[tuple[Measure, Outcome, float | None]],
    previous: dict[tuple[str, str], list[float]],
    settings: HistorySettings,
) -> str:
    """Store this run's values (creating the schema and table when missing); its run id."""
    schema = history_schema(project)
    relation = f"{quote_ident(schema)}.{quote_ident(TABLE)}"
    warehouse.execute(f"create schema if not exists {quote_ident(schema)}")
    columns = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS)
    warehouse.execute(f"create table if not exists {relation} ({columns})")
    run_id = uuid.uuid4().hex
    validated_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [
        (
            run_id,
            validated_at,
            project.target.name,
            item.metric,
            item.subject,
            item.value,
            baseline,
            len(previous.get((item.metric, item.subject), [])),
            settings.tolerance[item.metric],
            outcome.success,
        )
        for item, outcome, baseline in results
    ]
    if rows:
        warehouse.insert_rows(relation, [name for name, _ in _COLUMNS], rows)
    return run_id
