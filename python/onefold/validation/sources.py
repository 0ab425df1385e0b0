"""Freshness of every enabled source (`sources:` in the expectations file).

dbt declares per source a `loaded_at_field` and a `freshness` (warn_after / error_after),
but only `dbt source freshness` reads them, and `dbt build` does not run it. `onefold
validate` checks each source that a staging model reads (so a disabled source, which
dbt leaves out of the manifest's sources, is not checked): the latest `loaded_at_field`
value against the source's `error_after`, else the file's `max_age`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from onefold.project import DbtProject
from onefold.summary import staging_models
from onefold.validation.report import Outcome, age_text, format_value, is_null
from onefold.validation.spec import SOURCES_KEY, SourceSettings
from onefold.warehouse import Warehouse, column_names, quote_ident

_PERIODS = {"minute": "minutes", "hour": "hours", "day": "days"}


@dataclass(frozen=True)
class SourceTable:
    name: str  # `<source>.<table>`, as dbt names it
    relation: str  # what staging reads (the source table, or the model replacing it)
    schema: str
    identifier: str
    loaded_at_field: str
    error_after: dt.timedelta | None  # from dbt's `freshness`, None when not declared
    #: staging reads a model instead (a loader adapter, a relation var), which may not
    #: carry the source's loaded_at_field
    replaced: bool = False


def enabled_sources(project: DbtProject) -> list[SourceTable]:
    """The sources the staging models read that declare a `loaded_at_field`, by name."""
    document: Mapping[str, Any] = project.manifest.document
    sources: Mapping[str, Any] = document.get("sources", {})
    by_name = {f"{s['source_name']}.{s['name']}": s for s in sources.values()}
    where: dict[str, tuple[str, str]] = {}
    for node in [*sources.values(), *document.get("nodes", {}).values()]:
        if node.get("relation_name"):
            identifier = node.get("identifier") or node.get("alias") or node["name"]
            where[str(node["relation_name"])] = (str(node["schema"]), str(identifier))
    found: dict[str, SourceTable] = {}
    for model in staging_models(dict(document)):
        source = by_name.get(model.source_name)
        if source is None or not source.get("loaded_at_field"):
            continue
        if model.source_relation not in where:
            continue
        schema, identifier = where[model.source_relation]
        freshness = (source.get("config") or {}).get("freshness") or source.get("freshness")
        found.setdefault(
            model.source_name,
            SourceTable(
                name=model.source_name,
                relation=model.source_relation,
                schema=schema,
                identifier=identifier,
                loaded_at_field=str(source["loaded_at_field"]),
                error_after=_period((freshness or {}).get("error_after")),
                replaced=model.source_relation != source.get("relation_name"),
            ),
        )
    return sorted(found.values(), key=lambda s: s.name)


def _period(value: Any) -> dt.timedelta | None:
    if not isinstance(value, Mapping):
        return None
    count, period = value.get("count"), value.get("period")
    if not isinstance(count, int) or count <= 0 or period not in _PERIODS:
        return None
    return dt.timedelta(**{_PERIODS[period]: count})


def check_sources(
    project: DbtProject, warehouse: Warehouse, settings: SourceSettings, now: dt.datetime
) -> list[Outcome]:
    """One outcome per enabled source that is not skipped."""
    outcomes: list[Outcome] = []
    for source in enabled_sources(project):
        if source.name in settings.overrides:
            max_age = settings.overrides[source.name]
            origin = "sources.overrides"
        elif source.error_after is not None:
            max_age, origin = source.error_after, "dbt error_after"
        else:
            max_age, origin = settings.max_age, "sources.max_age"
        if max_age is None:  # `skip`
            continue
        cutoff = now - max_age
        expected = (
            f"latest ≥ now - {age_text(max_age)} ({format_value(cutoff.replace(tzinfo=None))}) "
            f"for {source.name} ({origin})"
        )
        base = Outcome(
            table=SOURCES_KEY,
            relation=source.relation,
            position=len(outcomes) + 1,
            check="source_freshness",
            expectation="max(loaded_at_field) >= now - max_age",
            columns=(source.loaded_at_field,),
            expected=expected,
            success=False,
            observed="",
        )
        columns = set(column_names(warehouse, source.schema, source.identifier))
        if source.loaded_at_field not in columns and source.replaced and columns:
            continue  # the model staging reads instead has no load time to check
        if source.loaded_at_field not in columns:
            problem = (
                f"{source.relation} has no column {source.loaded_at_field!r} (the source's "
                "loaded_at_field)"
                if columns
                else f"{source.relation} does not exist"
            )
            outcomes.append(_replace(base, observed="error", error=problem))
            continue
        statement = (
            f"select max({quote_ident(source.loaded_at_field)}) from "
            f"{quote_ident(source.schema)}.{quote_ident(source.identifier)}"
        )
        latest = _utc(warehouse.query(statement)[0][0])
        if latest is None:
            outcomes.append(_replace(base, observed="no rows"))
            continue
        age = now - latest
        outcomes.append(
            _replace(
                base,
                success=latest >= cutoff,
                observed=f"latest {format_value(latest.replace(tzinfo=None))} "
                f"(age {age_text(age)})",
            )
        )
    return outcomes


def _replace(outcome: Outcome, **changes: Any) -> Outcome:
    from dataclasses import replace

    return replace(outcome, **changes)


def _utc(value: Any) -> dt.datetime | None:
    """A loaded-at value (timestamp with or without time zone, date, ISO text) as aware
    UTC; None for null or unreadable text."""
    if is_null(value):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    return None
