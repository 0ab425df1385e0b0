"""The erasure configuration, as dbt resolved it on its last run.

The on-run-start hook `create_erasure_objects` writes a snapshot of the erasure
declarations (`meta.onefold.erasure` of every source table and model that reads a
physical table) and the vars (identifier types, deadlines) into
`<target schema>_privacy.erasure_config`, with the relation each declaration deletes
from (fully rendered: the source, what an input var points at, an adapter's physical
tables) and the SQL that extracts and normalizes each identifier already rendered for
the target. Python reads that instead of re-implementing the normalization or re-reading
the project's YAML, so erase, verify and staging always agree, `--vars` overrides
included. Onefold's models (marts, staging tables) are found in dbt's manifest through
the `DbtProject` the config carries.

Before an erasure changes anything, `check_relations` makes sure every relation it
would delete from or update is a base table of the warehouse (a view cannot be: its
rows live in the tables behind it, which must be declared instead).

On DuckDB a relation's catalog is the file's name (its stem): the snapshot of
`warehouse/onefold.duckdb` names `"onefold"."raw"."web_events"`. A catalog the
connection does not have (the file was renamed or copied since the build) is read as
the file this connection opened, as DuckDB itself reads its views.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from onefold.errors import ConfigError
from onefold.project import DbtProject, Relation, locate
from onefold.sql import literal
from onefold.warehouse import Warehouse

CONFIG_VERSION = 4


@dataclass(frozen=True)
class IdentifierSql:
    """One identifier of a raw table, as SQL over the row aliased `erasure_row`."""

    identifier_type: str | None  # None: the type comes from a column (type_sql)
    type_sql: str
    value_sql: str
    match_key_sql: str


@dataclass(frozen=True)
class SourceConfig:
    name: str
    relation: str
    record_key_sql: str
    record_source: str
    action: str  # delete | redact
    redact: dict[str, str | None]
    keep_derived: tuple[str, ...]
    suppress: bool
    identifiers: tuple[IdentifierSql, ...]
    # Boolean SQL (alias erasure_row): an email or phone number anywhere in a declared
    # free-text column has a hash on the suppression list (dbt macro free_text_matches).
    free_text_sql: tuple[str, ...] = ()
    #: where it is declared, for messages: "meta.onefold.erasure of source 'web.web_events'"
    declared_in: str = ""
    #: staging tables holding copies of its raw rows, raw columns and all (Spark's base
    #: and quarantine models): cleaned as the raw table is
    copies: tuple[str, ...] = ()


@dataclass(frozen=True)
class StagingTable:
    """A staging model built as a table: a copy of raw rows that erasure cleans too."""

    schema: str
    table: str
    record_source: str  # the records' source label (identity_map's `source`)
    record_key: str  # its column holding the record key
    identifiers: tuple[tuple[str, str], ...]  # (column, identifier type)


@dataclass(frozen=True)
class ErasureConfig:
    target_type: str
    privacy_schema: str
    default_calling_code: str
    identifier_types: tuple[str, ...]
    hashed_identifier_types: tuple[str, ...]
    request_identifier_types: tuple[str, ...]
    regulations: tuple[str, ...]
    deadlines: dict[str, dict[str, int]]
    default_deadline: dict[str, int]
    verify_exclude_schemas: tuple[str, ...]
    #: the error staging raises without the right salt (macro missing_salt_message)
    missing_salt_message: str
    #: beyond this many hashes DuckDB's suppression macros read the table
    suppression_list_limit: int
    sources: dict[str, SourceConfig]
    staging_tables: tuple[StagingTable, ...] = ()
    #: where dbt built Onefold's models (its manifest) and the target's schemas
    project: DbtProject | None = None
    #: declarations whose rows reach staging through a dbt-built node that declares the
    #: physical tables itself (an adapter): name -> (declared in, served by)
    served: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: the erasure functions as SQL templates rendered for the target (match_key_sql)
    functions: dict[str, Any] = field(default_factory=dict)

    @property
    def dbt(self) -> DbtProject:
        if self.project is None:
            raise ConfigError("this erasure configuration was loaded without a dbt project.")
        return self.project

    def relation(self, model: str) -> Relation:
        """Onefold's model `model` as dbt built it (ConfigError if the manifest lacks it)."""
        return self.dbt.relation(model)

    def existing(self, warehouse: Warehouse, model: str) -> Relation | None:
        """Onefold's model `model` when the manifest has it and it is built, else None."""
        return self.dbt.exists(warehouse, model)

    @property
    def sync_schema(self) -> str:
        """`<target schema>_sync`: the sync state `onefold sync` keeps."""
        return self.dbt.sync_schema

    def privacy_table(self, table: str) -> str:
        return f"{self.privacy_schema}.{table}"

    def match_key_sql(self, type_sql: str, value_sql: str, code_sql: str | None = None) -> str:
        """SQL of the match key of `value_sql` read as the identifier type `type_sql` (a
        literal type uses that type's normalizer alone), phone numbers without a
        country code read with `code_sql` (default: the configured calling code)."""
        code = code_sql or literal(self.default_calling_code)
        of_type = self.functions["match_key_of_type"]
        unquoted = type_sql[1:-1] if type_sql[:1] == type_sql[-1:] == "'" else None
        template = of_type.get(unquoted) if unquoted is not None else None
        if template is None:
            template = self.functions["match_key"].replace("ERASURE_ARG_TYPE", f"({type_sql})")
        return (
            str(template)
            .replace("ERASURE_ARG_VALUE", f"({value_sql})")
            .replace("ERASURE_ARG_CODE", f"({code})")
        )

    def suppression_hash_sql(self, value_sql: str) -> str:
        """SQL of the salted hash of a match key (the session's salt)."""
        return str(self.functions["suppression_hash"]).replace(
            "ERASURE_ARG_VALUE", f"({value_sql})"
        )

    @property
    def salt_fingerprint_sql(self) -> str:
        """SQL of the fingerprint of the session's salt."""
        return str(self.functions["salt_fingerprint"])


