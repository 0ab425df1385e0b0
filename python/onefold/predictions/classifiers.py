"""Purchase and churn propensity: a scikit-learn classifier on the snapshot features.

Two candidates, logistic regression (standardized features) and gradient boosting
(shallow trees), are fitted on the validation snapshot and scored on the training
snapshot, one horizon later, so the choice sees how each holds up over time as the
holdout will test it. The simpler logistic regression is kept unless gradient
boosting's AUC there is higher with the whole bootstrap 95% interval of the difference
above 0 (on make demo's data a mere higher AUC had picked boosting for churn_90d, which
then lost to the logistic regression on the holdout); the chosen one is fitted on the
training snapshot. Without enough positives in the
validation snapshot, three quarters of the training snapshot fit and the last quarter
chooses. `choice` can name one of them instead. Either is exported as
plain numbers (coefficients, or every tree's splits and leaves) that
macros/predictions/scoring.sql writes into SQL; `probabilities` computes the same from
those numbers, and export checks it equals the fitted model's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from onefold.errors import ConfigError
from onefold.predictions.evaluation import bootstrap_difference
from onefold.predictions.snapshots import CLASSIFIER_FEATURES, feature_matrix

#: Fewest positives and negatives a classifier is fitted or evaluated on.
MIN_CLASS_ROWS = 20
VALIDATION_SHARE = 0.25
#: Resamples for the interval of boosting's AUC gain that choosing it needs.
SELECTION_RESAMPLES = 200
#: The exported numbers must give the fitted model's probabilities within this.
EXPORT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Target:
    """What a classifier predicts: its model name, the customers it is for, and the
    label of each of them."""

    model_name: str
    description: str
    buyers_only: bool

    def rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["has_ordered"].astype(bool)] if self.buyers_only else frame

    def labels(self, frame: pd.DataFrame) -> np.ndarray:
        if self.model_name == "purchase_30d":
            return (pd.to_numeric(frame["orders_next_30d_count"]) > 0).to_numpy(int)
        return (pd.to_numeric(frame["orders_next_90d_count"]) == 0).to_numpy(int)


PURCHASE = Target("purchase_30d", "an order in the next 30 days", buyers_only=False)
CHURN = Target("churn_90d", "no order in the next 90 days (customers who have ordered)", True)
TARGETS = (PURCHASE, CHURN)


@dataclass
class Classifier:
    model_name: str
    algorithm: str
    parameters: dict[str, Any]
    estimator: Any
    #: validation AUC of each candidate algorithm
    validation_auc: dict[str, float] = field(default_factory=dict)
    #: how the candidates were compared: "time" (validation snapshot) or "random"
    selection: str = "time"

    def probabilities(self, frame: pd.DataFrame) -> np.ndarray:
        """From the exported numbers, as the SQL computes them."""
        return probabilities(self.algorithm, self.parameters, frame)


def has_classes(labels: np.ndarray) -> bool:
    """At least MIN_CLASS_ROWS positives and as many negatives."""
    positives = int(labels.sum())
    return min(positives, len(labels) - positives) >= MIN_CLASS_ROWS


def check_classes(target: Target, labels: np.ndarray, where: str) -> None:
    positives, negatives = int(labels.sum()), int(len(labels) - labels.sum())
    if min(positives, negatives) < MIN_CLASS_ROWS:
        raise ConfigError(
            f"{target.model_name}: the {where} snapshot has {positives} customers with "
            f"{target.description} and {negatives} without; at least {MIN_CLASS_ROWS} of each "
            "are needed. Load more history or customers."
        )


#: The candidate algorithms; `best` fits both and keeps the better on validation.
ALGORITHMS = ("logistic_regression", "gradient_boosting")
BEST = "best"


def fit_classifier(
    target: Target,
    frame: pd.DataFrame,
    fill: dict[str, float],
    seed: int,
    choice: str = BEST,
    validation: pd.DataFrame | None = None,
) -> Classifier:
    """Fit on `frame` (the training snapshot); with BEST, choose the algorithm on the
    `validation` snapshot (see the module's docstring)."""
    if choice != BEST and choice not in ALGORITHMS:
        raise ConfigError(f"classifier {choice!r}: choose {BEST} or one of {', '.join(ALGORITHMS)}")
    rows = target.rows(frame)
    labels = target.labels(rows)
    check_classes(target, labels, "training")
    matrix = feature_matrix(rows, fill)
    earlier = None if validation is None else target.rows(validation)
    earlier_labels = None if earlier is None else target.labels(earlier)
    if earlier is not None and earlier_labels is not None and has_classes(earlier_labels):
        selection = "time"
        fit_x, fit_y = feature_matrix(earlier, fill), earlier_labels
        check_x, check_y = matrix, labels
    else:
        selection = "random"
        fit_x, check_x, fit_y, check_y = train_test_split(
            matrix, labels, test_size=VALIDATION_SHARE, random_state=seed, stratify=labels
        )
    candidates = {
        name: make
        for name, make in (("logistic_regression", _logistic), ("gradient_boosting", _boosting))
        if choice in (BEST, name)
    }
    scores, predicted = {}, {}
    for name, make in candidates.items():
        predicted[name] = make(seed).fit(fit_x, fit_y).predict_proba(check_x)[:, 1]
        scores[name] = float(roc_auc_score(check_y, predicted[name]))
    chosen = next(iter(candidates))
    if len(candidates) == 2:
        gain = bootstrap_difference(
            _auc,
            check_y,
            predicted["gradient_boosting"],
            predicted["logistic_regression"],
            SELECTION_RESAMPLES,
            seed,
        )
        chosen = "gradient_boosting" if gain["low"] > 0 else "logistic_regression"
    estimator = candidates[chosen](seed).fit(matrix, labels)
    parameters = export(chosen, estimator, fill)
    exported = probabilities(chosen, parameters, rows)
    fitted = estimator.predict_proba(matrix)[:, 1]
    if not np.allclose(exported, fitted, rtol=0, atol=EXPORT_TOLERANCE):
        raise AssertionError(
            f"{target.model_name}: the exported {chosen} differs from the fitted one by "
            f"{np.abs(exported - fitted).max():.3g} (scikit-learn changed its internals?)"
        )
    return Classifier(target.model_name, chosen, parameters, estimator, scores, selection)


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    return float(roc_auc_score(labels, scores))


def _logistic(seed: int) -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))


