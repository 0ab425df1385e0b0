"""Predictive models without a warehouse: the public BG/NBD reference, the series SQL
sums, exported classifiers, refusals and the evaluation arithmetic."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from onefold.errors import ConfigError
from onefold.predictions import clv, lookalikes, suggestions
from onefold.predictions.classifiers import CHURN, PURCHASE, fit_classifier
from onefold.predictions.evaluation import (
    bootstrap_difference,
    calibration,
    top_decile_capture,
    top_decile_lift,
)
from onefold.predictions.snapshots import CLASSIFIER_FEATURES, Snapshots, fill_values
from onefold.predictions.train import _check_history, _train_suggestions


def test_bg_nbd_on_cdnow_gives_the_published_parameters() -> None:
    # Fader, Hardie and Lee (2005), the CDNOW cohort's first 39 weeks (in weeks).
    from lifetimes.datasets import load_cdnow_summary

    cdnow = load_cdnow_summary(index_col=[0])
    *fitted, penalizer = clv.fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert fitted == pytest.approx((0.243, 4.414, 0.793, 2.426), abs=1e-3)
    assert penalizer == 0.0


@pytest.mark.parametrize(
    ("r", "alpha", "a", "b", "horizon"),
    [
        (0.243, 4.414, 0.793, 2.426, 52.0),  # CDNOW, weeks: a < 1
        (1.594, 104.8, 1.906, 22.69, 365.0),  # the demo, days
        (0.5, 10.0, 3.5, 8.0, 365.0),  # a > 2 + r: the ratio nears z from above
    ],
)
def test_the_series_terms_sum_the_hypergeometric_function_for_every_customer(
    r: float, alpha: float, a: float, b: float, horizon: float
) -> None:
    terms = clv.series_terms(r, alpha, a, b, horizon)
    for frequency in (0, 1, 5, 40):
        for age in (0.0, 3.0, 30.0, 400.0):
            first, second, third = a + b - 1 - r, a - 1, a + b + frequency - 1
            z = horizon / (alpha + age + horizon)
            n = np.arange(terms - 1)
            ratios = (first + n) * (second + n) / ((third + n) * (n + 1)) * z
            summed = 1 + np.cumprod(ratios).sum()
            assert summed == pytest.approx(hyp2f1(first, second, third, z), rel=1e-11)


def test_too_small_an_alpha_is_refused() -> None:
    with pytest.raises(ConfigError, match="series terms"):
        clv.series_terms(0.5, 1e-9, 0.5, 2.0, 365.0)


def _snapshot(rows: int, seed: int) -> pd.DataFrame:
    """Customers whose chance to buy falls with the days since their last order."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: rng.poisson(3, rows).astype(float) for name in CLASSIFIER_FEATURES})
    ordered = rng.random(rows) < 0.7
    days = rng.integers(0, 200, rows).astype(float)
    frame["days_since_last_order"] = pd.Series(np.where(ordered, days, np.nan))
    frame["spend_total"] = rng.gamma(2.0, 40.0, rows).round(2)
    frame["has_ordered"] = ordered
    buys = rng.random(rows) < np.where(ordered, 0.6 * np.exp(-days / 60), 0.05)
    frame["orders_next_30d_count"] = buys.astype(int)
    frame["orders_next_90d_count"] = (buys | (rng.random(rows) < 0.3)).astype(int)
    return frame


@pytest.mark.parametrize("choice", ["logistic_regression", "gradient_boosting"])
def test_an_exported_classifier_gives_the_fitted_models_probabilities(choice: str) -> None:
    training, unseen = _snapshot(2000, 1), _snapshot(500, 2)
    fill = fill_values(training)
    classifier = fit_classifier(PURCHASE, training, fill, seed=0, choice=choice)
    assert classifier.algorithm == choice
    expected = classifier.estimator.predict_proba(
        unseen[list(CLASSIFIER_FEATURES)].fillna(fill).to_numpy(float)
    )[:, 1]
    np.testing.assert_allclose(classifier.probabilities(unseen), expected, rtol=0, atol=1e-12)


