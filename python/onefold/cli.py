"""The `onefold` command: a thin click layer over the library.

Exit codes: 0 ok, 1 some records failed, 2 bad usage or configuration.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from onefold import __version__, cli_common
from onefold.cli_common import (
    OnefoldGroup,
    PlotOptions,
    ProjectOptions,
    console,
    json_option,
    plot_options,
    project_options,
    report_plots,
    reports_errors,
)
from onefold.console.cli import console_command
from onefold.erasure.cli import erase
from onefold.errors import OnefoldError
from onefold.predictions.cli import train
from onefold.sync.cli import sync

if TYPE_CHECKING:
    from onefold.summary import SummaryReport


@click.group(cls=OnefoldGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="onefold")
def main() -> None:
    """Onefold: one trustworthy customer view from the data already in your warehouse."""


@main.command()
@project_options
@click.option(
    "--persons",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="How many distinct people to simulate.",
)
@click.option(
    "--seed",
    type=int,
    default=42,
    show_default=True,
    help="Random seed: the same seed and end date give the same data.",
)
@click.option(
    "--end-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of simulated activity (default: today, UTC).",
)
@click.option(
    "--days",
    type=click.IntRange(min=7),
    default=365,
    show_default=True,
    help="How many days of history to simulate.",
)
@click.option(
    "--chunk-shards",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Shards of 10,000 persons generated before their rows are written: memory "
    "grows with it (about 0.5 GB per shard); the data does not change.",
)
@json_option
@reports_errors
def generate(
    project: ProjectOptions,
    persons: int,
    seed: int,
    end_date: dt.datetime | None,
    days: int,
    chunk_shards: int,
    as_json: bool,
) -> None:
    """Write a realistic multi-source demo warehouse into the `raw` schema of the target.

    Also writes the ground truth (which person owns each record, which noise was
    injected where) into `raw_truth`, which no model reads. People are generated and
    written in shards of 10,000, so any number fits in bounded memory; the same seed,
    end date and days give the same bytes. Shows progress on a terminal.
    """
    from onefold.generator import GeneratorConfig, generate_demo_data

    config = GeneratorConfig(
        persons=persons,
        seed=seed,
        end_date=(end_date.date() if end_date else dt.datetime.now(dt.UTC).date()),
        days=days,
    )
    started = time.perf_counter()
    with (
        project.open() as (located, warehouse),
        cli_common.progress("generate", as_json) as step,
    ):
        report = generate_demo_data(warehouse, config, progress=step, chunk_shards=chunk_shards)
    elapsed = time.perf_counter() - started
    if as_json:
        document = {
            "target": located.target.name,
            "persons": persons,
            "seed": seed,
            "end_date": config.end_date.isoformat(),
            "days": days,
            "seconds": round(elapsed, 3),
            "row_counts": report.row_counts,
            "truth_row_counts": report.truth_row_counts,
            "noise_counts": report.noise_counts,
        }
        click.echo(json.dumps(document, indent=2))
        return
    console.print(
        f"Generated {persons:,} persons (seed {seed}) into target {located.target.name} "
        f"in {elapsed:.1f}s"
    )
    for table, rows in report.row_counts.items():
        console.print(f"  raw.{table:<20} {rows:>10,} rows")


@main.command()
@project_options
@plot_options
@json_option
@reports_errors
def summary(project: ProjectOptions, plot: PlotOptions, as_json: bool) -> None:
    """Rows per source: raw, staged, quarantined (with reasons), deduplicated; segment
    sizes and activation rows; build time.

    Exits 1 when a source's raw rows are not all accounted for. Shows progress on a
    terminal."""
    from onefold import summary as summaries

    located = project.locate()
    with cli_common.progress("summary", as_json) as step:
        report = summaries.collect_summary(located, progress=step)
    problem = (
        f"rows unaccounted for in {', '.join(report.unbalanced)}" if report.unbalanced else None
    )
    from onefold.figures import summary_figures

    plots = plot.write(lambda: summary_figures(report))
    if as_json:
        document = report.as_dict()
        if plots:
            document["plots"] = plots
        if problem:
            document["error"] = cli_common.json_error(problem, 1)
        click.echo(json.dumps(document, indent=2))
    else:
        _print_summary(report)
        report_plots(plots, as_json)
    if problem:
        if as_json:  # the document above carries the error
            sys.exit(1)
        cli_common.fail(problem, 1, as_json=False)


def _print_summary(report: SummaryReport) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"Onefold staging on {escape(report.target)}")
    for column in ("source", "raw rows", "staged", "quarantined", "duplicates", "suppressed"):
        table.add_column(column, justify="left" if column == "source" else "right", no_wrap=True)
    for row in report.sources:
        table.add_row(
            escape(row.model.source_name),
            f"{row.raw_rows:,}",
            f"{row.staged_rows:,}",
            f"{row.quarantined_rows:,}",
            f"{row.duplicate_rows:,}",
            f"{row.suppressed_rows:,}",
        )
    table.add_row("total", *(f"{n:,}" for n in report.totals.values()), style="bold")
    console.print(table)
    reasons = Table(title="Quarantined rows by reason")
    for column in ("source", "reason", "rows"):
        reasons.add_column(column, justify="right" if column == "rows" else "left", no_wrap=True)
    for row in report.sources:
        for reason, rows in row.quarantine_reasons.items():
            reasons.add_row(escape(row.model.source_name), escape(reason), f"{rows:,}")
    if reasons.row_count:
        console.print(reasons)
    segment_table = Table(title="Segments: members, and consented activation rows per destination")
    segment_table.add_column("segment", no_wrap=True)
    segment_table.add_column("members", justify="right", no_wrap=True)
    segment_table.add_column("activation")
    for segment in report.segments:
        segment_table.add_row(
            escape(segment.segment_name),
            f"{segment.members:,}",
            ", ".join(f"{d} {n:,}" for d, n in sorted(segment.activation_rows.items())) or "-",
        )
    console.print(segment_table)
    if report.build:
        console.print(
            f"dbt build: {report.build.passed} passed, {report.build.failed} failed "
            f"in {report.build.elapsed_seconds:.1f}s"
        )


@main.command()
@project_options
@click.option(
    "--truth",
    "truth_relation",
    metavar="SCHEMA.TABLE",
    default=None,
    help="Who owns each record: a relation with one row per record (default: the demo "
    "generator's <truth schema>.record_owners).",
)
@click.option(
    "--truth-source",
    default="source",
    show_default=True,
    help="Its column naming the record's source as customer_records.source does.",
)
@click.option(
    "--truth-record-key", default="record_key", show_default=True, help="Its record key column."
)
@click.option("--truth-person", default="person_id", show_default=True, help="Its person column.")
@click.option(
    "--noise-log",
    metavar="SCHEMA.TABLE",
    help="Which records carry which noise: (source_table, record_key, noise_kind); scores "
    "are also reported per noise kind (default: the demo generator's noise_log, if any).",
)
@plot_options
@json_option
@reports_errors
def evaluate(
    project: ProjectOptions,
    plot: PlotOptions,
    truth_relation: str | None,
    truth_source: str,
    truth_record_key: str,
    truth_person: str,
    noise_log: str | None,
    as_json: bool,
) -> None:
    """Pairwise precision, recall and F1 of record -> customer against a ground truth,
    overall, per source and per noise kind, and before probabilistic matching."""
    import json

    from rich.table import Table

    from onefold.evaluate import Truth
    from onefold.evaluate import evaluate as run_evaluation

    truth = (
        Truth(truth_relation, truth_source, truth_record_key, truth_person)
        if truth_relation
        else None
    )
    with project.open(read_only=True) as (located, warehouse):
        result = run_evaluation(warehouse, located, truth, noise_log)
    from onefold.figures import evaluation_figures

    plots = plot.write(lambda: evaluation_figures(result))
    if as_json:
        click.echo(
            json.dumps({**result.as_dict(), **({"plots": plots} if plots else {})}, indent=2)
        )
        return
    report_plots(plots, as_json)
    console.print(f"Truth               {escape(result.truth)}", highlight=False)
    console.print(
        f"Records evaluated   {result.records_evaluated:>12,}"
        f"   (unassigned: {result.records_unassigned:,}; not in any identity source: "
        f"{result.records_not_found:,})"
    )
    console.print(f"Persons (truth)     {result.persons:>12,}")
    console.print(f"Customers (found)   {result.customers:>12,}")
    console.print(f"Precision           {result.precision:>12.4f}")
    console.print(f"Recall              {result.recall:>12.4f}")
    console.print(f"F1                  {result.f1:>12.4f}")
    console.print(
        f"Over-merged customers {result.over_merged_customers:>10,}"
        f"   (persons involved: {result.over_merged_persons:,})"
    )
    console.print(f"Under-merged persons  {result.under_merged_persons:>10,}")
    console.print(
        "Customers by records: "
        + ", ".join(f"{bucket}: {count:,}" for bucket, count in result.cluster_sizes.items()),
        soft_wrap=True,
    )
    by_source = Table("source", "records", "precision", "recall", "F1", box=None)
    for name, scores in result.by_source.items():
        by_source.add_row(
            escape(name),
            f"{scores.records:,}",
            f"{scores.precision:.4f}",
            f"{scores.recall:.4f}",
            f"{scores.f1:.4f}",
        )
    console.print("By source (pairs with a record of the source):")
    console.print(by_source)
    if result.before_probabilistic is not None:
        before = result.before_probabilistic
        console.print(
            f"Before probabilistic matching: precision {before.precision:.4f}, "
            f"recall {before.recall:.4f}, F1 {before.f1:.4f}",
            highlight=False,
        )
    if result.by_noise_kind:
        by_kind = Table(
            "noise kind", "records", "precision", "recall", "F1", "recall before", box=None
        )
        for name, scores in result.by_noise_kind.items():
            earlier = result.before_probabilistic_by_noise_kind.get(name)
            by_kind.add_row(
                escape(name),
                f"{scores.records:,}",
                f"{scores.precision:.4f}",
                f"{scores.recall:.4f}",
                f"{scores.f1:.4f}",
                f"{earlier.recall:.4f}" if earlier else "",
            )
        console.print(
            f"By noise kind (pairs with a record carrying it; {escape(result.noise_log)}):"
        )
        console.print(by_kind)


@main.command()
@project_options
@plot_options
@json_option
@click.argument("value")
@reports_errors
def explain(project: ProjectOptions, plot: PlotOptions, as_json: bool, value: str) -> None:
    """Show a customer's records, identifiers and the links that joined them, and for
    each probabilistic link its waterfall: the prior and every field's comparison level
    and match weight, adding up to the pair's match weight.

    VALUE is a customer_id or any identifier value (email, phone, user id, ...).
    """
    import json

    from rich.tree import Tree

    from onefold.explain import explain as run_explain
    from onefold.figures import explanation_figures
    from onefold.identity_graph import customer_graph

    with project.open(read_only=True) as (located, warehouse):
        result = run_explain(warehouse, value, located)
        plots = plot.write(
            lambda: explanation_figures(customer_graph(warehouse, located, result.customer_id))
        )
    if as_json:
        click.echo(
            json.dumps({**result.as_dict(), **({"plots": plots} if plots else {})}, indent=2)
        )
        return
    report_plots(plots, as_json)
    console.print(
        f"[bold]{result.customer_id}[/]"
        + (f"  (matched {result.matched})" if result.matched else "")
    )
    console.print(
        "Records: " + ", ".join(f"{s} {n:,}" for s, n in result.records_by_source.items())
    )
    if not result.links:
        for identifier in result.identifiers:
            console.print(f"  {identifier.label}  ({identifier.record_count:,} records)")
    else:
        root_label = result.links[0].parent
        nodes = {root_label: Tree(f"[bold]{root_label}[/]")}
        for link in result.links:
            more = f" +{link.other_records:,} more" if link.other_records else ""
            via = (
                f"probabilistic match of {link.source} {link.record_key} and {link.matched_record}"
                if link.matched_record
                else f"via {link.source} {link.record_key}{more}"
            )
            nodes[link.child] = nodes[link.parent].add(f"{link.child}  [dim]{escape(via)}[/]")
        console.print(nodes[root_label])
    for match in result.probabilistic_links:
        state = f"cut: {match.cut_rule}" if match.cut_rule else "linked"
        console.print(
            f"Probabilistic link {escape(match.source)} {escape(match.record_key)} ~ "
            f"{escape(match.linked_source)} {escape(match.linked_record_key)}: "
            f"match probability {match.match_probability:.6f} ({state})",
            highlight=False,
        )
        total = 0.0
        for bar in match.waterfall:
            total += bar.weight
            console.print(
                f"  {escape(bar.field):<14} {escape(bar.level):<22} {bar.weight:+8.2f}  "
                f"[dim]= {total:+.2f}[/]",
                highlight=False,
            )
    if result.cuts:
        console.print(f"[yellow]{len(result.cuts)} link(s) cut by conflict rules:[/]")
        for cut in result.cuts[:10]:
            console.print(
                f"  {cut['source']} {cut['record_key']}: {cut['identifier_type']} ({cut['rule']})"
            )


@main.command()
@project_options
@json_option
@click.option(
    "--expectations",
    "expectations_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Expectations YAML [default: validation/expectations.yml].",
)
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
    default=None,
    help="Reference time (UTC) for freshness checks, for reproducible runs [default: now].",
)
@click.option(
    "--table",
    "tables",
    multiple=True,
    metavar="LAYER.TABLE",
    help="Validate only this declared table (repeatable), e.g. marts.customer_records; "
    "`sources` and `history` select those checks.",
)
@reports_errors
def validate(
    project: ProjectOptions,
    as_json: bool,
    expectations_path: Path | None,
    now: dt.datetime | None,
    tables: tuple[str, ...],
) -> None:
    """Check what dbt's tests do not: expectations, source freshness, rate history.

    Runs validation/expectations.yml (great-expectations) over the published tables,
    checks the freshness of every enabled source and compares the identity match and
    quarantine rates with previous runs (the file's `sources:` and `history:` blocks).
    Exits 1 when any expectation fails, 2 when the file or the warehouse does not fit or
    a check cannot be evaluated; with --json, errors are JSON too. Example values of
    columns marked `pii: true` are masked.
    """
    import json

    from rich.table import Table

    from onefold.validate import UnexpectedError, run_validation
    from onefold.validation.report import group_rows
    from onefold.validation.spec import HISTORY_KEY, SOURCES_KEY

    try:
        with cli_common.progress("validating", as_json) as step:
            report = run_validation(
                project.locate(),
                expectations_path=expectations_path,
                now=now.replace(tzinfo=dt.UTC) if now else None,
                tables=tables,
                progress=step,
            )
    except OnefoldError:
        raise
    except Exception as exc:
        # Exit 1 means an expectation failed: anything else that stops the run is an
        # error (2), reported by `reports_errors` (JSON with --json).
        raise UnexpectedError.wrapping(exc) from exc
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        for table_key in report.tables:
            outcomes = report.for_table(table_key)
            failed = sum(not o.success for o in outcomes)
            status = f"[bold red]{failed} failed[/]" if failed else "[green]passed[/]"
            title = escape(table_key)
            if outcomes and table_key not in (SOURCES_KEY, HISTORY_KEY):  # one relation
                title += f" ({escape(outcomes[0].relation)})"
            table = Table(title=f"{title}: {status}", title_justify="left")
            for column in ("#", "expectation", "column(s)", "expected", "result", "observed"):
                table.add_column(column, no_wrap=column in ("#", "result"))
            table.add_column("unexpected examples")
            for group in group_rows(outcomes):
                first = group[0]
                result = "[green]pass[/]" if first.success else "[bold red]FAIL[/]"
                if first.error is not None:
                    result = "[bold red]ERROR[/]"
                table.add_row(
                    str(first.position),
                    first.check,
                    escape(", ".join(c for o in group for c in o.columns)),
                    escape(first.expected),
                    result,
                    escape(first.error or first.observed),
                    escape("\n".join(first.examples)),
                )
            console.print(table, highlight=False)
        style = "bold red" if report.failed else "bold green"
        console.print(
            f"[{style}]{report.summary}[/] on {report.target} "
            f"({len(report.tables)} tables, {report.elapsed_seconds:.1f}s)",
            highlight=False,
        )
    if report.exit_code:
        sys.exit(report.exit_code)


main.add_command(console_command)
main.add_command(sync)
main.add_command(erase)
main.add_command(train)


if __name__ == "__main__":
    main()
