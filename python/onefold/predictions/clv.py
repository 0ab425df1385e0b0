"""Predicted CLV and probability alive: BG/NBD (Fader, Hardie and Lee 2005) for how
many days a customer will order on, Gamma-Gamma for what they spend on such a day,
both fitted by the `lifetimes` package on daily periods.

The SQL side (models/marts/predictions/customer_predictions.sql) scores with the
parameters stored here. BG/NBD's conditional expectation holds a Gauss hypergeometric
function; SQL sums its series, so training also stores how many terms are enough for
every customer (`series_terms`).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from onefold.errors import ConfigError

#: The model's name in prediction_models and its algorithm.
MODEL_NAME = "clv_365d"
ALGORITHM = "bg_nbd_gamma_gamma"
#: Days ahead predicted_clv_365d looks.
CLV_DAYS = 365
#: Fewest repeat buyers (frequency > 0 with spend) Gamma-Gamma is fitted on.
MIN_REPEAT_BUYERS = 20
#: The series is summed until what is left is below this share of the sum.
SERIES_TOLERANCE = 1e-13
MAX_SERIES_TERMS = 100_000


@dataclass(frozen=True)
class ClvParameters:
    r: float
    alpha: float
    a: float
    b: float
    p: float
    q: float
    v: float
    horizon_days: int
    series_terms: int
    #: the penalizers the fits took (PENALIZERS)
    bgnbd_penalizer: float = 0.0
    gamma_penalizer: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def buyers(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows BG/NBD describes: customers with an order before the cutoff."""
    return frame[frame["has_ordered"].astype(bool)]


def fit_clv(frame: pd.DataFrame, horizon_days: int = CLV_DAYS) -> ClvParameters:
    """BG/NBD on every buyer's (frequency, recency, age); Gamma-Gamma on the repeat
    buyers' mean spend. ConfigError when the data cannot support them."""
    from lifetimes import GammaGammaFitter

    fitted = buyers(frame)
    if len(fitted) < MIN_REPEAT_BUYERS:
        raise ConfigError(
            f"{MODEL_NAME}: {len(fitted)} customers with an order before the training cutoff; "
            f"BG/NBD needs at least {MIN_REPEAT_BUYERS}."
        )
    repeat = fitted[(fitted["frequency"] > 0) & (fitted["monetary_value"] > 0)]
    if len(repeat) < MIN_REPEAT_BUYERS:
        raise ConfigError(
            f"{MODEL_NAME}: {len(repeat)} customers ordered on more than one day before the "
            f"training cutoff; Gamma-Gamma needs at least {MIN_REPEAT_BUYERS}: load more history."
        )
    r, alpha, a, b, bgnbd_penalizer = fit_bgnbd(
        fitted["frequency"], fitted["recency_days"], fitted["age_days"]
    )
    gamma, gamma_penalizer = _fit_penalized(
        GammaGammaFitter,
        (_floats(repeat["frequency"]), _floats(repeat["monetary_value"])),
        "Gamma-Gamma",
        f"{len(repeat):,} repeat buyers (their mean spend per day with an order barely "
        "differs between customers)",
    )
    p, q, v = (float(gamma.params_[name]) for name in ("p", "q", "v"))
    if q <= 1:
        raise ConfigError(
            f"{MODEL_NAME}: Gamma-Gamma fitted q = {q:.3f}; the mean spend it implies is "
            "infinite for q <= 1 (spend too heavy-tailed for this model)."
        )
    if abs(a - 1) < 1e-9:
        raise ConfigError(f"{MODEL_NAME}: BG/NBD fitted a = 1, where its expectation is undefined.")
    terms = series_terms(r, alpha, a, b, horizon_days)
    return ClvParameters(
        r, alpha, a, b, p, q, v, horizon_days, terms, bgnbd_penalizer, gamma_penalizer
    )


