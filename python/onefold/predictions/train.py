"""`onefold train`: fit every predictive model on the training snapshot, measure it on
the holdout snapshot beside its baseline, and store it as the next version in
`prediction_models` (docs/predictions.md). Nothing is stored unless every model asked
for could be trained: a refusal names each model and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from onefold.errors import ConfigError
from onefold.predictions import clv
from onefold.predictions.classifiers import (
    BEST,
    TARGETS,
    Classifier,
    Target,
    check_classes,
    fit_classifier,
)
from onefold.predictions.evaluation import evaluate_classifier, evaluate_value
from onefold.predictions.snapshots import Snapshots, fill_values, load_snapshots
from onefold.predictions.store import TrainedModel, models_relation, store_models
from onefold.predictions.truth import load_purchase_truth, truth_optimum
from onefold.project import DbtProject
from onefold.warehouse import Warehouse

MODEL_NAMES = (clv.MODEL_NAME, *(target.model_name for target in TARGETS))
#: Days the baseline for CLV looks back (the snapshots' spend_90d).
BASELINE_SPEND_DAYS = 90

Progress = Callable[[str, int, int], None]


@dataclass
class TrainResult:
    training_cutoff: dt.date
    holdout_cutoff: dt.date
    horizon_days: int
    training_rows: int
    holdout_rows: int
    excluded: dict[str, int]
    models: dict[str, TrainedModel]
    versions: dict[str, int] = field(default_factory=dict)
    #: the fitted objects, for callers that score with them (tests, notebooks)
    classifiers: dict[str, Classifier] = field(default_factory=dict)
    clv_parameters: clv.ClvParameters | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "training_cutoff": self.training_cutoff.isoformat(),
            "holdout_cutoff": self.holdout_cutoff.isoformat(),
            "horizon_days": self.horizon_days,
            "training_rows": self.training_rows,
            "holdout_rows": self.holdout_rows,
            "excluded_rows": self.excluded,
            "models": {
                name: {
                    "version": self.versions.get(name),
                    "algorithm": model.algorithm,
                    "training_rows": model.training_rows,
                    "holdout_rows": model.holdout_rows,
                    "metrics": model.metrics,
                }
                for name, model in self.models.items()
            },
        }


def train(
    warehouse: Warehouse,
    project: DbtProject,
    model_names: Sequence[str] = MODEL_NAMES,
    seed: int = 0,
    resamples: int = 200,
    classifier: str = BEST,
    store: bool = True,
    progress: Progress | None = None,
) -> TrainResult:
    report = progress or (lambda step, completed, total: None)
    unknown = sorted(set(model_names) - set(MODEL_NAMES))
    if unknown:
        raise ConfigError(f"unknown model {', '.join(unknown)}; models: {', '.join(MODEL_NAMES)}")
    relation = models_relation(warehouse, project)
    report("reading snapshots", 0, len(model_names) + 1)
    snapshots = load_snapshots(warehouse, project)
    truth = load_purchase_truth(warehouse, project)
    # Fitting takes a while: let dbt and other readers have a DuckDB file meanwhile
    # (storing attaches it again, for one transaction).
    warehouse.release()
    _check_history(snapshots)
    models: dict[str, TrainedModel] = {}
    result = TrainResult(
        snapshots.training_cutoff,
        snapshots.holdout_cutoff,
        snapshots.horizon_days,
        len(snapshots.training),
        len(snapshots.holdout),
        snapshots.excluded,
        models,
    )
    refusals = []
    for done, name in enumerate(model_names, start=1):
        report(f"training {name}", done, len(model_names) + 1)
        try:
            if name == clv.MODEL_NAME:
                models[name] = _train_clv(snapshots, result, seed, resamples)
            else:
                target = next(t for t in TARGETS if t.model_name == name)
                models[name] = _train_classifier(
                    target, snapshots, result, seed, resamples, classifier, truth
                )
        except ConfigError as refused:
            refusals.append(str(refused))
    if refusals:
        raise ConfigError("nothing was stored: " + " ".join(refusals))
    if store:
        result.versions = store_models(
            warehouse,
            relation,
            [models[name] for name in model_names],
            snapshots.training_cutoff,
            snapshots.holdout_cutoff,
            dt.datetime.now(dt.UTC),
        )
    return result


def _check_history(snapshots: Snapshots) -> None:
    """The training snapshot must look back at least one horizon."""
    ages = pd.to_numeric(snapshots.training["age_days"])
    history = int(ages.max()) if len(ages) else 0
    if history < snapshots.horizon_days:
        raise ConfigError(
            f"the first order before the training cutoff {snapshots.training_cutoff} is "
            f"{history} days before it; training needs at least the horizon, "
            f"{snapshots.horizon_days} days (onefold__predictions.horizon_days): load more "
            "history, or shorten the horizon."
        )


def _train_classifier(
    target: Target,
    snapshots: Snapshots,
    result: TrainResult,
    seed: int,
    resamples: int,
    choice: str,
    truth: pd.DataFrame | None,
) -> TrainedModel:
    training = target.rows(snapshots.training)
    holdout = target.rows(snapshots.holdout)
    labels = target.labels(holdout)
    check_classes(target, labels, "holdout")
    classifier = fit_classifier(
        target, snapshots.training, fill_values(training), seed, choice, snapshots.validation
    )
    result.classifiers[target.model_name] = classifier
    days = (
        pd.to_numeric(holdout["days_since_last_order"])
        .astype("float64")
        .fillna(classifier.parameters["fill"]["days_since_last_order"])
        .to_numpy()
    )
    # Recency alone: the more recent the last order, the likelier the next (and the
    # less likely churn); a customer who never ordered counts as longest ago.
    baseline = days if target.model_name == "churn_90d" else -days
    probabilities = classifier.probabilities(holdout)
    metrics = evaluate_classifier(labels, probabilities, baseline, "recency", resamples, seed)
    metrics["validation_auc"] = classifier.validation_auc
    metrics["selection"] = classifier.selection
    if truth is not None:
        metrics["truth_optimum"] = truth_optimum(
            target.model_name,
            truth,
            snapshots.holdout_cutoff,
            holdout.reset_index(drop=True),
            labels,
            probabilities,
            baseline,
        )
    return TrainedModel(
        target.model_name,
        classifier.algorithm,
        classifier.parameters,
        metrics,
        len(training),
        len(holdout),
    )


def _train_clv(
    snapshots: Snapshots, result: TrainResult, seed: int, resamples: int
) -> TrainedModel:
    parameters = clv.fit_clv(snapshots.training)
    result.clv_parameters = parameters
    holdout = clv.buyers(snapshots.holdout)
    horizon = snapshots.horizon_days
    predicted = clv.score_clv(parameters, holdout, days=horizon).predicted_value
    actual = pd.to_numeric(holdout["spend_next_horizon"]).astype("float64").to_numpy()
    last_period = pd.to_numeric(holdout["spend_90d"]).astype("float64").to_numpy()
    metrics = evaluate_value(
        actual,
        np.asarray(predicted, float),
        last_period * horizon / BASELINE_SPEND_DAYS,
        "last period's spend",
        resamples,
        seed,
    )
    metrics["horizon_days"] = horizon
    return TrainedModel(
        clv.MODEL_NAME,
        clv.ALGORITHM,
        parameters.as_dict(),
        metrics,
        len(clv.buyers(snapshots.training)),
        len(holdout),
    )
