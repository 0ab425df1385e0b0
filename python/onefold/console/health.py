"""The console's health pages: identity, staging, segments, consent, activation and
privacy, each a list of sections (a picture, a table, or why it is unavailable).

Counts come from the same library functions as the CLI's reports (summary.py,
evaluate.py) and the pictures from figures.py, so the console and `--plot` agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from onefold import figures
from onefold.console.reader import Reader, Unavailable
from onefold.pictures import bar_figure, line_figure, stacked_bar_figure, to_svg
from onefold.sql import relation

#: sync runs listed on the activation page
RUNS_LISTED = 50


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class Section:
    title: str
    svg: str | None = None
    table: Table | None = None
    note: str = ""
    unavailable: str = ""


@dataclass
class HealthPage:
    name: str
    title: str
    sections: list[Section] = field(default_factory=list)


def _table(rows: list[dict[str, Any]]) -> Table:
    columns = list(rows[0]) if rows else []
    return Table(columns, [[row[c] for c in columns] for row in rows])


def _section(title: str, build: Callable[[], Section]) -> Section:
    """The section, or why it cannot be shown (the rest of the page still is)."""
    try:
        return build()
    except Unavailable as exc:
        return Section(title, unavailable=str(exc))
    except Exception as exc:  # a warehouse error: show its words, not a broken page
        first_line = (str(exc).strip().splitlines() or [repr(exc)])[0]
        return Section(title, unavailable=f"cannot read this: {first_line}")


def identity(reader: Reader) -> HealthPage:
    def sizes() -> Section:
        from onefold.evaluate import cluster_sizes

        counts = cluster_sizes(reader.warehouse, reader.relation("customer_records"))
        return Section(
            "Customers by records held",
            svg=to_svg(figures.cluster_sizes_figure(counts)),
            table=Table(["records per customer", "customers"], [[k, v] for k, v in counts.items()]),
        )

    def blocked() -> Section:
        rows = reader.records(
            "select identifier_type, block_rule, block_reason, records_touched "
            f"from {reader.relation('identity_blocked_values')} "
            "order by records_touched desc, identifier_type"
        )
        return Section(
            "Blocked values (they link no records)",
            table=_table(rows),
            note="The values themselves are personal data and not shown here.",
        )

    def changes() -> Section:
        rows = reader.records(
            "select run_id, min(changed_at) as run_at, change_type, count(*) as customers, "
            f"sum(records_moved) as records_moved from {reader.relation('identity_changes')} "
            "group by run_id, change_type order by run_at desc, change_type"
        )
        by_run: dict[str, dict[str, float]] = defaultdict(dict)
        for row in sorted(rows, key=lambda r: str(r["run_at"])):
            by_run[str(row["run_at"])[:16]][str(row["change_type"])] = float(row["customers"])
        return Section(
            "Merges and splits per run",
            svg=to_svg(stacked_bar_figure(by_run, "Identity changes per run", "customers")),
            table=_table(rows),
        )

    def evaluation() -> Section:
        from onefold.evaluate import demo_truth, evaluate

        truth = demo_truth(reader.project)
        schema, _, table = truth.relation.partition(".")
        if not reader.visible(schema, table):
            return Section(
                "Evaluation against a truth",
                note=f"No truth table ({truth.relation}): evaluation runs on generated or "
                "labelled data only (`onefold evaluate --truth`).",
            )
        try:
            result = evaluate(reader.warehouse, reader.project)
        except Exception as exc:
            raise Unavailable(f"cannot evaluate: {str(exc).splitlines()[0]}") from exc
        scores = {"overall": result.overall, **result.by_source}
        return Section(
            "Evaluation against the truth",
            svg=to_svg(figures.evaluation_figures(result)["pairwise_scores"]),
            table=Table(
                ["records", "precision", "recall", "F1"],
                [
                    [name, s.records, round(s.precision, 4), round(s.recall, 4), round(s.f1, 4)]
                    for name, s in scores.items()
                ],
            ),
        )

    page = HealthPage("identity", "Identity")
    for title, build in (
        ("Customers by records held", sizes),
        ("Blocked values", blocked),
        ("Merges and splits per run", changes),
        ("Evaluation", evaluation),
    ):
        page.sections.append(_section(title, build))
    return page


def staging(reader: Reader) -> HealthPage:
    from onefold.summary import count_sources, staging_models

    models = staging_models(dict(reader.project.manifest.document))

    def counts() -> Section:
        try:
            sources = count_sources(reader.warehouse, models)
        except Exception as exc:
            raise Unavailable(f"cannot count the sources: {str(exc).splitlines()[0]}") from exc
        return Section(
            "Rows per source",
            svg=to_svg(figures.quarantine_figure(sources)),
            table=Table(
                ["source", "raw", "staged", "quarantined", "duplicates", "suppressed"],
                [
                    [
                        s.model.source_name,
                        s.raw_rows,
                        s.staged_rows,
                        s.quarantined_rows,
                        s.duplicate_rows,
                        s.suppressed_rows,
                    ]
                    for s in sources
                ],
            ),
        )

    def over_time() -> Section:
        series: dict[str, list[tuple[object, float]]] = {}
        rows: list[list[Any]] = []
        for model in models:
            if not model.quarantine_relation:
                continue
            found = reader.query(
                "select cast(_loaded_at as date) as loaded_on, quarantine_reason, count(*) "
                f"from {model.quarantine_relation} group by 1, 2 order by 1, 2"
            )
            for loaded_on, reason, count in found:
                name = f"{model.source_name}: {reason}"
                series.setdefault(name, []).append((loaded_on, float(count)))
                rows.append([model.source_name, reason, loaded_on, int(count)])
        return Section(
            "Quarantine reasons over time (by load date)",
            svg=to_svg(line_figure(series, "Quarantined rows per load day", "rows"))
            if series
            else None,
            table=Table(["source", "reason", "loaded on", "rows"], rows),
            note="" if rows else "Nothing was quarantined.",
        )

    return HealthPage(
        "staging",
        "Staging",
        [_section("Rows per source", counts), _section("Quarantine over time", over_time)],
    )


def segments(reader: Reader) -> HealthPage:
    def sizes() -> Section:
        rows = reader.records(
            "select segment_name, measured_at, members_count, entered_count, exited_count "
            f"from {reader.relation('segment_sizes')} order by measured_at, segment_name"
        )
        series: dict[str, list[tuple[object, float]]] = defaultdict(list)
        for row in rows:
            series[str(row["segment_name"])].append(
                (row["measured_at"], float(row["members_count"]))
            )
        return Section(
            "Segment sizes over time",
            svg=to_svg(line_figure(series, "Members per build", "customers")),
            table=_table(rows[::-1]),
        )

    return HealthPage("segments", "Segments", [_section("Segment sizes over time", sizes)])


def consent(reader: Reader) -> HealthPage:
    def coverage() -> Section:
        customers = reader.relation("customers")
        current = reader.relation("consent_current")
        rows = reader.records(
            "select purpose, coalesce(jurisdiction, 'unknown') as jurisdiction, "
            "count(distinct case when is_granted then customer_id end) as granted, "
            "count(distinct customer_id) as with_a_state, "
            f"(select count(*) from {customers}) as customers "
            f"from {current} group by 1, 2 order by 1, 2"
        )
        granted: dict[str, dict[str, float]] = defaultdict(dict)
        for row in rows:
            granted[str(row["purpose"])][str(row["jurisdiction"])] = float(row["granted"])
        for row in rows:
            row["granted_share"] = (
                round(row["granted"] / row["customers"], 4) if row["customers"] else None
            )
        return Section(
            "Coverage per purpose and jurisdiction",
            svg=to_svg(stacked_bar_figure(granted, "Customers with consent granted", "customers")),
            table=_table(rows),
        )

    return HealthPage("consent", "Consent", [_section("Coverage", coverage)])


def activation(reader: Reader) -> HealthPage:
    from onefold.sync.state import FAILURES_TABLE, RUNS_TABLE

    schema = reader.project.sync_schema

    def runs() -> Section:
        if not reader.visible(schema, RUNS_TABLE):
            return Section("Sync runs", note="No sync has run yet (`onefold sync`).")
        rows = reader.records(
            "select run_id, sync_name, destination, status, started_at, duration_seconds, "
            "sent, failed, planned_retries, excluded_without_consent, error_summary "
            f"from {relation(schema, RUNS_TABLE)} where not is_dry_run "
            f"order by started_at desc limit {RUNS_LISTED}"
        )
        series: dict[str, list[tuple[object, float]]] = defaultdict(list)
        for row in reversed(rows):
            series[f"{row['sync_name']} sent"].append((row["started_at"], float(row["sent"])))
            series[f"{row['sync_name']} failed"].append((row["started_at"], float(row["failed"])))
        return Section(
            "Sync runs (newest first)",
            svg=to_svg(line_figure(series, "Records sent and failed per run", "records")),
            table=_table(rows),
        )

    def failures() -> Section:
        if not reader.visible(schema, FAILURES_TABLE):
            return Section("Failures", note="No failures recorded.")
        rows = reader.records(
            "select sync_name, operation, error, count(*) as records, max(failed_at) as last "
            f"from {relation(schema, FAILURES_TABLE)} group by 1, 2, 3 order by last desc"
        )
        return Section("Failures by error", table=_table(rows), note="" if rows else "None.")

    return HealthPage(
        "activation", "Activation", [_section("Sync runs", runs), _section("Failures", failures)]
    )


def privacy(reader: Reader) -> HealthPage:
    def requests() -> Section:
        rows = reader.records(
            "select erasure_request_id, status, progress_status, regulation, is_overdue, "
            "received_at, due_at, completed_at, verified_at, destinations_failed, "
            f"residuals_count, rejection_reason from {reader.relation('erasure_requests_status')} "
            "order by is_overdue desc, case when completed_at is null then 0 else 1 end, "
            "due_at, erasure_request_id"
        )
        by_status: dict[str, float] = defaultdict(float)
        for row in rows:
            by_status[str(row["status"])] += 1
        return Section(
            "Erasure requests (overdue first, then by deadline)",
            svg=to_svg(bar_figure(by_status, "Requests by status", "requests")) if rows else None,
            table=_table(rows),
            note="" if rows else "No erasure requests.",
        )

    return HealthPage("privacy", "Privacy", [_section("Requests", requests)])


PAGES: dict[str, Callable[[Reader], HealthPage]] = {
    "identity": identity,
    "staging": staging,
    "segments": segments,
    "consent": consent,
    "activation": activation,
    "privacy": privacy,
}
