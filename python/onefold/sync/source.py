"""Where a sync reads from, checked against the warehouse before anything runs.

A `model:` sync reads a dbt model, found by name in dbt's manifest (Onefold's own, else the
one model of that name in the host project), or a `schema.table` as written; a `segment:`
sync reads the audiences mart filtered to the segment (and to the destination, when
that mart says which destinations each audience goes to).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from onefold.project import DbtProject
from onefold.sql import literal, relation
from onefold.sync.config import SyncConfig
from onefold.sync.errors import InvalidKeysError, sync_config_error
from onefold.warehouse import Warehouse, quote_ident

CUSTOMER_ID = "customer_id"
CONSENT_COLUMNS = ("customer_id", "purpose", "is_granted")
# How many offending keys an error shows.
_SHOWN_KEYS = 10


@dataclass(frozen=True)
class Source:
    #: for messages: `onefold_marts.customers`, `segment 'vip' of onefold_marts.…`
    description: str
    #: `select * from …` returning the sync's rows
    query: str
    #: column name -> data type as the warehouse reports it (lower case)
    columns: dict[str, str]
    #: the consent mart when the sync requires purposes
    consent_relation: str | None

    @property
    def has_customer_id(self) -> bool:
        return CUSTOMER_ID in self.columns


def _locate(project: DbtProject, sync_name: str, field: str, name: str) -> tuple[str, str]:
    """(schema, table) of a sync's model name: `schema.table` as written, else the dbt
    model of that name."""
    schema, _, table = name.rpartition(".")
    if schema:
        return schema, table
    found = project.manifest.find_any(name)
    if found is None:
        raise sync_config_error(
            sync_name,
            field,
            f"model {name!r} is not in the dbt manifest {project.manifest_path}: run "
            f"`dbt parse` (or `dbt build`) in {project.project_dir}, or fix the name",
        )
    return found.schema, found.identifier


def relation_columns(warehouse: Warehouse, schema: str, table: str) -> dict[str, str]:
    """Columns of a table or view, in order (empty when it does not exist)."""
    rows = warehouse.query(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    )
    return {str(name): str(kind).lower() for name, kind in rows}


def resolve_source(warehouse: Warehouse, sync: SyncConfig, project: DbtProject) -> Source:
    """The sync's source, with every column the config names checked to exist."""
    if sync.model is not None:
        field = "model"
        schema, table = _locate(project, sync.name, field, sync.model)
    else:
        field = "segment"
        schema, table = _locate(project, sync.name, "audiences.model", sync.audiences.model)
    columns = relation_columns(warehouse, schema, table)
    name = f"{schema}.{table}"
    if not columns:
        raise sync_config_error(
            sync.name,
            field if sync.model is not None else "audiences.model",
            f"relation {name} not found: run `dbt build` first, or fix the name",
        )
    query = f"select * from {relation(schema, table)}"
    description = name
    if sync.segment is not None:
        filters = {sync.audiences.segment_column: sync.segment}
        if sync.audiences.destination_column is not None:
            filters[sync.audiences.destination_column] = sync.destination_name
        for column in filters:
            if column not in columns:
                which = "segment" if column == sync.audiences.segment_column else "destination"
                raise sync_config_error(
                    sync.name,
                    f"audiences.{which}_column",
                    f"column {column!r} not in {name} (columns: {', '.join(columns)})",
                )
        query += " where " + " and ".join(
            f"{quote_ident(column)} = {literal(value)}" for column, value in filters.items()
        )
        description = f"segment {sync.segment!r} of {name}"
    _check_columns(sync, name, columns)
    consent = _consent_relation(warehouse, sync, project, has_customer=CUSTOMER_ID in columns)
    return Source(description, query, columns, consent)