def test_boosting_is_chosen_only_when_its_gain_is_clear() -> None:
    # Chance to buy falls steadily with recency: the logistic regression is as good.
    linear = fit_classifier(CHURN, _snapshot(2000, 3), {"days_since_last_order": 201.0}, 0)
    assert set(linear.validation_auc) == {"logistic_regression", "gradient_boosting"}
    assert linear.algorithm == "logistic_regression"
    # Customers buy in a window of recency (a reorder cycle): only trees see it.
    cycle = _snapshot(2000, 5)
    days = cycle["days_since_last_order"].fillna(500)
    rng = np.random.default_rng(5)
    cycle["orders_next_30d_count"] = (
        rng.random(len(cycle)) < np.where((days > 60) & (days < 100), 0.8, 0.1)
    ).astype(int)
    boosted = fit_classifier(PURCHASE, cycle, fill_values(cycle), 0)
    scores = boosted.validation_auc
    assert scores["gradient_boosting"] > scores["logistic_regression"] + 0.05
    assert boosted.algorithm == "gradient_boosting"


def test_best_is_chosen_on_the_earlier_snapshot_scored_one_horizon_later() -> None:
    from sklearn.metrics import roc_auc_score

    from onefold.predictions.classifiers import _boosting, _logistic
    from onefold.predictions.snapshots import feature_matrix

    earlier, training = _snapshot(1500, 6), _snapshot(1500, 7)
    fill = fill_values(training)
    classifier = fit_classifier(PURCHASE, training, fill, 0, validation=earlier)
    assert classifier.selection == "time"
    labels = PURCHASE.labels(training)
    for name, make in (("logistic_regression", _logistic), ("gradient_boosting", _boosting)):
        fitted = make(0).fit(feature_matrix(earlier, fill), PURCHASE.labels(earlier))
        expected = roc_auc_score(labels, fitted.predict_proba(feature_matrix(training, fill))[:, 1])
        assert classifier.validation_auc[name] == pytest.approx(expected)
    # An earlier snapshot without enough buyers: the training snapshot is split instead.
    quiet = earlier.assign(orders_next_30d_count=0)
    assert fit_classifier(PURCHASE, training, fill, 0, validation=quiet).selection == "random"


def test_too_few_positives_are_refused_naming_the_model() -> None:
    training = _snapshot(400, 4)
    training["orders_next_30d_count"] = 0
    training.loc[:5, "orders_next_30d_count"] = 1
    with pytest.raises(ConfigError, match=r"purchase_30d: the training snapshot has 6 customers"):
        fit_classifier(PURCHASE, training, fill_values(training), 0)


def test_too_little_history_before_the_cutoff_is_refused() -> None:
    frame = pd.DataFrame({"age_days": [10, 40, 89]})
    snapshots = Snapshots(frame, frame, frame, dt.date(2026, 5, 1), dt.date(2026, 7, 30), {})
    with pytest.raises(ConfigError, match=r"89 days before it; training needs at least .* 90 days"):
        _check_history(snapshots)


def test_lift_and_capture_count_the_top_tenth() -> None:
    labels = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1] * 2)
    scores = np.arange(20, 0, -1, dtype=float)  # the first two rows rank top
    assert top_decile_lift(labels, scores) == pytest.approx(0.5 / 0.2)
    spend = np.array([50.0, 10.0] + [5.0] * 18)
    assert top_decile_capture(spend, scores) == pytest.approx(60.0 / 150.0)


def test_a_model_no_better_than_its_baseline_gets_an_interval_around_zero() -> None:
    rng = np.random.default_rng(5)
    labels = (rng.random(500) < 0.3).astype(int)
    scores = rng.random(500)

    def mean_score_of_positives(truth: np.ndarray, values: np.ndarray) -> float:
        return float(values[truth == 1].mean())

    gain = bootstrap_difference(mean_score_of_positives, labels, scores, scores, 50, 0)
    assert gain["difference"] == 0 and gain["low"] == 0 and gain["high"] == 0
    better = bootstrap_difference(mean_score_of_positives, labels, scores + labels, scores, 50, 0)
    assert better["low"] > 0.9


def test_calibration_bins_hold_every_row_once() -> None:
    probabilities = np.array([0.05, 0.15, 0.15, 0.95, 1.0])
    bins = calibration(np.array([0, 1, 0, 1, 1]), probabilities)
    assert [b["rows"] for b in bins] == [1, 2, 2]
    assert bins[1]["observed_rate"] == 0.5 and bins[2]["mean_predicted"] == pytest.approx(0.975)


