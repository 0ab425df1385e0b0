"""Lookalike audiences: a classifier of a segment's members against everyone else,
scoring the non-members (docs/predictions.md, "Lookalikes").

`onefold train --lookalike SEGMENT` fits it on today's features
(int_customer_features_current) and today's members (segment_memberships), profiling
allowed only, with the propensity models' candidates and export, and stores it as
model `lookalike__<segment>`; customer_lookalikes scores every non-member in SQL.

Measured over time, like every model here: a model fitted on the holdout snapshot's
features and the members at the holdout cutoff (segment_membership_history) ranks
that cutoff's non-members, and the ones who joined by now are the positives. This
needs the history to reach back to the cutoff (segment_sizes holds each run): until
it does, the model is stored with `evaluated: false` and the date it will be.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from onefold.errors import ConfigError
from onefold.predictions.classifiers import (
    MIN_CLASS_ROWS,
    Classifier,
    Target,
    fit_classifier,
    has_classes,
)
from onefold.predictions.evaluation import evaluate_classifier
from onefold.predictions.snapshots import Snapshots, fill_values, recency_baseline
from onefold.project import DbtProject
from onefold.sql import literal
from onefold.warehouse import Warehouse

MODEL_PREFIX = "lookalike__"
CURRENT_FEATURES_MODEL = "int_customer_features_current"


def model_name(segment: str) -> str:
    return f"{MODEL_PREFIX}{segment}"


@dataclass(frozen=True)
class SegmentTarget(Target):
    """Membership of one segment (`is_member` in the frame), for every customer."""

    def labels(self, frame: pd.DataFrame) -> np.ndarray:
        return frame["is_member"].astype(bool).to_numpy(int)


def segment_target(segment: str) -> SegmentTarget:
    return SegmentTarget(model_name(segment), f"membership of segment {segment}", False)


@dataclass(frozen=True)
class Membership:
    """A segment's members now, its spells, and the first run that evaluated it."""

    segment: str
    members: set[str]
    spells: pd.DataFrame  # customer_id, entered_at, exited_at
    history_starts: dt.datetime | None

    def members_at(self, instant: dt.datetime) -> set[str]:
        entered = pd.to_datetime(self.spells["entered_at"]) <= pd.Timestamp(instant)
        exited = pd.to_datetime(self.spells["exited_at"])
        open_then = entered & (exited.isna() | (exited > pd.Timestamp(instant)))
        return set(self.spells.loc[open_then, "customer_id"])


def load_membership(warehouse: Warehouse, project: DbtProject, segment: str) -> Membership:
    definitions, memberships, history, sizes = project.require(
        warehouse,
        "segment_definitions",
        "segment_memberships",
        "segment_membership_history",
        "segment_sizes",
    )
    declared = sorted(row[0] for row in warehouse.query(f"select segment_name from {definitions}"))
    if segment not in declared:
        raise ConfigError(
            f"{model_name(segment)}: no segment {segment!r} is declared "
            f"(onefold__segments has {', '.join(declared) or 'none'})."
        )
    named = f"where segment_name = {literal(segment)}"
    members = {row[0] for row in warehouse.query(f"select customer_id from {memberships} {named}")}
    spells = warehouse.query_df(f"select customer_id, entered_at, exited_at from {history} {named}")
    ((starts,),) = warehouse.query(f"select min(measured_at) from {sizes} {named}")
    return Membership(segment, members, spells, starts)


def with_membership(features: pd.DataFrame, members: set[str]) -> pd.DataFrame:
    return features.assign(is_member=features["customer_id"].isin(members))


def fit_lookalike(
    membership: Membership, current: pd.DataFrame, seed: int, choice: str
) -> Classifier:
    """Members against non-members on today's features (profiling allowed)."""
    frame = with_membership(current, membership.members)
    return fit_classifier(
        segment_target(membership.segment), frame, fill_values(frame), seed, choice
    )


def evaluate_lookalike(
    membership: Membership,
    classifier: Classifier,
    snapshots: Snapshots,
    seed: int,
    resamples: int,
) -> dict[str, Any]:
    """Fitted on the holdout snapshot and the members at its cutoff; measured on that
    cutoff's non-members, the positives being those who are members at the last run."""
    cutoff = dt.datetime.combine(snapshots.holdout_cutoff, dt.time())
    if membership.history_starts is None:
        return {
            "evaluated": False,
            "reason": f"segment {membership.segment} has no membership history yet",
        }
    starts = pd.Timestamp(membership.history_starts)
    if starts > pd.Timestamp(cutoff):
        ready = (starts + pd.Timedelta(days=snapshots.horizon_days)).date()
        return {
            "evaluated": False,
            "reason": (
                f"segment {membership.segment}'s membership history starts "
                f"{starts.date().isoformat()}, after the holdout cutoff "
                f"{snapshots.holdout_cutoff}: a time-split evaluation needs who was a member "
                f"then; possible from {ready.isoformat()}"
            ),
        }
    then = with_membership(snapshots.holdout, membership.members_at(cutoff))
    past = fit_classifier(
        segment_target(membership.segment), then, fill_values(then), seed, classifier.algorithm
    )
    outside = then[~then["is_member"]].reset_index(drop=True)
    joined = outside["customer_id"].isin(membership.members).to_numpy(int)
    if not has_classes(joined):
        return {
            "evaluated": False,
            "reason": (
                f"{int(joined.sum())} of the {len(joined)} non-members at the holdout cutoff "
                f"{snapshots.holdout_cutoff} joined segment {membership.segment} by now; a "
                f"time-split evaluation needs at least {MIN_CLASS_ROWS} who did and who did not"
            ),
        }
    recency = recency_baseline(outside, past.parameters["fill"])
    metrics = evaluate_classifier(
        joined, past.probabilities(outside), recency, "recency", resamples, seed
    )
    return {"evaluated": True, **metrics}
