"""Every statement an erasure runs, built before anything runs (the dry run prints them).

The person's keys go into a session-temporary table `erasure_keys` (item_kind, item_group,
item_key, item_detail), so statements carry no values: what is logged and stored in the
journal is the exact SQL, and no erased value is ever in it.

- raw: each declared table (meta.onefold.erasure; its relation checked to be a base
  table before anything runs, `config.check_relations`): rows whose key is one of the person's
  records, or which carry one of the person's identifiers in any declared column (so
  quarantined rows and old versions go too), are deleted, or redacted where the source
  says `redact` (the row and its amounts stay, the named columns are overwritten).
- derived: every table of Onefold's own schemas (intermediate, marts and any other
  `<base>_*` schema but staging, reference, privacy and sync), incremental history
  included, loses the rows keyed on one of the person's customer ids, records,
  identifiers or graph nodes. Which columns key a row is read from the catalog, so new
  models are covered without a list to maintain. Staging views need nothing (they read
  the raw tables); staging models built as tables lose the person's rows by the record
  key and identifier columns their YAML declares. This is "rebuild only what is
  affected": one person's rows, no model rebuilt; aggregates over everyone (scores,
  counts) refresh on the next `dbt build`.
- sync state: after a destination confirmed the delete, its state and failure rows.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

from onefold.dml import RowChange, RowInsert
from onefold.erasure.config import ErasureConfig, SourceConfig, relation_parts
from onefold.erasure.resolve import (
    SYNC_FAILURES_TABLE,
    SYNC_RUNS_TABLE,
    SYNC_STATE_TABLE,
    Resolution,
)
from onefold.erasure.store import KEYS_TABLE, fill_temp_table
from onefold.sql import literal, placeholders, relation
from onefold.warehouse import Warehouse, quote_ident

# item kinds of erasure_keys / erasure_work
CUSTOMER, RECORD, IDENTIFIER, NODE, SYNC_RECORD, SUPPRESSION = (
    "customer",
    "record",
    "identifier",
    "node",
    "sync_record",
    "suppression",
)
#: erasure_keys only (found while a request runs, never stored): another person's record
#: whose raw row names an erased person in free text (mentions_statements)
MENTION = "mention"

KEY_COLUMNS = ("item_kind", "item_group", "item_key", "item_detail")
_TEXT_TYPES = ("text", "varchar", "character varying", "character", "string")
NODE_COLUMNS = ("node_id", "record_node_id", "left_node_id", "right_node_id")


@dataclass(frozen=True)
class Statement:
    step: str  # unique journal name within a request
    phase: str  # raw | derived | sync_state
    table: str
    action: str  # delete | redact
    change: RowChange | RowInsert

    @property
    def sql(self) -> str:
        return self.change.sql

    @property
    def params(self) -> tuple[Any, ...]:
        return self.change.all_params

    @property
    def count_sql(self) -> str:
        return self.change.count_sql

    @property
    def count_params(self) -> tuple[Any, ...]:
        return self.change.params

    @property
    def logged(self) -> str:
        """The statement as logged: SQL text only; bound values are masked."""
        suffix = f"  -- {len(self.params)} bound value(s) masked" if self.params else ""
        return " ".join(self.sql.split()) + suffix


def keys(kind: str | tuple[str, ...], column: str = "item_key", group: str | None = None) -> str:
    kinds = (kind,) if isinstance(kind, str) else kind
    where = f"item_kind in ({', '.join(literal(k) for k in kinds)})"
    if group is not None:
        where += f" and item_group = {literal(group)}"
    return f"(select {column} from {KEYS_TABLE} where {where})"


def key_items(resolution: Resolution) -> list[tuple[str, str, str, str]]:
    """The person's keys as (kind, group, key, detail) rows."""
    items: list[tuple[str, str, str, str]] = []
    items += [(CUSTOMER, "", c, "") for c in resolution.customer_ids]
    items += [(RECORD, source, key, "") for source, key in resolution.records]
    if resolution.intake_record:
        items.append((RECORD, *resolution.intake_record, ""))
    items += [
        (IDENTIFIER, i.identifier_type, i.normalized_value, i.match_key)
        for i in resolution.identifiers
    ]
    items += [(NODE, "", node, "") for node in resolution.nodes]
    items += [
        (SYNC_RECORD, r.sync_name, r.record_key, r.destination_name)
        for r in resolution.sync_records
    ]
    return sorted(set(items))