# --------------------------------------------------------------------------- suggestions


def _tastes() -> pd.DataFrame:
    """200 customers: a0..a99 bought a1 and a2 (the first 50 also a3), b0..b99 bought
    b1 and b2, and everyone bought p."""
    rows = []
    for n in range(100):
        rows += [(f"a{n}", "a1"), (f"a{n}", "a2"), (f"a{n}", "p"), (f"b{n}", "b1")]
        rows += [(f"b{n}", "b2"), (f"b{n}", "p")] + ([(f"a{n}", "a3")] if n < 50 else [])
    return pd.DataFrame(rows, columns=["customer_id", "sku"])


def test_similar_products_are_those_the_same_customers_buy() -> None:
    model = suggestions.fit_suggestions(_tastes())
    similarity = {(a, b): s for a, b, s in model.neighbours}
    assert similarity[("a1", "a2")] == 1_000_000  # the same 100 buyers
    assert similarity[("a1", "a3")] == round(1e6 * 50 / (100 * 50) ** 0.5)
    assert similarity[("a1", "p")] == round(1e6 * 100 / (100 * 200) ** 0.5)
    assert ("a1", "b1") not in similarity  # no customer bought both
    assert model.popularity[0] == ("p", 200)
    # A pair fewer than MIN_SUPPORT customers bought is not kept, nor a product.
    few = pd.concat([_tastes(), pd.DataFrame({"customer_id": ["b0"] * 2, "sku": ["a1", "rare"]})])
    pairs = {(a, b) for a, b, _ in suggestions.fit_suggestions(few).neighbours}
    assert ("b1", "a1") not in pairs and all("rare" not in pair for pair in pairs)


def test_suggestions_rank_similar_unbought_products_then_fill_with_popular_ones() -> None:
    model = suggestions.fit_suggestions(_tastes())
    bought = pd.DataFrame({"customer_id": ["x"], "sku": ["a1"]})
    suggested = suggestions.suggest(model, pd.Series(["x", "new"]), bought)
    x = suggested[suggested["customer_id"] == "x"]
    # a3 and p tie on similarity: the more popular p goes first; then popular b1, b2
    assert x["sku"].tolist() == ["a2", "p", "a3", "b1", "b2"]
    assert x["basis"].tolist() == ["co_occurrence"] * 3 + ["popularity"] * 2
    assert x["score"].tolist() == pytest.approx([1.0, 0.707107, 0.707107, 0, 0])
    assert x["suggestion_rank"].tolist() == [1, 2, 3, 4, 5]
    new = suggested[suggested["customer_id"] == "new"]
    assert new["sku"].tolist() == ["p", "a1", "a2", "b1", "b2"]  # popularity, then SKU
    baseline = suggestions.suggest(model.popular_only(), pd.Series(["x"]), bought)
    assert baseline["sku"].tolist() == ["p", "a2", "b1", "b2", "a3"]  # never what x bought


def _bestsellers() -> pd.DataFrame:
    """150 more customers, who each bought z1 … z6: the most popular products."""
    rows = [(f"z{n}", f"z{i}") for n in range(150) for i in range(1, 7)]
    return pd.concat([_tastes(), pd.DataFrame(rows, columns=["customer_id", "sku"])])


def _lines_over_time(after_cutoff: list[tuple[str, str]]) -> pd.DataFrame:
    before = _bestsellers().assign(ordered_at=pd.Timestamp("2026-05-01"))
    later = pd.DataFrame(after_cutoff, columns=["customer_id", "sku"])
    return pd.concat([before, later.assign(ordered_at=pd.Timestamp("2026-08-15"))])


