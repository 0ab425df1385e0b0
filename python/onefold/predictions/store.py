"""The versioned rows of `prediction_models` (dbt creates the table; training appends
to it, and customer_predictions scores with each model's newest version)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from onefold import __version__
from onefold.project import DbtProject, Relation
from onefold.sql import transaction
from onefold.warehouse import Warehouse

MODELS_TABLE = "prediction_models"
COLUMNS = (
    "model_name",
    "model_version",
    "trained_at",
    "training_cutoff",
    "holdout_cutoff",
    "algorithm",
    "parameters",
    "metrics",
    "training_rows",
    "holdout_rows",
    "onefold_version",
)


@dataclass(frozen=True)
class TrainedModel:
    model_name: str
    algorithm: str
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    training_rows: int
    holdout_rows: int


def models_relation(warehouse: Warehouse, project: DbtProject) -> Relation:
    (relation,) = project.require(warehouse, MODELS_TABLE)
    return relation


def store_models(
    warehouse: Warehouse,
    relation: Relation,
    models: list[TrainedModel],
    training_cutoff: dt.date,
    holdout_cutoff: dt.date,
    trained_at: dt.datetime,
) -> dict[str, int]:
    """Append each model as its next version, in one transaction; the versions."""
    versions: dict[str, int] = {}
    with transaction(warehouse):
        for model in models:
            ((newest,),) = warehouse.query(
                f"select max(model_version) from {relation} where model_name = ?",
                [model.model_name],
            )
            version = int(newest or 0) + 1
            warehouse.insert_rows(
                str(relation),
                COLUMNS,
                [
                    (
                        model.model_name,
                        version,
                        trained_at.replace(tzinfo=None),
                        training_cutoff,
                        holdout_cutoff,
                        model.algorithm,
                        json.dumps(model.parameters, allow_nan=False),
                        json.dumps(model.metrics, allow_nan=False),
                        model.training_rows,
                        model.holdout_rows,
                        __version__,
                    )
                ],
            )
            versions[model.model_name] = version
    return versions
