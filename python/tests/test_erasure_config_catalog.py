"""The erasure configuration snapshot still finds raw tables when the DuckDB file (whose
stem is the catalog name) was renamed or copied after `dbt build` wrote the snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_erasure_unit import duckdb_functions

from onefold.erasure.config import (
    check_relations,
    load_config,
    localize_relation,
    parse_config,
    relation_parts,
)
from onefold.errors import ConfigError
from onefold.settings import DuckDBSettings
from onefold.testing.manifest import fake_project
from onefold.warehouse import DuckDBWarehouse


@pytest.mark.parametrize(
    ("relation", "expected"),
    [
        ('"onefold"."raw"."web_events"', '"copy"."raw"."web_events"'),
        ('"lake"."raw"."web_events"', '"lake"."raw"."web_events"'),  # attached: kept
        ('"on""e"."raw"."t"', '"copy"."raw"."t"'),
        ('"raw"."web_events"', '"raw"."web_events"'),
        ("raw.web_events", "raw.web_events"),
    ],
)
def test_localize_relation(relation: str, expected: str) -> None:
    assert localize_relation(relation, {"copy", "lake", "system", "temp"}, "copy") == expected


def _document(relation: str) -> dict[str, object]:
    return {
        "version": 4,
        "functions": duckdb_functions("onefold_privacy", ["email"]),
        "target_type": "duckdb",
        "privacy_schema": "onefold_privacy",
        "default_calling_code": "1",
        "identifier_types": ["email"],
        "hashed_identifier_types": [],
        "request_identifier_types": ["email"],
        "regulations": ["GDPR"],
        "deadlines": {"GDPR": {"months": 1}},
        "default_deadline": {"days": 30},
        "verify_exclude_schemas": [],
        "missing_salt_message": "no salt",
        "suppression_list_limit": 5000,
        "sources": {
            "contacts": {
                "relation": relation,
                "record_key_sql": "trim(erasure_row.contact_id)",
                "record_source": "contacts",
                "action": "delete",
                "redact": {},
                "keep_derived": [],
                "suppress": True,
                "identifiers": [],
                "declared_in": "meta.onefold.erasure of source 'crm.contacts'",
                "copies": [],
            }
        },
        "staging_tables": [],
    }


def test_load_config_reads_relations_in_the_file_it_opened(tmp_path: Path) -> None:
    built = tmp_path / "onefold.duckdb"
    warehouse = DuckDBWarehouse(DuckDBSettings(path=built))
    try:
        warehouse.execute("create schema raw")
        warehouse.execute("create table raw.contacts (contact_id varchar)")
        warehouse.execute("insert into raw.contacts values ('c1')")
        warehouse.execute("create schema onefold_privacy")
        warehouse.execute(
            "create table onefold_privacy.erasure_config "
            "(config_json varchar, written_at timestamp)"
        )
        warehouse.execute(
            "insert into onefold_privacy.erasure_config values (?, now())",
            [json.dumps(_document('"onefold"."raw"."contacts"'))],
        )
    finally:
        warehouse.close()
    renamed = built.rename(tmp_path / "renamed.duckdb")
    warehouse = DuckDBWarehouse(DuckDBSettings(path=renamed), read_only=True)
    try:
        config = load_config(warehouse, fake_project([], schema="onefold"))
        relation = config.sources["contacts"].relation
        assert relation == '"renamed"."raw"."contacts"'
        assert warehouse.query(f"select contact_id from {relation}") == [("c1",)]
    finally:
        warehouse.close()


@pytest.mark.parametrize(
    ("relation", "expected"),
    [
        ('"onefold"."raw"."web_events"', ["onefold", "raw", "web_events"]),
        ('"on""e"."Raw"."t"', ['on"e', "Raw", "t"]),
        ("Raw.Web_Events", ["raw", "web_events"]),
        ('"raw".tracks', ["raw", "tracks"]),
        ("tracks", None),
        ("(select 1)", None),
        ('"a"."b"."c"."d"', None),
    ],
)
def test_relation_parts(relation: str, expected: list[str] | None) -> None:
    assert relation_parts(relation) == expected


def test_check_relations_names_a_view_and_a_missing_table_before_anything_runs(
    tmp_path: Path,
) -> None:
    warehouse = DuckDBWarehouse(DuckDBSettings(path=tmp_path / "onefold.duckdb"))
    try:
        warehouse.execute("create schema raw")
        warehouse.execute("create table raw.contacts (contact_id varchar)")
        warehouse.execute("create view raw.contacts_view as select * from raw.contacts")
        base = parse_config(_document('"onefold"."raw"."contacts"'), None)
        check_relations(warehouse, base)  # a base table: fine
        for relation, what in (
            ('"onefold"."raw"."contacts_view"', "is a view"),
            ("raw.nowhere", "does not exist"),
        ):
            config = parse_config(_document(relation), None)
            with pytest.raises(ConfigError) as raised:
                check_relations(warehouse, config)
            message = str(raised.value)
            assert relation in message and what in message
            assert "meta.onefold.erasure of source 'crm.contacts'" in message
            assert "declare the physical tables behind it in meta.onefold.erasure" in message
    finally:
        warehouse.close()
