"""Parse a dbt project once per test process, not once per dbt invocation.

Parsing the demo project takes about 6.5 s, and dbt's own partial parsing cannot help
the tests: it starts over whenever the command-line vars or the profile's connection
values change, and every test has its own warehouse file or database. dbt's
`dbtRunner(manifest=...)` skips parsing; this module keeps one parsed manifest per
everything parsing reads, and hands each invocation its own copy (a run writes into
its manifest's nodes).

What parsing reads, and so what the cache key holds:
- the project directory and the files of the project and its packages (path, size and
  modification time of everything dbt parses);
- the command-line vars, except RUNTIME_VARS, which only the SQL compiled at run time
  reads;
- the environment, except PARSE_FREE_ENV: a DuckDB file counts only by its name (its
  stem is the warehouse's database name, which relation names carry), so the tests'
  warehouses, all called `onefold.duckdb` (testing.warehouse), share one parse;
- not the PostgreSQL database's name: each test has its own database on one server, and
  a copy's nodes and sources are moved to the invocation's database (`_move_database`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

# dbt commands that read a manifest (the others neither parse nor take one).
MANIFEST_COMMANDS = frozenset(
    {"build", "run", "test", "seed", "compile", "run-operation", "ls", "list", "show"}
)
# Vars read only by the SQL a run compiles and by the macros it runs, never by what
# parsing records: no ref, source, config or test depends on them. (A bad value fails
# the run instead of the parse, with the same message.)
RUNTIME_VARS = frozenset(
    {
        "onefold__now",  # macros/profiles/reporting_now.sql and its callers
        "onefold__segments",  # the segment models and the on-run-start check
        "onefold__consent_conflict_policy",  # consent_history's SQL
        "onefold__match_retrain",  # identity_match_parameters' SQL
        "onefold__max_cluster_size",  # the identity models' SQL and guard macro
        "onefold__components_method",  # the connected-components macros
        "onefold__components_max_iterations",
    }
)
# Environment that parsing does not read: connection secrets, options and spill paths
# (secrets cannot reach parsing: dbt refuses DBT_ENV_SECRET_ outside profiles).
# The target path is where dbt writes, not what it parses; test-only settings (webhook
# secrets) reach no dbt file.
PARSE_FREE_ENV = (
    "DBT_ENV_SECRET_",
    "DBT_TARGET_PATH",
    "PGOPTIONS",
    "ONEFOLD_DUCKDB_TEMP_DIRECTORY",
    "ONEFOLD_TEST_",
)
# The parts of a dbt project that parsing reads.
PARSED_DIRECTORIES = ("models", "macros", "seeds", "tests", "snapshots", "analyses")
PARSED_FILES = ("dbt_project.yml", "packages.yml", "dependencies.yml", "selectors.yml")

# The environment variable naming the PostgreSQL database (profiles.yml); parsing puts
# its value into every node's `database` and `relation_name` only.
DATABASE_ENV = "ONEFOLD_PG_DATABASE"
DEFAULT_DATABASE = "onefold"

# key -> (the PostgreSQL database parsed into it, or None; the serialized manifest)
_manifests: dict[tuple[Any, ...], tuple[str | None, bytes]] = {}


def _files(project: Path) -> list[tuple[str, int, int]]:
    found = []
    for name in PARSED_FILES:
        path = project / name
        if path.is_file():
            stat = path.stat()
            found.append((str(path), stat.st_size, stat.st_mtime_ns))
    for directory in PARSED_DIRECTORIES:
        for root, _, names in os.walk(project / directory):
            for name in names:
                stat = os.stat(os.path.join(root, name))
                found.append((os.path.join(root, name), stat.st_size, stat.st_mtime_ns))
    return found


def _project_files(project_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """Every parsed file of the project and of its installed packages."""
    projects = [project_dir]
    packages = project_dir / "dbt_packages"
    if packages.is_dir():
        projects += sorted(package.resolve() for package in packages.iterdir())
    return tuple(sorted(entry for project in projects for entry in _files(project)))


def _parse_vars(args: Sequence[str]) -> dict[str, Any]:
    if "--vars" not in args:
        return {}
    position = list(args).index("--vars")
    loaded = yaml.safe_load(args[position + 1]) or {}
    return {key: value for key, value in loaded.items() if key not in RUNTIME_VARS}


def _parse_environment(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    relevant = {
        key: value
        for key, value in {**os.environ, **env}.items()
        if key.startswith(("ONEFOLD_", "DBT_")) and not key.startswith(PARSE_FREE_ENV)
    }
    if "ONEFOLD_DUCKDB_PATH" in relevant:
        relevant["ONEFOLD_DUCKDB_PATH"] = Path(relevant["ONEFOLD_DUCKDB_PATH"]).stem
    relevant.pop(DATABASE_ENV, None)
    return tuple(sorted(relevant.items()))


def cache_key(
    args: Sequence[str], env: Mapping[str, str], project_dir: Path
) -> tuple[Any, ...] | None:
    """What parsing `dbt <args>` would read, or None for a command that takes no
    manifest."""
    if not args or args[0] not in MANIFEST_COMMANDS:
        return None
    vars_text = yaml.safe_dump(_parse_vars(args), sort_keys=True)
    return (str(project_dir), vars_text, _parse_environment(env), _project_files(project_dir))


def parsed_manifest(key: tuple[Any, ...], parse: Any) -> Any | None:
    """A fresh copy of the manifest parsed for `key`; `parse()` parses it the first time
    (returning dbt's Manifest, or None when parsing failed: nothing is cached then)."""
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumaro_encoder, extended_mashumuro_decoder

    if key not in _manifests:
        manifest = parse()
        if manifest is None:
            return None
        _manifests[key] = (_database(manifest), manifest.to_msgpack(extended_mashumaro_encoder))
    parsed_database, serialized = _manifests[key]
    manifest = Manifest.from_msgpack(serialized, decoder=extended_mashumuro_decoder)
    database = _database(manifest)
    if database is not None and parsed_database is not None and database != parsed_database:
        _move_database(manifest, parsed_database, database)
    return manifest


def _database(manifest: Any) -> str | None:
    """The PostgreSQL database the profile names now, for a PostgreSQL manifest."""
    if manifest.metadata.adapter_type != "postgres":
        return None
    return os.environ.get(DATABASE_ENV, DEFAULT_DATABASE)


def _move_database(manifest: Any, parsed: str, database: str) -> None:
    """Point what parsing placed in database `parsed` at `database` instead, and rebuild
    the `graph` context variable macros read."""
    old_prefix, new_prefix = f'"{parsed}".', f'"{database}".'
    for node in [*manifest.nodes.values(), *manifest.sources.values()]:
        if getattr(node, "database", None) != parsed:
            continue
        node.database = database
        relation_name = getattr(node, "relation_name", None)
        if relation_name and relation_name.startswith(old_prefix):
            node.relation_name = new_prefix + relation_name[len(old_prefix) :]
    manifest.build_flat_graph()
