"""Purchase propensity on CDNOW's time split, beside the recency baseline (issue #17).

The CDNOW cohort (`CDNOW_master.txt`, shipped by `lifetimes`: 23,570 customers who
first bought in the first quarter of 1997, every purchase to June 1998) is cut at the
end of the 39-week calibration period that Fader, Hardie and Lee (2005) used. Features
as of the cut; label: any purchase in the 39 weeks after it. Scores on every customer:

- recency: days since the last purchase (more recent ranks higher);
- BG/NBD, fitted by Onefold's `fit_bgnbd` on the calibration period in days: the
  expected number of purchases in the holdout weeks (`lifetimes`' formula, the one
  customer_predictions computes in SQL).

Reports AUC and top-decile lift for each, and the BG/NBD parameters.

    .venv/bin/python benchmarks/predictions_cdnow.py [--json]
"""

from __future__ import annotations

import json
import os
import platform
import time
from importlib import resources

import click
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from onefold.predictions import clv
from onefold.predictions.evaluation import top_decile_lift

CALIBRATION_END = pd.Timestamp("1997-09-30")
HOLDOUT_END = pd.Timestamp("1998-06-30")


def load_transactions() -> pd.DataFrame:
    path = resources.files("lifetimes.datasets") / "CDNOW_master.txt"
    with resources.as_file(path) as file:
        frame = pd.read_csv(
            file,
            sep=r"\s+",
            header=None,
            skiprows=1,
            names=["customer_id", "date", "cds", "dollars"],
            dtype={"customer_id": str, "date": str},
        )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def split(transactions: pd.DataFrame) -> pd.DataFrame:
    """Per customer: BG/NBD's inputs in days at the cut, and the holdout label."""
    calibration = transactions[transactions["date"] <= CALIBRATION_END]
    days = (
        calibration.groupby(["customer_id", "date"]).size().reset_index()[["customer_id", "date"]]
    )
    first = days.groupby("customer_id")["date"].min()
    last = days.groupby("customer_id")["date"].max()
    summary = pd.DataFrame(
        {
            "frequency": days.groupby("customer_id").size() - 1,
            "recency_days": (last - first).dt.days,
            "age_days": (CALIBRATION_END + pd.Timedelta(days=1) - first).dt.days,
            "days_since_last": (CALIBRATION_END + pd.Timedelta(days=1) - last).dt.days,
        }
    )
    later = transactions[
        (transactions["date"] > CALIBRATION_END) & (transactions["date"] <= HOLDOUT_END)
    ]
    summary["bought"] = summary.index.isin(later["customer_id"]).astype(int)
    return summary


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def main(as_json: bool) -> None:
    started = time.perf_counter()
    summary = split(load_transactions())
    fitted_at = time.perf_counter()
    r, alpha, a, b, penalizer = clv.fit_bgnbd(
        summary["frequency"], summary["recency_days"], summary["age_days"]
    )
    fit_seconds = time.perf_counter() - fitted_at
    horizon = (HOLDOUT_END - CALIBRATION_END).days
    parameters = clv.ClvParameters(r, alpha, a, b, 1.0, 2.0, 1.0, horizon, 1, penalizer)
    expected = clv.score_clv(parameters, summary.assign(monetary_value=0.0)).predicted_purchases
    labels = summary["bought"].to_numpy()
    recency = -summary["days_since_last"].to_numpy(float)
    result = {
        "customers": len(summary),
        "bought_in_holdout": int(labels.sum()),
        "holdout_days": horizon,
        "bg_nbd": {"r": r, "alpha": alpha, "a": a, "b": b, "penalizer": penalizer},
        "fit_seconds": round(fit_seconds, 2),
        "recency": {
            "auc": float(roc_auc_score(labels, recency)),
            "top_decile_lift": top_decile_lift(labels, recency),
        },
        "bg_nbd_expected_purchases": {
            "auc": float(roc_auc_score(labels, expected)),
            "top_decile_lift": top_decile_lift(labels, expected),
        },
        "seconds": round(time.perf_counter() - started, 2),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(
        f"CDNOW: {result['customers']:,} customers, {result['bought_in_holdout']:,} bought in "
        f"the {horizon} holdout days"
    )
    for name in ("recency", "bg_nbd_expected_purchases"):
        scores = result[name]
        click.echo(
            f"  {name:<26} AUC {scores['auc']:.3f}  top-decile lift {scores['top_decile_lift']:.2f}"
        )
    click.echo(
        f"  BG/NBD (days) r={r:.3f} alpha={alpha:.2f} a={a:.3f} b={b:.3f}, "
        f"fitted in {fit_seconds:.1f}s"
    )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