def load_keys(warehouse: Warehouse, items: Sequence[tuple[str, str, str, str]]) -> None:
    """(Re)fill the session's erasure_keys table."""
    fill_temp_table(warehouse, KEYS_TABLE, KEY_COLUMNS, items)


def raw_statements(config: ErasureConfig) -> list[Statement]:
    return [
        _source_statement(source, "raw", _raw_predicate(source))
        for source in config.sources.values()
    ]


def sweep_statements(config: ErasureConfig) -> list[Statement]:
    """Raw rows re-loaded after their person was erased: any declared identifier, or any
    email or phone number in a declared free-text column, whose salted hash is on the
    suppression list (the session must carry the salt)."""
    suppressions = config.privacy_table("erasure_suppressions")
    statements = []
    for source in config.sources.values():
        checks = [
            in_keys(
                identifier.value_sql,
                config.suppression_hash_sql(identifier.match_key_sql),
                source.relation,
                f"(select suppression_hash from {suppressions})",
            )
            for identifier in source.identifiers
        ]
        free_text = free_text_predicate(source)
        if free_text is not None:
            checks.append(free_text)
        if not checks:
            continue
        predicate = "(" + "\n    or ".join(checks) + ")"
        statements.append(_source_statement(source, "sweep", predicate))
    return statements


def free_text_predicate(source: SourceConfig) -> str | None:
    """The source's rows (alias `erasure_row`) that name an erased person (a hash on the
    suppression list) in a declared free-text column: emails and '+' phone numbers
    anywhere in the text, as staging screens them (dbt macro free_text_matches). The
    session must carry the salt. None when the source declares no free text."""
    if not source.free_text_sql:
        return None
    return "(" + "\n    or ".join(source.free_text_sql) + ")"


def mentions_queries(config: ErasureConfig) -> list[str]:
    """Queries of the `erasure_keys` rows (MENTION items) of the records whose raw row
    names an erased person only in free text (another person's page URL, a property):
    a full build screens such rows out of staging (and so out of everything built from
    it), but incremental staging tables and marts keep what they staged before the
    person was erased, until `--sweep` deletes the raw row. The staging and derived
    statements delete these records too, as a rebuild would. Run after the suppress
    step (the person's hashes are on the list then); the raw rows stay (the sweep's)."""
    queries = []
    for source in config.sources.values():
        predicate = free_text_predicate(source)
        if predicate is None:
            continue
        queries.append(
            f"select distinct {literal(MENTION)}, {literal(source.record_source)}, "
            f"{source.record_key_sql}, '' from {source.relation} as erasure_row "
            f"where {predicate}"
        )
    return queries


def _source_statement(source: SourceConfig, phase: str, predicate: str) -> Statement:
    """The source's action (delete, or redact its named columns) on the rows matching."""
    change = RowChange(source.relation, predicate, alias="erasure_row")
    if source.action != "delete":
        change = RowChange(
            source.relation,
            predicate,
            alias="erasure_row",
            assignments=tuple((column, "?") for column in source.redact),
            assignment_params=tuple(source.redact.values()),
        )
    return Statement(
        step=f"{phase}:{source.name}",
        phase=phase,
        table=source.relation,
        action=source.action,
        change=change,
    )


def _raw_predicate(source: SourceConfig) -> str:
    parts = [f"{source.record_key_sql} in {keys(RECORD, group=source.record_source)}"]
    parts += [
        in_keys(
            identifier.value_sql,
            identifier.match_key_sql,
            source.relation,
            keys(IDENTIFIER, "item_detail"),
        )
        for identifier in source.identifiers
    ]
    return "(" + "\n    or ".join(parts) + ")"


