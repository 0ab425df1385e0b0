"""The pictures of Onefold's reports, by report: `--plot` on `summary`, `evaluate` and
`explain` writes them to files, and the console's pages show the same figures.

Each function takes the report the command already computed and returns
{file stem: figure}; `write_plots` saves them into a directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from onefold.errors import ConfigError
from onefold.pictures import (
    FORMATS,
    Graph,
    bar_figure,
    graph_figure,
    grouped_bar_figure,
    save,
    stacked_bar_figure,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from onefold.evaluate import Evaluation
    from onefold.summary import SegmentCounts, SourceCounts, SummaryReport


def cluster_sizes_figure(
    sizes: Mapping[str, int], title: str = "Customers by records held"
) -> Figure:
    return bar_figure(sizes, title, "customers", "records per customer")


def quarantine_figure(sources: list[SourceCounts]) -> Figure:
    reasons = {
        source.model.source_name: dict(source.quarantine_reasons)
        for source in sources
        if source.quarantine_reasons
    }
    return stacked_bar_figure(reasons, "Quarantined rows by source and reason", "rows")


def segments_figure(segments: list[SegmentCounts]) -> Figure:
    return bar_figure(
        {segment.segment_name: segment.members for segment in segments},
        "Segment members",
        "customers",
    )


def summary_figures(report: SummaryReport) -> dict[str, Figure]:
    return {
        "quarantine_reasons": quarantine_figure(report.sources),
        "segment_members": segments_figure(report.segments),
    }


def evaluation_figures(result: Evaluation) -> dict[str, Figure]:
    scores = {
        name: {"precision": s.precision, "recall": s.recall, "F1": s.f1}
        for name, s in {"overall": result.overall, **result.by_source}.items()
    }
    return {
        "cluster_sizes": cluster_sizes_figure(result.cluster_sizes),
        "pairwise_scores": grouped_bar_figure(
            scores, "Pairwise scores against the truth", "score", limits=(0.0, 1.0)
        ),
    }


def explanation_figures(graph: Graph) -> dict[str, Figure]:
    return {"identity_graph": graph_figure(graph)}


def write_plots(figures: Mapping[str, Figure], directory: Path, kind: str) -> list[Path]:
    """Save each figure as `<directory>/<stem>.<kind>`; the written paths."""
    if kind not in FORMATS:
        raise ConfigError(f"--plot-format must be one of {', '.join(FORMATS)}, not {kind!r}")
    return [save(figure, directory / f"{stem}.{kind}") for stem, figure in figures.items()]