def _boosting(seed: int) -> GradientBoostingClassifier:
    return GradientBoostingClassifier(
        n_estimators=100, max_depth=3, learning_rate=0.1, subsample=1.0, random_state=seed
    )


def export(algorithm: str, estimator: Any, fill: dict[str, float]) -> dict[str, Any]:
    features = list(CLASSIFIER_FEATURES)
    if algorithm == "logistic_regression":
        scaler, model = (
            estimator.named_steps["standardscaler"],
            estimator.named_steps["logisticregression"],
        )
        return {
            "features": features,
            "fill": fill,
            "means": [float(x) for x in scaler.mean_],
            "scales": [float(x) for x in scaler.scale_],
            "coefficients": [float(x) for x in model.coef_[0]],
            "intercept": float(model.intercept_[0]),
        }
    trees = []
    for (regressor,) in estimator.estimators_:
        tree = regressor.tree_
        trees.append(
            {
                "feature": [int(x) for x in tree.feature],
                "threshold": [float(x) for x in tree.threshold],
                "left": [int(x) for x in tree.children_left],
                "right": [int(x) for x in tree.children_right],
                "value": [float(x) for x in tree.value[:, 0, 0]],
            }
        )
    prior = float(estimator.init_.class_prior_[1])
    return {
        "features": features,
        "fill": fill,
        "init": float(np.log(prior / (1 - prior))),
        "learning_rate": float(estimator.learning_rate),
        "trees": trees,
    }


def probabilities(algorithm: str, parameters: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """The probability from exported numbers: what customer_predictions computes."""
    if list(parameters["features"]) != list(CLASSIFIER_FEATURES):
        raise ConfigError(
            f"a stored {algorithm} reads features {parameters['features']}; this Onefold "
            f"has {list(CLASSIFIER_FEATURES)}. Train again with `onefold train`."
        )
    matrix = feature_matrix(frame, parameters["fill"])
    if algorithm == "logistic_regression":
        scaled = (matrix - np.asarray(parameters["means"])) / np.asarray(parameters["scales"])
        log_odds = parameters["intercept"] + scaled @ np.asarray(parameters["coefficients"])
    elif algorithm == "gradient_boosting":
        # Splits compare single-precision features, as scikit-learn's trees do.
        single = matrix.astype(np.float32).astype(np.float64)
        total = np.zeros(len(frame))
        for tree in parameters["trees"]:
            total += _tree_values(tree, single)
        log_odds = parameters["init"] + parameters["learning_rate"] * total
    else:
        raise ConfigError(f"unknown classifier algorithm {algorithm!r}")
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700))), dtype=float)


def _tree_values(tree: dict[str, Any], matrix: np.ndarray) -> np.ndarray:
    node = np.zeros(len(matrix), dtype=np.int64)
    left, right = np.asarray(tree["left"]), np.asarray(tree["right"])
    feature, threshold = np.asarray(tree["feature"]), np.asarray(tree["threshold"])
    while True:
        inner = left[node] >= 0
        if not inner.any():
            return np.asarray(tree["value"])[node]
        rows = np.flatnonzero(inner)
        goes_left = matrix[rows, feature[node[rows]]] <= threshold[node[rows]]
        node[rows] = np.where(goes_left, left[node[rows]], right[node[rows]])