def test_suggestions_are_fitted_before_the_holdout_cutoff_and_measured_after() -> None:
    customers = pd.DataFrame({"customer_id": _bestsellers()["customer_id"].unique()})
    snapshots = Snapshots(
        customers, customers, customers, dt.date(2026, 5, 10), dt.date(2026, 8, 8), {}
    )
    # In the horizon, the a-customers without a3 buy it; the b-customers something new.
    later = [(f"a{n}", "a3") for n in range(50, 100)] + [(f"b{n}", "a1") for n in range(30)]
    trained = _train_suggestions(_lines_over_time(later), snapshots, 0, 50, None)
    assert trained.parameters == suggestions.fit_suggestions(_bestsellers()).as_dict()
    metrics = trained.metrics
    assert metrics["rows"] == 80 and metrics["k"] == 5
    # Co-occurrence suggests a3 to the a-customers (through a1 and a2) and a1 to the
    # b-customers (through p); popularity suggests z1 … z5 to everyone.
    assert metrics["model"]["hit_rate_at_k"] == 1.0
    assert metrics["baseline"]["hit_rate_at_k"] == 0.0
    assert metrics["beats_baseline"]
    assert metrics["with_history"] == {
        "rows": 80,
        "model_hit_rate_at_k": 1.0,
        "baseline_hit_rate_at_k": 0.0,
    }
    # What happens after the cutoff never reaches the parameters.
    other = _train_suggestions(
        _lines_over_time(later + [(f"a{n}", "b1") for n in range(100)]), snapshots, 0, 50, None
    )
    assert other.parameters == trained.parameters
    with pytest.raises(ConfigError, match=r"top_products: 3 customers bought a product new"):
        _train_suggestions(_lines_over_time(later[:3]), snapshots, 0, 50, None)


# --------------------------------------------------------------------------- lookalikes


def _segment_world() -> tuple[lookalikes.Membership, Snapshots]:
    """VIPs are the top fifth by spend; after the cutoff, half of the next fifth join."""
    frame = _snapshot(1500, 8)
    frame["customer_id"] = [f"c{n:04d}" for n in range(len(frame))]
    rank = frame["spend_total"].rank(pct=True)
    rng = np.random.default_rng(8)
    vip_then = rank > 0.8
    joins = ~vip_then & (rng.random(len(frame)) < np.where(rank > 0.6, 0.5, 0.02))
    entered = pd.Timestamp("2026-01-05")
    spells = pd.concat(
        [
            pd.DataFrame({"customer_id": frame["customer_id"][vip_then], "entered_at": entered}),
            pd.DataFrame(
                {
                    "customer_id": frame["customer_id"][joins],
                    "entered_at": pd.Timestamp("2026-10-01"),
                }
            ),
        ]
    ).assign(exited_at=pd.NaT)
    members = set(spells["customer_id"])
    membership = lookalikes.Membership("vip", members, spells, dt.datetime(2026, 1, 5))
    snapshots = Snapshots(frame, frame, frame, dt.date(2026, 5, 10), dt.date(2026, 8, 8), {})
    return membership, snapshots


def test_a_lookalike_is_measured_on_who_joined_the_segment_after_the_cutoff() -> None:
    membership, snapshots = _segment_world()
    then = membership.members_at(dt.datetime(2026, 8, 8))
    assert len(then) == 300 and then < membership.members
    current = snapshots.holdout
    classifier = lookalikes.fit_lookalike(membership, current, 0, "logistic_regression")
    assert classifier.model_name == "lookalike__vip"
    metrics = lookalikes.evaluate_lookalike(membership, classifier, snapshots, 0, 50)
    assert metrics["evaluated"] is True
    assert metrics["rows"] == 1500 - 300 and metrics["positives"] == len(membership.members) - 300
    assert metrics["model"]["auc"] > 0.8 and metrics["beats_baseline"]
    # A history that starts after the cutoff cannot say who was a member then.
    late = lookalikes.Membership(
        "vip", membership.members, membership.spells, dt.datetime(2026, 9, 1)
    )
    unmeasured = lookalikes.evaluate_lookalike(late, classifier, snapshots, 0, 50)
    assert unmeasured["evaluated"] is False
    assert "starts 2026-09-01, after the holdout cutoff 2026-08-08" in unmeasured["reason"]
    assert "possible from 2026-11-30" in unmeasured["reason"]


def test_a_lookalike_needs_enough_members() -> None:
    membership, snapshots = _segment_world()
    few = lookalikes.Membership("vip", set(sorted(membership.members)[:5]), membership.spells, None)
    with pytest.raises(
        ConfigError, match=r"lookalike__vip: .* 5 customers with membership of segment vip"
    ):
        lookalikes.fit_lookalike(few, snapshots.holdout, 0, "best")