def in_keys(value_sql: str, key_sql: str, table: str, keys_sql: str) -> str:
    """`key_sql in keys_sql` for the rows of `table` (alias erasure_row), where `key_sql`
    normalizes `value_sql`: written so that each distinct value is normalized once, not
    each row (`value_sql in (the distinct values whose key is in keys_sql)`, the same
    rows). The normalizer is an inlined macro on DuckDB that repeats its argument some
    twenty times: a JSON-held identifier was parsed that often per row (10k persons:
    11 s of a raw web events delete, 2 s this way). When the key reads more of the row
    than `value_sql` (a country column), it stays row by row."""
    distinct = key_sql.replace(value_sql, "erasure_distinct.distinct_value")
    if value_sql not in key_sql or "erasure_row" in distinct:
        return f"{key_sql} in {keys_sql}"
    return (
        f"{value_sql} in (select erasure_distinct.distinct_value from (select distinct "
        f"{value_sql} as distinct_value from {table} as erasure_row) as erasure_distinct "
        f"where {distinct} in {keys_sql})"
    )


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str


def catalog(warehouse: Warehouse, schemas: Sequence[str]) -> dict[tuple[str, str], list[Column]]:
    """Base tables of `schemas` and their columns, from information_schema."""
    if not schemas:
        return {}
    if warehouse.target == "spark":
        return _spark_catalog(warehouse, schemas)
    markers = placeholders(schemas)
    current = "current_database()"
    rows = warehouse.query(
        f"select columns.table_schema, columns.table_name, columns.column_name, "
        f"lower(columns.data_type) from information_schema.columns as columns "
        f"inner join information_schema.tables as tables "
        f"on columns.table_catalog = tables.table_catalog "
        f"and columns.table_schema = tables.table_schema "
        f"and columns.table_name = tables.table_name "
        f"where tables.table_type = 'BASE TABLE' and columns.table_catalog = {current} "
        f"and columns.table_schema in ({markers}) "
        f"order by columns.table_schema, columns.table_name, columns.ordinal_position",
        list(schemas),
    )
    tables: dict[tuple[str, str], list[Column]] = {}
    for schema, table, column, data_type in rows:
        tables.setdefault((str(schema), str(table)), []).append(
            Column(str(column).lower(), str(data_type))
        )
    return tables


def _spark_catalog(
    warehouse: Warehouse, schemas: Sequence[str]
) -> dict[tuple[str, str], list[Column]]:
    """catalog() from Spark's catalog (Spark SQL has no information_schema). A table a
    copy-on-write rewrite works in is left out: it holds no row its table does not."""
    from onefold.spark import REWRITE_SUFFIX, SparkWarehouse

    assert isinstance(warehouse, SparkWarehouse)
    tables: dict[tuple[str, str], list[Column]] = {}
    for schema in sorted(schemas):
        for table, kind in sorted(warehouse.table_types(schema).items()):
            if kind == "BASE TABLE" and not table.endswith(REWRITE_SUFFIX):
                tables[(schema, table)] = [
                    Column(name.lower(), data_type.lower())
                    for name, data_type in warehouse.columns(schema, table)
                ]
    return tables


def base_table_schemas(warehouse: Warehouse) -> list[str]:
    """Every schema of the current database that holds a base table."""
    if warehouse.target == "spark":
        from onefold.spark import SparkWarehouse

        assert isinstance(warehouse, SparkWarehouse)
        # Every schema: telling which hold tables costs a metastore call each, and
        # catalog() reads only the tables of the schemas it is given anyway.
        return warehouse.schemas()
    rows = warehouse.query(
        "select distinct table_schema from information_schema.tables "
        "where table_catalog = current_database() and table_type = 'BASE TABLE'"
    )
    return sorted(str(schema) for (schema,) in rows)


def derived_schemas(warehouse: Warehouse, config: ErasureConfig) -> list[str]:
    """Onefold's own schemas whose tables erasure cleans: where dbt built Onefold's models
    outside staging (views over raw; its tables are config.staging_tables), as the
    manifest says, but not privacy (its own state), sync (after destinations), or a
    schema that holds only seeds (reference data)."""
    built = {
        r.schema
        for r in config.dbt.manifest.onefold_relations()
        if r.resource_type == "model" and r.layer != "staging"
    }
    skipped = {config.privacy_schema, config.sync_schema}
    return [
        schema
        for schema in base_table_schemas(warehouse)
        if schema in built and schema not in skipped
    ]


