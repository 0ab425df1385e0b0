"""Holdout metrics, always beside the baseline a skeptic would use, with a bootstrap
95% interval of the difference (the model is said to beat the baseline only when
the whole interval is on its side).

Classifiers: AUC, PR-AUC, top-decile lift, Brier score and calibration bins; the
baseline is recency alone (days since the last order; never ordered counts as
longest ago). CLV: total and per-customer error, Spearman correlation and top-decile
spend capture of the spend in the horizon; the baseline is last period's spend (the
90 days before the cutoff, scaled to the horizon). Product suggestions: hit rate at k,
the share of customers who bought a product new to them in the horizon and had been
suggested one of them; the baseline is the k most popular products they had not bought.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

CALIBRATION_BINS = 10
TOP_SHARE = 0.1

Metric = Callable[[np.ndarray, np.ndarray], float]


def top_decile_lift(labels: np.ndarray, scores: np.ndarray) -> float:
    """Positive rate among the top tenth by score, over the overall rate."""
    top = _top(scores)
    base = labels.mean()
    return float(labels[top].mean() / base) if base else 0.0


def top_decile_capture(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Share of the actual total that the top tenth by prediction holds."""
    total = actual.sum()
    return float(actual[_top(predicted)].sum() / total) if total else 0.0


def _top(scores: np.ndarray) -> np.ndarray:
    # Ties broken by position (rows are sorted by customer_id), so the cut is stable.
    count = max(1, round(len(scores) * TOP_SHARE))
    return np.argsort(-scores, kind="stable")[:count]


def spearman(actual: np.ndarray, predicted: np.ndarray) -> float:
    value = spearmanr(actual, predicted).statistic
    return float(value) if np.isfinite(value) else 0.0


def calibration(labels: np.ndarray, probabilities: np.ndarray) -> list[dict[str, float]]:
    """Equal-width bins of predicted probability: mean prediction, observed rate, rows."""
    edges = np.linspace(0, 1, CALIBRATION_BINS + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, CALIBRATION_BINS - 1)
    bins = []
    for index in range(CALIBRATION_BINS):
        inside = which == index
        if inside.any():
            bins.append(
                {
                    "low": float(edges[index]),
                    "high": float(edges[index + 1]),
                    "mean_predicted": float(probabilities[inside].mean()),
                    "observed_rate": float(labels[inside].mean()),
                    "rows": int(inside.sum()),
                }
            )
    return bins


def bootstrap_difference(
    metric: Metric,
    truth: np.ndarray,
    model: np.ndarray,
    baseline: np.ndarray,
    resamples: int,
    seed: int,
    two_classes: bool = True,
) -> dict[str, float]:
    """metric(model) - metric(baseline) and its 95% percentile interval over rows
    resampled with replacement (`two_classes`: skipping samples of one class, where
    AUC is undefined)."""
    rng = np.random.default_rng(seed)
    differences = []
    for _ in range(resamples):
        rows = rng.integers(0, len(truth), len(truth))
        sample = truth[rows]
        if two_classes and sample.min() == sample.max():
            continue
        differences.append(metric(sample, model[rows]) - metric(sample, baseline[rows]))
    low, high = np.percentile(differences, [2.5, 97.5]) if differences else (np.nan, np.nan)
    return {
        "difference": metric(truth, model) - metric(truth, baseline),
        "low": float(low),
        "high": float(high),
        "resamples": len(differences),
    }


def classifier_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    return {
        "auc": float(roc_auc_score(labels, probabilities)),
        "pr_auc": float(average_precision_score(labels, probabilities)),
        "top_decile_lift": top_decile_lift(labels, probabilities),
        "brier": float(brier_score_loss(labels, probabilities)),
        "calibration": calibration(labels, probabilities),
    }


def ranking_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """A baseline's metrics: its scores rank but are not probabilities."""
    return {
        "auc": float(roc_auc_score(labels, scores)),
        "pr_auc": float(average_precision_score(labels, scores)),
        "top_decile_lift": top_decile_lift(labels, scores),
    }


def evaluate_classifier(
    labels: np.ndarray,
    probabilities: np.ndarray,
    baseline_scores: np.ndarray,
    baseline: str,
    resamples: int,
    seed: int,
) -> dict[str, Any]:
    def auc(truth: np.ndarray, scores: np.ndarray) -> float:
        return float(roc_auc_score(truth, scores))

    auc_gain = bootstrap_difference(auc, labels, probabilities, baseline_scores, resamples, seed)
    return {
        "rows": len(labels),
        "positives": int(labels.sum()),
        "model": classifier_metrics(labels, probabilities),
        "baseline": {"name": baseline, **ranking_metrics(labels, baseline_scores)},
        "auc_over_baseline": auc_gain,
        "beats_baseline": bool(auc_gain["low"] > 0),
    }


def value_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    total = actual.sum()
    return {
        "actual_total": float(total),
        "predicted_total": float(predicted.sum()),
        "total_error": float((predicted.sum() - total) / total) if total else 0.0,
        "mean_absolute_error": float(np.abs(predicted - actual).mean()),
        "spearman": spearman(actual, predicted),
        "top_decile_capture": top_decile_capture(actual, predicted),
    }


def evaluate_value(
    actual: np.ndarray,
    predicted: np.ndarray,
    baseline_values: np.ndarray,
    baseline: str,
    resamples: int,
    seed: int,
) -> dict[str, Any]:
    def negative_error(truth: np.ndarray, values: np.ndarray) -> float:
        return -float(np.abs(values - truth).mean())

    error_gain = bootstrap_difference(
        negative_error, actual, predicted, baseline_values, resamples, seed
    )
    spearman_gain = bootstrap_difference(
        spearman, actual, predicted, baseline_values, resamples, seed
    )
    return {
        "rows": len(actual),
        "model": value_metrics(actual, predicted),
        "baseline": {"name": baseline, **value_metrics(actual, baseline_values)},
        "error_reduction_over_baseline": error_gain,
        "spearman_over_baseline": spearman_gain,
        "beats_baseline": bool(error_gain["low"] > 0),
    }


def evaluate_suggestions(
    model_hits: np.ndarray, baseline_hits: np.ndarray, k: int, resamples: int, seed: int
) -> dict[str, Any]:
    """Hit rate at k of the suggestions and of popularity, per evaluated customer."""

    def hit_rate(_: np.ndarray, hits: np.ndarray) -> float:
        return float(hits.mean())

    gain = bootstrap_difference(
        hit_rate,
        np.zeros(len(model_hits)),
        model_hits,
        baseline_hits,
        resamples,
        seed,
        two_classes=False,
    )
    return {
        "rows": len(model_hits),
        "k": k,
        "model": {"hit_rate_at_k": hit_rate(model_hits, model_hits)},
        "baseline": {"name": "popularity", "hit_rate_at_k": hit_rate(baseline_hits, baseline_hits)},
        "hit_rate_over_baseline": gain,
        "beats_baseline": bool(gain["low"] > 0),
    }
