"""`onefold train`: a few lines over onefold.predictions.train.train."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from onefold import cli_common
from onefold.cli_common import ProjectOptions, console, json_option, project_options, reports_errors
from onefold.predictions.classifiers import ALGORITHMS, BEST
from onefold.predictions.train import MODEL_NAMES, TrainResult


@click.command()
@project_options
@json_option
@click.option(
    "--model",
    "models",
    multiple=True,
    type=click.Choice(MODEL_NAMES),
    help="Train only this model (repeatable) [default: all whose input is built, unless "
    "--lookalike is given].",
)
@click.option(
    "--lookalike",
    "segments",
    multiple=True,
    metavar="SEGMENT",
    help="Also train a lookalike model of this segment: members against everyone else "
    "(repeatable; stored as lookalike__SEGMENT, scored by customer_lookalikes).",
)
@click.option(
    "--classifier",
    type=click.Choice((BEST, *ALGORITHMS)),
    default=BEST,
    show_default=True,
    help="Propensity models: boosting when it clearly beats logistic regression on "
    "validation, or this one.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Splits and bootstrap.")
@click.option(
    "--bootstrap",
    "resamples",
    type=click.IntRange(min=20),
    default=200,
    show_default=True,
    help="Resamples for the 95% interval of each model's gain over its baseline.",
)
@click.option("--dry-run", is_flag=True, help="Fit and evaluate, store nothing.")
@reports_errors
def train(
    project: ProjectOptions,
    as_json: bool,
    models: tuple[str, ...],
    segments: tuple[str, ...],
    classifier: str,
    seed: int,
    resamples: int,
    dry_run: bool,
) -> None:
    """Fit the predictive models on the feature snapshots `dbt build` computed, report
    holdout metrics beside the baselines, and store each as its next version in
    prediction_models; the next `dbt build` scores every customer with them in SQL.

    Exits 2, storing nothing, when a model cannot be trained (too few positives, too
    little history, predictions off), naming the model and why."""
    from onefold.predictions.train import train as run_training

    located = project.locate()
    with (
        located.connection(detachable=True) as warehouse,
        cli_common.progress("train", as_json) as step,
    ):
        result = run_training(
            warehouse,
            located,
            models or None,
            seed=seed,
            resamples=resamples,
            classifier=classifier,
            store=not dry_run,
            progress=step,
            lookalike_segments=segments,
        )
    if as_json:
        click.echo(json.dumps({**result.as_dict(), "stored": not dry_run}, indent=2))
        return
    _print(result, dry_run)


def _print(result: TrainResult, dry_run: bool) -> None:
    console.print(
        f"Trained on the snapshot of {result.training_cutoff} ({result.training_rows:,} "
        f"customers), measured on {result.holdout_cutoff} ({result.holdout_rows:,}), "
        f"{result.horizon_days}-day horizon; left out for consent or erasure: "
        f"{result.excluded['training']:,} and {result.excluded['holdout']:,}.",
        highlight=False,
    )
    table = Table("model", "algorithm", "metric", "model", "baseline", "gain (95% interval)")
    for name, model in result.models.items():
        metrics = model.metrics
        if metrics.get("evaluated") is False:
            rows = [("members", float(metrics["members"]), None)]
            gain = escape(f"not evaluated: {metrics['reason']}")
        elif "auc_over_baseline" in metrics:
            rows = [
                (m, metrics["model"][m], metrics["baseline"][m])
                for m in ("auc", "pr_auc", "top_decile_lift")
            ]
            rows.append(("brier", metrics["model"]["brier"], None))
            gain = _gain("auc", metrics["auc_over_baseline"], 1, metrics)
        elif "hit_rate_over_baseline" in metrics:
            rows = [("hit_rate_at_k", metrics["model"]["hit_rate_at_k"],
                     metrics["baseline"]["hit_rate_at_k"])]  # fmt: skip
            gain = _gain(
                f"hit rate at {metrics['k']}", metrics["hit_rate_over_baseline"], 1, metrics
            )
        else:
            rows = [
                (m, metrics["model"][m], metrics["baseline"][m])
                for m in ("spearman", "mean_absolute_error", "total_error", "top_decile_capture")
            ]
            # stored as the error's reduction; shown as the change in the error
            gain = _gain(
                "mean_absolute_error", metrics["error_reduction_over_baseline"], -1, metrics
            )
        for position, (metric, value, baseline) in enumerate(rows):
            table.add_row(
                escape(name) if position == 0 else "",
                model.algorithm if position == 0 else "",
                metric,
                f"{value:,.0f}" if metric == "members" else f"{value:.4f}",
                "" if baseline is None else f"{baseline:.4f}",
                gain if position == 0 else "",
            )
    console.print(table)
    for skipped in result.skipped.values():
        console.print(f"Skipped {escape(skipped)}", highlight=False)
    for name, model in result.models.items():
        optimum = model.metrics.get("truth_optimum")
        if optimum and "optimum_hit_rate" in optimum:
            console.print(
                f"{name} on the {optimum['rows']:,} customers with a shop account, hit rate: "
                f"model {optimum['model_hit_rate']:.4f}, baseline "
                f"{optimum['baseline_hit_rate']:.4f}, truth-based optimum "
                f"{optimum['optimum_hit_rate']:.4f} (generated data's favourite categories)",
                highlight=False,
            )
        elif optimum:
            console.print(
                f"{name} on the {optimum['rows']:,} customers with a shop account, AUC: "
                f"model {optimum['model_auc']:.4f}, baseline {optimum['baseline_auc']:.4f}, "
                f"truth-based optimum {optimum['optimum_auc']:.4f} (generated data's latent "
                "purchase rates and dropouts)",
                highlight=False,
            )
    if dry_run:
        console.print("Dry run: nothing stored.")
    else:
        stored = ", ".join(f"{name} v{version}" for name, version in result.versions.items())
        console.print(f"Stored {stored}. Run `dbt build` to score customers with them.")


def _gain(metric: str, gain: dict[str, Any], sign: int, metrics: dict[str, Any]) -> str:
    low, high = sorted((sign * gain["low"], sign * gain["high"]))
    verdict = "beats" if metrics["beats_baseline"] else "does not beat"
    return (
        f"{metric} {sign * gain['difference']:+.4f} ({low:+.4f} to {high:+.4f}); "
        f"{verdict} {metrics['baseline']['name']}"
    )