def derived_statements(warehouse: Warehouse, config: ErasureConfig) -> list[Statement]:
    keep: dict[str, list[str]] = {}
    for source in config.sources.values():
        for model in source.keep_derived:
            keep.setdefault(model, []).append(source.record_source)
    derived = derived_schemas(warehouse, config)
    staging = {table.schema for table in config.staging_tables}
    tables = catalog(warehouse, sorted(set(derived) | staging))
    statements = staging_statements(config, tables)
    staged = {(table.schema, table.table) for table in config.staging_tables}
    for source in config.sources.values():
        for copy in source.copies:
            *_, schema, table = relation_parts(copy) or ["", ""]
            if (schema, table) in tables:
                staged.add((schema, table))
                copied = replace(source, relation=copy)
                statement = _source_statement(copied, "derived", _raw_predicate(copied))
                statements.append(replace(statement, step=f"derived:{schema}.{table}"))
    # keep_derived names models; a model's table may be aliased.
    models = {(r.schema, r.identifier): r.name for r in config.dbt.manifest.onefold_relations()}
    for (schema, table), columns in tables.items():
        if schema not in derived or (schema, table) in staged:
            continue
        model = models.get((schema, table), table)
        predicate = derived_predicate(config, columns, keep.get(model, []), relation(schema, table))
        if predicate is not None:
            statements.append(_derived_delete(schema, table, predicate))
    return statements


def _derived_delete(
    schema: str, table: str, predicate: str, emptied: Sequence[str] = ()
) -> Statement:
    """Delete the matching rows; with `emptied`, keep them and set those columns to null
    (a staging table of a redacting source)."""
    return Statement(
        step=f"derived:{schema}.{table}",
        phase="derived",
        table=f"{schema}.{table}",
        action="redact" if emptied else "delete",
        change=RowChange(
            relation(schema, table),
            predicate,
            alias="erasure_row",
            assignments=tuple((column, "null") for column in emptied),
        ),
    )


def staging_statements(
    config: ErasureConfig, present: Collection[tuple[str, str]]
) -> list[Statement]:
    """Staging models built as tables hold a copy of raw rows until the next build: the
    person's rows go, by record key or by any declared identifier. Where the source
    redacts instead (the row and its amounts stay), the staged row stays too, its
    identifier columns emptied as the redacted raw row would stage, so staged +
    quarantined still add up to the raw rows until the next build.
    `present`: the (schema, table) base tables that exist (from catalog())."""
    redacting = {
        source.record_source for source in config.sources.values() if source.action == "redact"
    }
    statements = []
    for table in config.staging_tables:
        if (table.schema, table.table) not in present:
            continue  # not built yet, or a view on this target
        record_key = f"cast(erasure_row.{quote_ident(table.record_key)} as varchar)"
        # The person's records, and records naming them only in free text (MENTION).
        parts = [f"{record_key} in {keys((RECORD, MENTION), group=table.record_source)}"]
        target = relation(table.schema, table.table)
        for column, kind in table.identifiers:
            value = f"cast(erasure_row.{quote_ident(column)} as varchar)"
            parts.append(
                in_keys(
                    value,
                    config.match_key_sql(literal(kind), value),
                    target,
                    keys(IDENTIFIER, "item_detail", kind),
                )
            )
        predicate = "(" + "\n    or ".join(parts) + ")"
        # A redacting source's staged rows stay, with their identifier columns emptied.
        emptied = (
            [column for column, _ in table.identifiers] if table.record_source in redacting else []
        )
        statements.append(_derived_delete(table.schema, table.table, predicate, emptied))
    return statements


