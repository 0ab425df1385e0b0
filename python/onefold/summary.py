"""What a build did to each source: raw rows in, rows staged, quarantined, deduplicated.

The staging models are found in dbt's manifest (not a list kept here), so a source a
user adds shows up without touching this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onefold.errors import ConfigError
from onefold.warehouse import Warehouse

if TYPE_CHECKING:
    from onefold.project import DbtProject


@dataclass(frozen=True)
class StagingModel:
    name: str
    relation: str
    base_relation: str
    quarantine_relation: str | None
    source_relation: str
    source_name: str


@dataclass
class SourceCounts:
    model: StagingModel
    raw_rows: int
    staged_rows: int
    quarantined_rows: int
    duplicate_rows: int
    #: raw rows of erased people (suppression list), loaded again after the erasure
    suppressed_rows: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def is_balanced(self) -> bool:
        return self.raw_rows == (
            self.staged_rows + self.quarantined_rows + self.duplicate_rows + self.suppressed_rows
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.model.source_name,
            "model": self.model.name,
            **{column: getattr(self, column) for column in COUNT_COLUMNS},
            "quarantine_reasons": dict(self.quarantine_reasons),
            "is_balanced": self.is_balanced,
        }


#: The row counts of SourceCounts, in the order they are shown.
COUNT_COLUMNS = ("raw_rows", "staged_rows", "quarantined_rows", "duplicate_rows", "suppressed_rows")


@dataclass
class BuildTiming:
    elapsed_seconds: float
    passed: int
    failed: int


def load_manifest(target_path: Path) -> dict[str, Any]:
    manifest_file = target_path / "manifest.json"
    if not manifest_file.exists():
        raise ConfigError(f"{manifest_file} not found: run `dbt build` first")
    manifest: dict[str, Any] = json.loads(manifest_file.read_text())
    return manifest


def staging_models(manifest: dict[str, Any]) -> list[StagingModel]:
    """Staging models that read a base model over one source, with their quarantine."""
    nodes: dict[str, Any] = manifest["nodes"]
    sources: dict[str, Any] = manifest["sources"]
    by_name = {n["name"]: n for n in nodes.values() if n["resource_type"] == "model"}
    found = []
    for node in by_name.values():
        name = node["name"]
        if not name.startswith("stg_") or name.endswith("_quarantine"):
            continue
        bases = [
            nodes[d]
            for d in node["depends_on"]["nodes"]
            if d in nodes and nodes[d]["name"].startswith("base_")
        ]
        if len(bases) != 1:
            continue
        base = bases[0]
        # Base models also read Onefold's own suppression list; the raw table is the other.
        source_ids = [
            d
            for d in base["depends_on"]["nodes"]
            if d in sources and sources[d]["source_name"] != "onefold_privacy"
        ]
        # Or a model dbt builds in the native shape: a loader adapter, or the model a
        # relation var points at (its rows are the raw rows, 1:1).
        input_ids = [
            d
            for d in base["depends_on"]["nodes"]
            if d in nodes and nodes[d]["resource_type"] in ("model", "snapshot")
        ]
        if len(source_ids) == 1 and not input_ids:
            source = sources[source_ids[0]]
            raw_relation = source["relation_name"]
            source_name = f"{source['source_name']}.{source['name']}"
        elif len(input_ids) == 1 and not source_ids:
            raw_relation = nodes[input_ids[0]]["relation_name"]
            source_name = _served_source_name(base, sources) or nodes[input_ids[0]]["name"]
        else:
            continue
        quarantine = by_name.get(f"{name}_quarantine")
        found.append(
            StagingModel(
                name=name,
                relation=node["relation_name"],
                base_relation=base["relation_name"],
                quarantine_relation=quarantine["relation_name"] if quarantine else None,
                source_relation=raw_relation,
                source_name=source_name,
            )
        )
    return sorted(found, key=lambda model: model.name)


def _served_source_name(base: dict[str, Any], sources: dict[str, Any]) -> str | None:
    """`<source>.<table>` of the native input a base model reads through a model: the
    erasure declaration its suppression screen names (meta.onefold_erasure_input)."""
    served = (base.get("config", {}).get("meta") or {}).get("onefold_erasure_input")
    for source in sources.values():
        if source["name"] == served and source["package_name"] == base["package_name"]:
            return f"{source['source_name']}.{source['name']}"
    return None


def _count(warehouse: Warehouse, relation: str, where: str = "") -> int:
    rows = warehouse.query(f"select count(*) from {relation} {where}")
    return int(rows[0][0])


def count_sources(warehouse: Warehouse, models: list[StagingModel]) -> list[SourceCounts]:
    counts = []
    for model in models:
        reasons: dict[str, int] = {}
        quarantined = 0
        if model.quarantine_relation:
            for reason, rows in warehouse.query(
                f"select quarantine_reason, count(*) from {model.quarantine_relation} "
                "group by quarantine_reason order by quarantine_reason"
            ):
                reasons[str(reason)] = int(rows)
            quarantined = sum(reasons.values())
        # One pass over the base view for both flags (each read recomputes it).
        duplicates, suppressed = warehouse.query(
            "select coalesce(sum(case when is_duplicate then 1 else 0 end), 0), "
            "coalesce(sum(case when is_suppressed then 1 else 0 end), 0) "
            f"from {model.base_relation}"
        )[0]
        counts.append(
            SourceCounts(
                model=model,
                raw_rows=_count(warehouse, model.source_relation),
                staged_rows=_count(warehouse, model.relation),
                quarantined_rows=quarantined,
                duplicate_rows=int(duplicates),
                suppressed_rows=int(suppressed),
                quarantine_reasons=reasons,
            )
        )
    return counts


def build_timing(target_path: Path) -> BuildTiming | None:
    """Wall time and pass/fail counts of the last dbt invocation, if it left results."""
    results_file = target_path / "run_results.json"
    if not results_file.exists():
        return None
    results = json.loads(results_file.read_text())
    statuses = [str(r["status"]) for r in results["results"]]
    return BuildTiming(
        elapsed_seconds=float(results["elapsed_time"]),
        passed=sum(s in ("success", "pass") for s in statuses),
        failed=sum(s in ("error", "fail") for s in statuses),
    )


@dataclass(frozen=True)
class SegmentCounts:
    segment_name: str
    members: int
    activation_rows: dict[str, int]


def segment_counts(warehouse: Warehouse, project: DbtProject) -> list[SegmentCounts]:
    """Members per segment and consented activation rows per destination."""
    definitions, memberships, audiences = project.require(
        warehouse, "segment_definitions", "segment_memberships", "activation_audiences"
    )
    members = warehouse.query(
        f"select definitions.segment_name, count(memberships.customer_id) "
        f"from {definitions} as definitions "
        f"left join {memberships} as memberships "
        "on definitions.segment_name = memberships.segment_name "
        "group by definitions.segment_name order by definitions.segment_name"
    )
    activation: dict[str, dict[str, int]] = {}
    for segment, destination, rows in warehouse.query(
        f"select segment_name, destination_name, count(*) from {audiences} "
        "group by segment_name, destination_name"
    ):
        activation.setdefault(str(segment), {})[str(destination)] = int(rows)
    return [
        SegmentCounts(str(name), int(count), activation.get(str(name), {}))
        for name, count in members
    ]


@dataclass(frozen=True)
class SummaryReport:
    """What `onefold summary` shows: per source, per segment, and the last dbt build."""

    target: str
    sources: list[SourceCounts]
    segments: list[SegmentCounts]
    build: BuildTiming | None

    @property
    def totals(self) -> dict[str, int]:
        return {column: sum(getattr(s, column) for s in self.sources) for column in COUNT_COLUMNS}

    @property
    def unbalanced(self) -> list[str]:
        """Sources whose raw rows are not all staged, quarantined, duplicates or suppressed."""
        return [s.model.source_name for s in self.sources if not s.is_balanced]

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "sources": [source.as_dict() for source in self.sources],
            "totals": self.totals,
            "segments": [
                {
                    "segment": segment.segment_name,
                    "members": segment.members,
                    "activation_rows": dict(sorted(segment.activation_rows.items())),
                }
                for segment in self.segments
            ],
            "build": None if self.build is None else asdict(self.build),
            "unbalanced": self.unbalanced,
        }


def collect_summary(
    project: DbtProject, progress: Callable[[str, int, int], None] | None = None
) -> SummaryReport:
    """Count everything `onefold summary` shows, on a read-only connection.
    `progress(step, completed, total)` hears each source (then segments) before it is
    counted, and once more when all are done."""
    report = progress or (lambda step, completed, total: None)
    with project.connection(read_only=True) as warehouse:
        models = staging_models(dict(project.manifest.document))
        total = len(models) + 1
        sources = []
        for done, model in enumerate(models):
            report(model.source_name, done, total)
            sources += count_sources(warehouse, [model])
        report("segments", len(models), total)
        segments = segment_counts(warehouse, project)
        report("segments", total, total)
    return SummaryReport(project.target.name, sources, segments, build_timing(project.target_path))
