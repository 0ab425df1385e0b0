"""The pictures Onefold draws, one figure each: the console shows them as SVG, and
`--plot` on `explain`, `summary` and `evaluate` writes the same figures to files.

Text in a picture is often a person's data (a name, a record key). It is drawn as plain
text: matplotlib's math mode is off (a `$` in a name stays a `$`), and the SVG writer
escapes it. Graph nodes and links carry ids (`node-<n>`, `link-<n>`) so a page, or a
test, can count them.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import matplotlib

matplotlib.use("Agg")  # no screen: draw to files and strings only

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Rectangle

from onefold.errors import ConfigError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: formats `save` writes, by file suffix
FORMATS = ("png", "svg")

_STYLE = {
    "text.parse_math": False,  # user data is never mathtext
    "svg.fonttype": "none",  # text stays text in the SVG (searchable, smaller)
    "svg.hashsalt": "onefold",  # the same data draws the same file
    "font.size": 9,
}
#: no date in an SVG: the same data draws the same file
_SVG_METADATA = {"Date": None}
_NODE_COLOURS = {"identifier": "#2f6f9f", "record": "#8a8f98"}
_LINK_STYLES = {
    "shared": ("#4c7a4c", "solid"),
    "probabilistic": ("#b7791f", "dashed"),
    "cut": ("#c53030", "dotted"),
}


def _styled() -> AbstractContextManager[Any]:
    """Onefold's style (math mode off, text kept as text) for one figure's drawing."""
    return plt.rc_context(cast(Any, _STYLE))


@dataclass(frozen=True)
class GraphNode:
    key: str
    label: str
    #: "identifier" or "record"
    kind: str


@dataclass(frozen=True)
class GraphLink:
    left: str
    right: str
    label: str
    #: "shared" (a record carries the identifier), "probabilistic", or "cut"
    kind: str


@dataclass
class Graph:
    nodes: list[GraphNode]
    links: list[GraphLink]
    #: nodes left out to keep the picture readable (0: none)
    nodes_left_out: int = 0
    title: str = ""


def _figure(width: float = 7.0, height: float = 3.6) -> Figure:
    with _styled():
        figure = plt.figure(figsize=(width, height), dpi=100)
    return figure


def graph_figure(graph: Graph) -> Figure:
    """Nodes on a spring layout (seeded: the same graph draws the same way); records
    are grey squares, identifiers blue circles; links labelled with their rule."""
    import networkx as nx

    with _styled():
        size = 7.5 if len(graph.nodes) <= 40 else 10.0
        figure = _figure(size, size * 0.75)
        axes = figure.add_axes((0.01, 0.01, 0.98, 0.92))
        axes.set_axis_off()
        network = nx.Graph()
        network.add_nodes_from(node.key for node in graph.nodes)
        network.add_edges_from((link.left, link.right) for link in graph.links)
        # Kamada-Kawai spreads a star of records around their identifier evenly and
        # needs no seed (the same graph draws the same way); components sit apart.
        # then a seeded spring pass spreads dense stars (web records on one identifier).
        positions: dict[str, Any] = {graph.nodes[0].key: (0.0, 0.0)} if graph.nodes else {}
        if len(graph.nodes) > 1:
            start = nx.kamada_kawai_layout(network)
            spread = 2.5 / len(graph.nodes) ** 0.5
            positions = nx.spring_layout(network, pos=start, k=spread, iterations=60, seed=7)
            positions = nx.rescale_layout_dict(positions, scale=1.0)
        radius = 0.035 if len(graph.nodes) <= 40 else 0.022
        for index, link in enumerate(graph.links):
            (x1, y1), (x2, y2) = positions[link.left], positions[link.right]
            colour, style = _LINK_STYLES.get(link.kind, _LINK_STYLES["shared"])
            line = Line2D(
                [x1, x2], [y1, y2], color=colour, linestyle=cast(Any, style), linewidth=1.2
            )
            line.set_gid(f"link-{index}")
            axes.add_line(line)
            if len(graph.links) <= 60:
                axes.text((x1 + x2) / 2, (y1 + y2) / 2, link.label, fontsize=6, color=colour)
        for index, node in enumerate(graph.nodes):
            x, y = positions[node.key]
            colour = _NODE_COLOURS.get(node.kind, "#555555")
            patch = (
                Circle((x, y), radius, color=colour)
                if node.kind == "identifier"
                else Rectangle((x - radius, y - radius), 2 * radius, 2 * radius, color=colour)
            )
            patch.set_gid(f"node-{index}")
            axes.add_patch(patch)
            # Many records: label identifiers fully, records by source (the page lists keys).
            label = node.label
            if node.kind == "record":
                source, _, key = node.label.partition(":")
                label = source if len(graph.nodes) > 40 else f"{source} …{key[-8:]}"
            axes.text(x, y - radius * 1.6, label, fontsize=6.5, ha="center", va="top")
        axes.set_xlim(-1.25, 1.25)
        axes.set_ylim(-1.25, 1.15)
        axes.set_aspect("equal")
        title = graph.title
        if graph.nodes_left_out:
            title += f" ({graph.nodes_left_out} more records not drawn)"
        figure.suptitle(title, fontsize=10)
    return figure


def _finish(figure: Figure, axes: Any, title: str, ylabel: str, legend: bool) -> None:
    """Title, y label, the legend beside the plot when there are series, tight layout."""
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    if legend:
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()


def bar_figure(values: Mapping[str, float], title: str, ylabel: str, xlabel: str = "") -> Figure:
    """One bar per key, in the order given."""
    with _styled():
        figure = _figure()
        axes = figure.add_subplot()
        labels = list(values)
        axes.bar(range(len(labels)), [values[label] for label in labels], color="#2f6f9f")
        axes.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 6 else 0)
        axes.set_xlabel(xlabel)
        _finish(figure, axes, title, ylabel, legend=False)
    return figure


def stacked_bar_figure(
    values: Mapping[str, Mapping[str, float]], title: str, ylabel: str
) -> Figure:
    """One bar per outer key, stacked by inner key (with a legend)."""
    with _styled():
        figure = _figure(7.5, 3.8)
        axes = figure.add_subplot()
        groups = list(values)
        parts = sorted({part for inner in values.values() for part in inner})
        bottoms = [0.0] * len(groups)
        for part in parts:
            heights = [float(values[group].get(part, 0)) for group in groups]
            axes.bar(range(len(groups)), heights, bottom=bottoms, label=part)
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        axes.set_xticks(range(len(groups)), groups, rotation=30 if len(groups) > 4 else 0)
        _finish(figure, axes, title, ylabel, legend=bool(parts))
    return figure


def grouped_bar_figure(
    values: Mapping[str, Mapping[str, float]],
    title: str,
    ylabel: str,
    limits: tuple[float, float] | None = None,
) -> Figure:
    """One group of bars per outer key, one bar per inner key (with a legend)."""
    with _styled():
        figure = _figure(7.5, 3.8)
        axes = figure.add_subplot()
        groups = list(values)
        parts = list(dict.fromkeys(part for inner in values.values() for part in inner))
        width = 0.8 / max(len(parts), 1)
        for index, part in enumerate(parts):
            axes.bar(
                [g + index * width for g in range(len(groups))],
                [float(values[group].get(part, 0)) for group in groups],
                width=width,
                label=part,
            )
        axes.set_xticks(
            [g + width * (len(parts) - 1) / 2 for g in range(len(groups))],
            groups,
            rotation=30 if len(groups) > 4 else 0,
        )
        if limits:
            axes.set_ylim(*limits)
        _finish(figure, axes, title, ylabel, legend=bool(parts))
    return figure


def line_figure(
    series: Mapping[str, Sequence[tuple[object, float]]], title: str, ylabel: str
) -> Figure:
    """One line per series of (x, y) points (x: dates or numbers)."""
    with _styled():
        figure = _figure(7.5, 3.6)
        axes = figure.add_subplot()
        for name, points in series.items():
            if points:
                xs, ys = zip(*points, strict=True)
                axes.plot(xs, ys, marker="o", markersize=3, label=name)
        figure.autofmt_xdate()
        _finish(figure, axes, title, ylabel, legend=bool(series))
    return figure


def to_svg(figure: Figure) -> str:
    """The figure as an inline `<svg>` element (no XML prologue); the figure is closed."""
    buffer = io.StringIO()
    with _styled():
        figure.savefig(buffer, format="svg", metadata=_SVG_METADATA)
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def save(figure: Figure, path: Path) -> Path:
    """Write the figure to `path` (PNG or SVG, by its suffix); the figure is closed."""
    kind = path.suffix.lstrip(".").lower()
    if kind not in FORMATS:
        plt.close(figure)
        raise ConfigError(f"cannot draw {path}: pictures are {' or '.join(FORMATS)} files")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _styled():
        figure.savefig(path, format=kind, metadata=_SVG_METADATA if kind == "svg" else None)
    plt.close(figure)
    return path