def derived_predicate(
    config: ErasureConfig,
    columns: Sequence[Column],
    kept_sources: Sequence[str] = (),
    target: str | None = None,
) -> str | None:
    """The rows of a table that belong to the person, from its column names; None when
    no column keys a row to a person. `target`: the table (each distinct value of a
    column named after an identifier type is then normalized once, see in_keys)."""
    names = {column.name: column for column in columns}
    parts: list[str] = []
    for name in ("customer_id", "previous_customer_id"):
        if name in names:
            parts.append(f"erasure_row.{name} in {keys(CUSTOMER)}")
    if "source" in names and "record_key" in names:
        part = (
            f"exists (select 1 from {KEYS_TABLE} as k "
            f"where k.item_kind in ({literal(RECORD)}, {literal(MENTION)}) "
            "and k.item_group = erasure_row.source and k.item_key = erasure_row.record_key)"
        )
        if kept_sources:
            kept = ", ".join(literal(s) for s in kept_sources)
            part = f"({part} and erasure_row.source not in ({kept}))"
        parts.append(part)
    if "identifier_type" in names:
        if "match_key" in names:
            value_column, key_column = "match_key", "item_detail"
        elif "normalized_value" in names:
            value_column, key_column = "normalized_value", "item_key"
        else:
            value_column, key_column = "", ""
        if value_column:
            parts.append(
                f"exists (select 1 from {KEYS_TABLE} as k where k.item_kind = "
                f"{literal(IDENTIFIER)} and k.item_group = erasure_row.identifier_type "
                f"and k.{key_column} = erasure_row.{value_column})"
            )
        elif "identifier_value" in names:
            key = config.match_key_sql(
                "lower(trim(erasure_row.identifier_type))",
                "cast(erasure_row.identifier_value as varchar)",
            )
            parts.append(f"{key} in {keys(IDENTIFIER, 'item_detail')}")
    for name in NODE_COLUMNS:
        if name in names:
            parts.append(f"cast(erasure_row.{name} as varchar) in {keys(NODE)}")
    for kind in config.identifier_types:
        column = names.get(kind)
        if column is None or kind == "customer_id":
            continue
        if not any(column.data_type.startswith(t) for t in _TEXT_TYPES):
            continue
        value = f"erasure_row.{kind}"
        key = config.match_key_sql(literal(kind), value)
        kind_keys = keys(IDENTIFIER, "item_detail", kind)
        parts.append(in_keys(value, key, target, kind_keys) if target else f"{key} in {kind_keys}")
    if not parts:
        return None
    return "(" + "\n    or ".join(parts) + ")"


def sync_runs_statement(config: ErasureConfig) -> Statement:
    """Run summaries quote refused records (`key: error`): blank those naming the person."""
    schema = config.sync_schema
    predicate = (
        f"exists (select 1 from {KEYS_TABLE} as k where k.item_kind in "
        f"({literal(CUSTOMER)}, {literal(SYNC_RECORD)}, {literal(IDENTIFIER)}) "
        "and length(k.item_key) >= 4 and strpos(erasure_row.error_summary, k.item_key) > 0)"
    )
    return Statement(
        step="sync_runs",
        phase="sync_state",
        table=f"{schema}.{SYNC_RUNS_TABLE}",
        action="redact",
        change=RowChange(
            relation(schema, SYNC_RUNS_TABLE),
            predicate,
            alias="erasure_row",
            assignments=(("error_summary", "?"),),
            assignment_params=("[redacted: named an erased person]",),
        ),
    )


def sync_state_statements(
    config: ErasureConfig, sync_name: str, destination_name: str
) -> list[Statement]:
    """Delete a destination's state and failure rows for the person (after its delete)."""
    schema = config.sync_schema
    person = (
        f"(erasure_row.customer_id in {keys(CUSTOMER)} "
        f"or erasure_row.record_key in {keys(SYNC_RECORD, group=sync_name)})"
    )
    state = RowChange(
        relation(schema, SYNC_STATE_TABLE),
        f"erasure_row.sync_name = ? and erasure_row.destination_name = ? and {person}",
        (sync_name, destination_name),
        alias="erasure_row",
    )
    failures = RowChange(
        relation(schema, SYNC_FAILURES_TABLE),
        f"erasure_row.sync_name = ? and {person}",
        (sync_name,),
        alias="erasure_row",
    )
    return [
        Statement(
            step=f"sync_state:{sync_name}/{destination_name}",
            phase="sync_state",
            table=f"{schema}.{SYNC_STATE_TABLE}",
            action="delete",
            change=state,
        ),
        Statement(
            step=f"sync_failures:{sync_name}/{destination_name}",
            phase="sync_state",
            table=f"{schema}.{SYNC_FAILURES_TABLE}",
            action="delete",
            change=failures,
        ),
    ]