def fit_bgnbd(
    frequency: pd.Series, recency: pd.Series, age: pd.Series
) -> tuple[float, float, float, float, float]:
    """BG/NBD's (r, alpha, a, b) by maximum likelihood (`lifetimes`), in the inputs' time
    unit, and the penalizer it took (see _fit_penalized)."""
    from lifetimes import BetaGeoFitter

    fitter, penalizer = _fit_penalized(
        BetaGeoFitter,
        (_floats(frequency), _floats(recency), _floats(age)),
        "BG/NBD",
        f"{len(frequency):,} buyers (the data shows no sign of customers who stop buying, "
        "or too little history)",
    )
    r, alpha, a, b = (float(fitter.params_[name]) for name in ("r", "alpha", "a", "b"))
    return r, alpha, a, b, penalizer


#: lifetimes' advice when a fit does not converge is a small penalty on the parameters'
#: size: tried in this order, the first that converges is kept (and stored).
PENALIZERS = (0.0, 0.001, 0.01)


def _fit_penalized(
    make: Any, inputs: tuple[pd.Series, ...], model: str, on: str
) -> tuple[Any, float]:
    from lifetimes.utils import ConvergenceError

    for penalizer in PENALIZERS:
        fitter = make(penalizer_coef=penalizer)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")  # lifetimes' own deprecation chatter
            try:
                fitter.fit(*inputs)
            except ConvergenceError:
                continue
        return fitter, penalizer
    raise ConfigError(
        f"{MODEL_NAME}: {model} did not converge on {on}, even with a penalizer of "
        f"{PENALIZERS[-1]}."
    )


def series_terms(r: float, alpha: float, a: float, b: float, horizon_days: float) -> int:
    """Terms of 2F1(a+b-1-r, a-1; a+b+x-1; z) enough for every customer: the slowest
    series is a frequency of 0 at age 0 (smallest c, largest z = t / (alpha + t)).
    Summed until the tail, bounded geometrically, is below SERIES_TOLERANCE of the sum."""
    first, second, third = a + b - 1 - r, a - 1, a + b - 1
    z = horizon_days / (alpha + horizon_days)
    term, total = 1.0, 1.0
    for n in range(MAX_SERIES_TERMS):
        ratio = (first + n) * (second + n) / ((third + n) * (n + 1)) * z
        term *= ratio
        total += term
        bound = max(abs(ratio), z)
        if bound < 1 and abs(term) * bound / (1 - bound) < SERIES_TOLERANCE * abs(total):
            return n + 2
    raise ConfigError(
        f"{MODEL_NAME}: BG/NBD fitted alpha = {alpha:.4g} days, so small that scoring "
        f"{horizon_days} days ahead in SQL needs over {MAX_SERIES_TERMS:,} series terms."
    )


@dataclass(frozen=True)
class ClvScores:
    p_alive: np.ndarray
    predicted_purchases: np.ndarray
    expected_order_value: np.ndarray

    @property
    def predicted_value(self) -> np.ndarray:
        return np.asarray(self.predicted_purchases * self.expected_order_value, dtype=float)


def score_clv(
    parameters: ClvParameters, frame: pd.DataFrame, days: float | None = None
) -> ClvScores:
    """`lifetimes`' own formulas with these parameters, `days` ahead (default the
    parameters' horizon), for every row (buyers only: BG/NBD's inputs)."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    bgnbd = BetaGeoFitter()
    bgnbd.params_ = pd.Series(
        {"r": parameters.r, "alpha": parameters.alpha, "a": parameters.a, "b": parameters.b}
    )
    gamma = GammaGammaFitter()
    gamma.params_ = pd.Series({"p": parameters.p, "q": parameters.q, "v": parameters.v})
    frequency, recency, age = (
        _floats(frame[name]) for name in ("frequency", "recency_days", "age_days")
    )
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        alive = np.asarray(bgnbd.conditional_probability_alive(frequency, recency, age), float)
        purchases = np.asarray(
            bgnbd.conditional_expected_number_of_purchases_up_to_time(
                parameters.horizon_days if days is None else days, frequency, recency, age
            ),
            float,
        )
        value = np.asarray(
            gamma.conditional_expected_average_profit(frequency, _floats(frame["monetary_value"])),
            float,
        )
    return ClvScores(alive, purchases, value)


def _floats(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values).astype("float64")
