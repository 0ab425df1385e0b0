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
from onefold.predictions import clv, lookalikes, suggestions
from onefold.predictions.classifiers import (
    BEST,
    TARGETS,
    Classifier,
    Target,
    check_classes,
    fit_classifier,
)
from onefold.predictions.evaluation import (
    evaluate_classifier,
    evaluate_suggestions,
    evaluate_value,
)
from onefold.predictions.snapshots import (
    Snapshots,
    fill_values,
    load_snapshots,
    recency_baseline,
)
from onefold.predictions.store import TrainedModel, models_relation, store_models
from onefold.predictions.truth import (
    load_purchase_truth,
    suggestions_optimum,
    truth_optimum,
)
from onefold.project import DbtProject
from onefold.warehouse import Warehouse

MODEL_NAMES = (
    clv.MODEL_NAME,
    *(target.model_name for target in TARGETS),
    suggestions.MODEL_NAME,
)
#: What product suggestions are fitted on (built when the shop's order lines are).
ORDER_LINES_MODEL = "int_customer_order_lines"
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
    #: models left out of "all" because their input is not built, and why
    skipped: dict[str, str] = field(default_factory=dict)
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
            "skipped": self.skipped,
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
    model_names: Sequence[str] | None = None,
    seed: int = 0,
    resamples: int = 200,
    classifier: str = BEST,
    store: bool = True,
    progress: Progress | None = None,
    lookalike_segments: Sequence[str] = (),
) -> TrainResult:
    """Train `model_names` (None: every model whose input is built, product
    suggestions needing the shop's order lines; none when only lookalikes are asked
    for) and a lookalike model of each of `lookalike_segments`."""
    report = progress or (lambda step, completed, total: None)
    unknown = sorted(set(model_names or ()) - set(MODEL_NAMES))
    if unknown:
        raise ConfigError(f"unknown model {', '.join(unknown)}; models: {', '.join(MODEL_NAMES)}")
    relation = models_relation(warehouse, project)
    skipped: dict[str, str] = {}
    lines_relation = project.exists(warehouse, ORDER_LINES_MODEL)
    if lines_relation is None:
        missing = (
            f"{suggestions.MODEL_NAME}: {ORDER_LINES_MODEL} is not built; product suggestions "
            "read the shop's order lines (onefold__shop_order_lines_enabled)."
        )
        if model_names is None:
            skipped[suggestions.MODEL_NAME] = missing
        elif suggestions.MODEL_NAME in model_names:
            raise ConfigError("nothing was stored: " + missing)
    if model_names is None:
        model_names = (
            [] if lookalike_segments else [name for name in MODEL_NAMES if name not in skipped]
        )
    steps = len(model_names) + len(lookalike_segments) + 1
    report("reading snapshots", 0, steps)
    snapshots = load_snapshots(warehouse, project)
    truth = load_purchase_truth(warehouse, project)
    lines = (
        warehouse.query_df(f"select customer_id, sku, ordered_at from {lines_relation}")
        if lines_relation is not None and suggestions.MODEL_NAME in model_names
        else None
    )
    memberships = [
        lookalikes.load_membership(warehouse, project, segment) for segment in lookalike_segments
    ]
    current = (
        warehouse.query_df(
            f"select * from {project.relation(lookalikes.CURRENT_FEATURES_MODEL)} "
            "where is_profiling_allowed"
        )
        .sort_values("customer_id")
        .reset_index(drop=True)
        if memberships
        else None
    )
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
        skipped=skipped,
    )
    refusals = []
    for done, name in enumerate(model_names, start=1):
        report(f"training {name}", done, steps)
        try:
            if name == clv.MODEL_NAME:
                models[name] = _train_clv(snapshots, result, seed, resamples)
            elif name == suggestions.MODEL_NAME:
                assert lines is not None
                models[name] = _train_suggestions(lines, snapshots, seed, resamples, truth)
            else:
                target = next(t for t in TARGETS if t.model_name == name)
                models[name] = _train_classifier(
                    target, snapshots, result, seed, resamples, classifier, truth
                )
        except ConfigError as refused:
            refusals.append(str(refused))
    for done, membership in enumerate(memberships, start=len(model_names) + 1):
        name = lookalikes.model_name(membership.segment)
        report(f"training {name}", done, steps)
        try:
            assert current is not None
            models[name] = _train_lookalike(
                membership, current, snapshots, result, seed, resamples, classifier
            )
        except ConfigError as refused:
            refusals.append(str(refused))
    if refusals:
        raise ConfigError("nothing was stored: " + " ".join(refusals))
    if store:
        result.versions = store_models(
            warehouse,
            relation,
            list(models.values()),
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
    # Recency alone: the more recent the last order, the likelier the next (and the
    # less likely churn).
    recency = recency_baseline(holdout, classifier.parameters["fill"])
    baseline = -recency if target.model_name == "churn_90d" else recency
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


def _train_suggestions(
    lines: pd.DataFrame,
    snapshots: Snapshots,
    seed: int,
    resamples: int,
    truth: pd.DataFrame | None,
) -> TrainedModel:
    """Fitted on what customers bought before the holdout cutoff and measured on the
    products they bought for the first time in the horizon after it: the stored model
    is the one measured."""
    allowed = lines["customer_id"].isin(snapshots.holdout["customer_id"])
    ordered_at = pd.to_datetime(lines["ordered_at"])
    cutoff = pd.Timestamp(snapshots.holdout_cutoff)
    end = cutoff + pd.Timedelta(days=snapshots.horizon_days)
    before = suggestions.bought(lines[allowed & (ordered_at < cutoff)])
    after = suggestions.bought(lines[allowed & (ordered_at >= cutoff) & (ordered_at < end)])
    new = after.merge(before, on=["customer_id", "sku"], how="left", indicator=True)
    new = new[new["_merge"] == "left_only"].drop(columns="_merge")
    evaluated = pd.Series(sorted(new["customer_id"].unique()), dtype=object)
    if len(evaluated) < suggestions.MIN_EVALUATED:
        raise ConfigError(
            f"{suggestions.MODEL_NAME}: {len(evaluated)} customers bought a product new to them "
            f"in the {snapshots.horizon_days} days after the holdout cutoff "
            f"{snapshots.holdout_cutoff}; evaluation needs at least {suggestions.MIN_EVALUATED}."
        )
    model = suggestions.fit_suggestions(before)
    suggested = suggestions.suggest(model, evaluated, before)
    popular = suggestions.suggest(model.popular_only(), evaluated, before)
    model_hits = suggestions.hits(suggested, evaluated, new)
    popular_hits = suggestions.hits(popular, evaluated, new)
    metrics = evaluate_suggestions(model_hits, popular_hits, model.suggestions, resamples, seed)
    # Customers with no purchase before the cutoff get the popular products from both.
    history = evaluated.isin(before["customer_id"]).to_numpy()
    metrics["with_history"] = {
        "rows": int(history.sum()),
        "model_hit_rate_at_k": float(model_hits[history].mean()) if history.any() else None,
        "baseline_hit_rate_at_k": float(popular_hits[history].mean()) if history.any() else None,
    }
    if truth is not None:
        metrics["truth_optimum"] = suggestions_optimum(
            truth, model, evaluated, before, new, suggested, popular
        )
    return TrainedModel(
        suggestions.MODEL_NAME,
        suggestions.ALGORITHM,
        model.as_dict(),
        metrics,
        int(before["customer_id"].nunique()),
        len(evaluated),
    )


def _train_lookalike(
    membership: lookalikes.Membership,
    current: pd.DataFrame,
    snapshots: Snapshots,
    result: TrainResult,
    seed: int,
    resamples: int,
    choice: str,
) -> TrainedModel:
    classifier = lookalikes.fit_lookalike(membership, current, seed, choice)
    result.classifiers[classifier.model_name] = classifier
    metrics = lookalikes.evaluate_lookalike(membership, classifier, snapshots, seed, resamples)
    metrics["members"] = int(current["customer_id"].isin(membership.members).sum())
    metrics["validation_auc"] = classifier.validation_auc
    metrics["selection"] = classifier.selection
    parameters = {**classifier.parameters, "segment": membership.segment}
    return TrainedModel(
        classifier.model_name,
        classifier.algorithm,
        parameters,
        metrics,
        len(current),
        int(metrics.get("rows", 0)),
    )
