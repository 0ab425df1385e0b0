"""The feature snapshots `dbt build` computes (`customer_feature_snapshots`), read for
training: three cutoffs one horizon apart. Candidate classifiers fitted on the first
(validation) are compared on the second; the models are fitted on the second
(training) and measured on the third (holdout). Customers whose consent does not allow
profiling, or with an erasure request, are left out (`is_profiling_allowed`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from onefold.errors import ConfigError
from onefold.project import DbtProject
from onefold.warehouse import Warehouse

SNAPSHOTS_MODEL = "customer_feature_snapshots"
#: The snapshots' cutoffs, earliest first.
ROLES = ("validation", "training", "holdout")

#: The columns the classifiers read (customer_features in macros/predictions).
CLASSIFIER_FEATURES = (
    "orders_count",
    "spend_total",
    "frequency",
    "recency_days",
    "age_days",
    "monetary_value",
    "days_since_last_order",
    "orders_90d_count",
    "spend_90d",
    "web_sessions_count",
    "web_sessions_30d_count",
    "web_sessions_90d_count",
    "email_events_count",
    "email_opens_90d_count",
    "email_clicks_90d_count",
)


@dataclass(frozen=True)
class Snapshots:
    """The validation, training and holdout rows, profiling allowed only."""

    validation: pd.DataFrame
    training: pd.DataFrame
    holdout: pd.DataFrame
    training_cutoff: dt.date
    holdout_cutoff: dt.date
    #: profiled rows left out (consent or an erasure request), per snapshot
    excluded: dict[str, int]

    @property
    def horizon_days(self) -> int:
        """The label window after each cutoff: the snapshots are one horizon apart."""
        return (self.holdout_cutoff - self.training_cutoff).days


def load_snapshots(warehouse: Warehouse, project: DbtProject) -> Snapshots:
    (relation,) = project.require(warehouse, SNAPSHOTS_MODEL)
    frame = warehouse.query_df(f"select * from {relation}")
    cutoffs = sorted({_as_date(value) for value in frame["cutoff_date"]})
    if len(cutoffs) != len(ROLES):
        raise ConfigError(
            f"{relation} holds {len(cutoffs)} cutoffs, not {len(ROLES)} "
            f"({', '.join(ROLES)}): set "
            "onefold__predictions: {enabled: true} in dbt_project.yml and run `dbt build` "
            f"in {project.project_dir}."
        )
    frame["cutoff_date"] = frame["cutoff_date"].map(_as_date)
    allowed = frame["is_profiling_allowed"].astype(bool)
    parts = {}
    excluded = {}
    for role, cutoff in zip(ROLES, cutoffs, strict=True):
        rows = frame["cutoff_date"] == cutoff
        parts[role] = frame[rows & allowed].sort_values("customer_id").reset_index(drop=True)
        excluded[role] = int((rows & ~allowed).sum())
    return Snapshots(
        parts["validation"], parts["training"], parts["holdout"], cutoffs[1], cutoffs[2], excluded
    )


def feature_matrix(frame: pd.DataFrame, fill: dict[str, float]) -> np.ndarray:
    """The classifier features as floats, nulls filled as training filled them."""
    columns = []
    for name in CLASSIFIER_FEATURES:
        values = pd.to_numeric(frame[name], errors="raise").astype("float64")
        columns.append(values.fillna(fill.get(name, np.nan)).to_numpy())
    matrix = np.column_stack(columns) if columns else np.empty((len(frame), 0))
    if np.isnan(matrix).any():
        missing = [
            name
            for name, col in zip(CLASSIFIER_FEATURES, columns, strict=True)
            if np.isnan(col).any()
        ]
        raise ConfigError(f"features {', '.join(missing)} have nulls training did not fill.")
    return matrix


def fill_values(frame: pd.DataFrame) -> dict[str, float]:
    """What a null feature means to the classifiers: a customer without an order is
    one day further from their last order than anyone trained on."""
    days = pd.to_numeric(frame["days_since_last_order"]).astype("float64")
    longest = float(days.max()) if days.notna().any() else 0.0
    return {"days_since_last_order": longest + 1.0}


def recency_baseline(frame: pd.DataFrame, fill: dict[str, float]) -> np.ndarray:
    """The skeptic's score: the more recent the last order, the higher; a customer who
    never ordered counts as longest ago (the classifier's fill)."""
    days = pd.to_numeric(frame["days_since_last_order"]).astype("float64")
    return np.asarray(-days.fillna(fill["days_since_last_order"]).to_numpy(), dtype=np.float64)


def _as_date(value: object) -> dt.date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
