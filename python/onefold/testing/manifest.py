"""Small dbt manifests for tests that write tables straight into the warehouse (no dbt
build) but still go through the manifest lookup, as the command line does."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from onefold.project import PACKAGE, DbtProject, Manifest, Target


def manifest_node(
    name: str,
    schema: str,
    *,
    alias: str | None = None,
    package: str = PACKAGE,
    path: str | None = None,
    resource_type: str = "model",
    materialized: str = "table",
    database: str | None = None,
) -> dict[str, Any]:
    """One node as dbt writes it to manifest.json (the fields Onefold reads)."""
    identifier = alias or name
    return {
        "unique_id": f"{resource_type}.{package}.{name}",
        "resource_type": resource_type,
        "package_name": package,
        "name": name,
        "alias": identifier,
        "schema": schema,
        "database": database,
        "path": path or f"marts/{name}.sql",
        "original_file_path": f"models/{path or f'marts/{name}.sql'}",
        "relation_name": f'"{schema}"."{identifier}"'
        if database is None
        else f'"{database}"."{schema}"."{identifier}"',
        "config": {"materialized": materialized},
        "depends_on": {"nodes": []},
    }


def manifest_document(nodes: list[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},
        "nodes": {str(node["unique_id"]): dict(node) for node in nodes},
        "sources": {},
    }


def write_manifest(target_path: Path, nodes: list[Mapping[str, Any]]) -> Path:
    """`<target_path>/manifest.json` holding `nodes`; returns its path."""
    target_path.mkdir(parents=True, exist_ok=True)
    path = target_path / "manifest.json"
    path.write_text(json.dumps(manifest_document(nodes)))
    return path


def fake_project(
    nodes: list[Mapping[str, Any]],
    *,
    schema: str = "onefold",
    target_type: str = "duckdb",
    duckdb_path: Path | None = None,
    project_dir: Path | None = None,
) -> DbtProject:
    """A DbtProject over an in-memory manifest of `nodes`, no profile read: for unit
    tests of code that looks relations up."""
    from onefold.settings import DuckDBSettings, PostgresSettings

    target = Target(
        name=target_type,
        type=target_type,
        schema=schema,
        duckdb=DuckDBSettings(path=duckdb_path)
        if target_type == "duckdb" and duckdb_path
        else None,
        postgres=PostgresSettings() if target_type == "postgres" else None,
    )
    root = project_dir or Path.cwd()
    return DbtProject(
        project_dir=root,
        profiles_dir=root,
        target=target,
        target_path=root / "target",
        _manifest=Manifest(manifest_document(nodes)),
    )