def _check_columns(sync: SyncConfig, name: str, columns: dict[str, str]) -> None:
    available = f"(columns: {', '.join(columns)})"
    if sync.primary_key not in columns:
        raise sync_config_error(
            sync.name, "primary_key", f"column {sync.primary_key!r} not in {name} {available}"
        )
    for field, column in sync.fields.items():
        if column not in columns:
            raise sync_config_error(
                sync.name, f"fields.{field}", f"column {column!r} not in {name} {available}"
            )


def _consent_relation(
    warehouse: Warehouse, sync: SyncConfig, project: DbtProject, has_customer: bool
) -> str | None:
    if not sync.purposes:
        return None
    if not has_customer:
        raise sync_config_error(
            sync.name,
            "purposes",
            f"consent is checked per customer, but the source has no {CUSTOMER_ID} column: "
            "add it to the model, or remove purposes",
        )
    known = known_consent_purposes(warehouse, project)
    unknown = [p for p in sync.purposes if p not in known] if known is not None else []
    if known is not None and unknown:
        raise sync_config_error(
            sync.name,
            "purposes",
            f"unknown consent purpose {', '.join(repr(p) for p in unknown)} "
            f"(onefold__consent_purposes has {', '.join(known)})",
        )
    schema, table = _locate(project, sync.name, "purposes", sync.consent.model)
    columns = relation_columns(warehouse, schema, table)
    missing = [column for column in CONSENT_COLUMNS if column not in columns]
    if missing:
        what = "not found" if not columns else f"lacks columns {', '.join(missing)}"
        raise sync_config_error(
            sync.name,
            "purposes",
            f"consent model {schema}.{table} {what}: run `dbt build` first, or set consent.model",
        )
    return relation(schema, table)


def known_consent_purposes(warehouse: Warehouse, project: DbtProject) -> list[str] | None:
    """The purposes dbt knows (the keys of var `onefold__consent_purposes`, as the last
    `dbt build` resolved them, `--vars` included): the list its segment check uses,
    read from the configuration snapshot its on-run-start hook writes in the privacy
    schema. None when there is no snapshot (nothing built by Onefold's dbt package yet,
    or by a version that did not record them): then the purposes are not checked."""
    schema = project.privacy_schema
    if not warehouse.table_exists(schema, "erasure_config"):
        return None
    rows = warehouse.query(
        f"select config_json from {relation(schema, 'erasure_config')} "
        "order by written_at desc limit 1"
    )
    if not rows:
        return None
    try:
        document = json.loads(str(rows[0][0]))
    except ValueError:
        return None
    purposes = document.get("consent_purposes") if isinstance(document, dict) else None
    return [str(purpose) for purpose in purposes] if isinstance(purposes, list) else None


def count_and_check_keys(warehouse: Warehouse, sync: SyncConfig, source: Source) -> int:
    """Rows in the source; raises InvalidKeysError on null or duplicate primary keys."""
    key = quote_ident(sync.primary_key)
    total, nulls = warehouse.query(
        f"select count(*), count(*) - count({key}) from ({source.query}) as source"
    )[0]
    duplicates = warehouse.query(
        f"select cast({key} as varchar), count(*) from ({source.query}) as source "
        f"where {key} is not null group by {key} having count(*) > 1 "
        f"order by count(*) desc, 1 limit {_SHOWN_KEYS + 1}"
    )
    if not nulls and not duplicates:
        return int(total)
    problems = []
    if nulls:
        problems.append(f"{nulls:,} row(s) with a null {sync.primary_key}")
    if duplicates:
        shown = ", ".join(f"{value!r} ({count} rows)" for value, count in duplicates[:_SHOWN_KEYS])
        more = " and more" if len(duplicates) > _SHOWN_KEYS else ""
        problems.append(f"duplicate {sync.primary_key}: {shown}{more}")
    raise InvalidKeysError(
        f"sync {sync.name!r}: primary_key: {source.description} has {'; '.join(problems)}. "
        "Nothing was sent. Fix the model (or choose a unique primary_key) and run again."
    )