def _source(name: str, raw: dict[str, Any]) -> SourceConfig:
    return SourceConfig(
        name=name,
        relation=str(raw["relation"]),
        record_key_sql=str(raw["record_key_sql"]),
        record_source=str(raw["record_source"]),
        action=str(raw["action"]),
        redact={str(k): (None if v is None else str(v)) for k, v in raw["redact"].items()},
        keep_derived=tuple(str(m) for m in raw["keep_derived"]),
        suppress=bool(raw["suppress"]),
        identifiers=tuple(
            IdentifierSql(
                identifier_type=item["type"],
                type_sql=str(item["type_sql"]),
                value_sql=str(item["value_sql"]),
                match_key_sql=str(item["match_key_sql"]),
            )
            for item in raw["identifiers"]
        ),
        free_text_sql=tuple(str(sql) for sql in raw.get("free_text_sql", [])),
        declared_in=str(raw.get("declared_in") or f"the erasure declaration {name!r}"),
        copies=tuple(str(copy) for copy in raw["copies"]),
    )


def parse_config(document: dict[str, Any], project: DbtProject | None) -> ErasureConfig:
    if document.get("version") != CONFIG_VERSION:
        raise ConfigError(
            f"erasure configuration version {document.get('version')!r} is not "
            f"{CONFIG_VERSION}: run `dbt build` with this version of Onefold."
        )
    return ErasureConfig(
        target_type=str(document["target_type"]),
        privacy_schema=str(document["privacy_schema"]),
        default_calling_code=str(document["default_calling_code"]),
        identifier_types=tuple(document["identifier_types"]),
        hashed_identifier_types=tuple(document["hashed_identifier_types"]),
        request_identifier_types=tuple(document["request_identifier_types"]),
        regulations=tuple(document["regulations"]),
        deadlines={str(k): dict(v) for k, v in document["deadlines"].items()},
        default_deadline=dict(document["default_deadline"]),
        verify_exclude_schemas=tuple(document["verify_exclude_schemas"]),
        missing_salt_message=str(document["missing_salt_message"]),
        suppression_list_limit=int(document["suppression_list_limit"]),
        sources={name: _source(name, raw) for name, raw in document["sources"].items()},
        staging_tables=tuple(
            StagingTable(
                schema=str(raw["schema"]),
                table=str(raw["table"]),
                record_source=str(raw["record_source"]),
                record_key=str(raw["record_key"]),
                identifiers=tuple((str(i["column"]), str(i["type"])) for i in raw["identifiers"]),
            )
            for raw in document["staging_tables"]
        ),
        project=project,
        served={
            str(name): (str(raw["declared_in"]), str(raw["served_by"]))
            for name, raw in document.get("served", {}).items()
        },
        functions=dict(document["functions"]),
    )


def load_config(warehouse: Warehouse, project: DbtProject | None = None) -> ErasureConfig:
    """The snapshot the last `dbt build` wrote in the privacy schema of `project`'s target
    (default: the dbt project of the working directory); ConfigError when there is none."""
    project = project or locate()
    schema = project.privacy_schema
    if not warehouse.table_exists(schema, "erasure_config"):
        raise ConfigError(
            f"no erasure configuration in {schema}.erasure_config: run `dbt build` first "
            "(its on-run-start hook creates Onefold's erasure tables and functions)."
        )
    rows = warehouse.query(
        f"select config_json from {schema}.erasure_config order by written_at desc limit 1"
    )
    if not rows:
        raise ConfigError(f"{schema}.erasure_config is empty: run `dbt build` first.")
    config = parse_config(json.loads(str(rows[0][0])), project)
    if warehouse.target == "duckdb":
        config = _in_current_catalog(warehouse, config)
    return config


_QUOTED = r'"(?:[^"]|"")*"'
_THREE_PART = re.compile(rf"^({_QUOTED})\.({_QUOTED}\.{_QUOTED})$")


def localize_relation(relation: str, catalogs: set[str], current: str) -> str:
    """`relation` with a catalog not in `catalogs` (quoted names) replaced by `current`."""
    match = _THREE_PART.match(relation.strip())
    if match is None or match.group(1)[1:-1].replace('""', '"') in catalogs:
        return relation
    return '"' + current.replace('"', '""') + '".' + match.group(2)


def _in_current_catalog(warehouse: Warehouse, config: ErasureConfig) -> ErasureConfig:
    catalogs = {
        str(name) for (name,) in warehouse.query("select database_name from duckdb_databases()")
    }
    current = str(warehouse.query("select current_database()")[0][0])
    sources = {
        name: replace(source, relation=localize_relation(source.relation, catalogs, current))
        for name, source in config.sources.items()
    }
    return replace(config, sources=sources)


_PART = re.compile(r'"((?:[^"]|"")*)"|([^".\s]+)')


_BACKQUOTED = re.compile(r"`((?:[^`]|``)*)`")


def relation_parts(relation: str) -> list[str] | None:
    """The names of a rendered relation (`"db"."schema"."table"`, `schema.table`):
    quoted parts as written, unquoted ones lower-cased (as both warehouses fold them);
    None when it is not a dotted name of two or three parts."""
    parts: list[str] = []
    position = 0
    # Spark's names are backquoted: read them as standard SQL's double-quoted ones.
    text = _BACKQUOTED.sub(
        lambda match: '"' + match.group(1).replace("``", "`").replace('"', '""') + '"',
        relation.strip(),
    )
    while True:
        match = _PART.match(text, position)
        if match is None:
            return None
        quoted, bare = match.groups()
        parts.append(quoted.replace('""', '"') if quoted is not None else bare.lower())
        position = match.end()
        if position == len(text):
            break
        if text[position] != ".":
            return None
        position += 1
    return parts if len(parts) in (2, 3) else None


def check_relations(warehouse: Warehouse, config: ErasureConfig) -> None:
    """Every relation erase deletes from or updates is a base table: ConfigError naming
    the declaration, the relation and what to do, before anything changes (a DELETE on a
    view fails mid-run: `Can only delete from base table`)."""
    problems = []
    for source in config.sources.values():
        kind = relation_kind(warehouse, source.relation)
        if kind == "BASE TABLE":
            continue
        what = (
            "is a view"
            if kind == "VIEW"
            else (f"is a {kind.lower()}" if kind else "does not exist")
        )
        problems.append(
            f"{source.declared_in} (erasure declaration {source.name!r}) deletes from "
            f"{source.relation}, which {what}: erase can only {source.action} rows of a "
            "base table. If that relation is a view or a model over your loader's tables, "
            "declare the physical tables behind it in meta.onefold.erasure of the model "
            "that reads them (one entry per table, each with `input: <var>`, record_key, "
            "identifiers, action), and point the input var at that model; if the table "
            "was moved or renamed, run `dbt build` so the erasure configuration names it."
        )
    if problems:
        raise ConfigError(
            "erasure cannot run: nothing was changed.\n" + "\n".join(f"- {p}" for p in problems)
        )


def relation_kind(warehouse: Warehouse, relation: str) -> str | None:
    """information_schema's table_type of `relation` (BASE TABLE, VIEW, …), or None
    when the warehouse has no such relation."""
    if warehouse.target == "spark":
        from onefold.spark import SparkWarehouse, name_parts

        assert isinstance(warehouse, SparkWarehouse)
        *_, schema, table = name_parts(relation)
        if not warehouse.table_exists(schema, table):
            return None
        return warehouse.table_types(schema).get(table)
    parts = relation_parts(relation)
    if parts is None:
        return None
    catalog = "current_database()" if len(parts) == 2 else "?"
    rows = warehouse.query(
        "select table_type from information_schema.tables "
        f"where table_catalog = {catalog} and table_schema = ? and table_name = ?",
        parts,
    )
    if not rows and warehouse.target == "postgres":
        # Materialized views are not in information_schema.tables.
        rows = warehouse.query(
            "select 'MATERIALIZED VIEW' from pg_matviews where schemaname = ? and matviewname = ?",
            parts[-2:],
        )
    return str(rows[0][0]) if rows else None
