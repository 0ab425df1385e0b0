"""Where Onefold's tables are, found the way dbt finds them.

The command line locates the dbt project, its profile and target like dbt does, renders
the profile with dbt's own renderer (so `env_var()` and `DBT_ENV_SECRET_*` behave
exactly as in dbt) and reads the relations it needs from dbt's manifest: Onefold never
builds a schema name itself, so marts a host project places in other schemas or aliases
are found where dbt put them.

- project dir: `--project-dir`, else `DBT_PROJECT_DIR`, else the nearest directory from
  the working directory up that holds a `dbt_project.yml` (as dbt does);
- profiles dir: `--profiles-dir`, else `DBT_PROFILES_DIR`, else the project dir or the
  working directory when it holds a `profiles.yml`, else `~/.dbt`;
- target: `--target`, else `DBT_TARGET`, else the profile's default `target:`;
- manifest: `<target path>/manifest.json`, the target path being `--target-path`, else
  `DBT_TARGET_PATH`, else the project's `target-path` (default `target`), relative to
  the project dir.

Onefold may be the root project or an installed package: its nodes are the ones of
package `onefold`, preferred over a host model of the same name.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from onefold.errors import ConfigError
from onefold.settings import (
    TARGETS,
    DuckDBSettings,
    PostgresSettings,
    ProjectSettings,
    SparkSettings,
)

if TYPE_CHECKING:
    from onefold.warehouse import Warehouse

PACKAGE = "onefold"
#: resource types whose nodes are relations in the warehouse
_RELATION_TYPES = ("model", "seed", "snapshot")
_PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_$]*$")


def quote_name(name: str) -> str:
    """An identifier as SQL: bare when it is lower-case and plain, else double-quoted."""
    if _PLAIN_NAME.match(name):
        return name
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Relation:
    """A table or view as dbt built it: its schema and identifier (the alias)."""

    schema: str
    identifier: str
    database: str | None = None
    #: the dbt node's name (`customer_records`), for messages
    name: str = ""
    #: the node's folder path below its package's model path (`marts/identity/...`)
    path: str = ""
    resource_type: str = "model"
    materialized: str | None = None

    def __str__(self) -> str:
        return f"{quote_name(self.schema)}.{quote_name(self.identifier)}"

    @property
    def layer(self) -> str:
        """The first folder of the node's path (`staging`, `intermediate`, `marts`)."""
        return self.path.split("/", 1)[0] if "/" in self.path else ""


class Manifest:
    """dbt's `manifest.json`, indexed by node name (read once per command)."""

    def __init__(self, document: Mapping[str, Any], path: Path | None = None) -> None:
        self.document = document
        self.path = path
        self._onefold: dict[str, Relation] = {}
        self._others: dict[str, list[Relation]] = {}
        for node in document.get("nodes", {}).values():
            if node.get("resource_type") not in _RELATION_TYPES:
                continue
            relation = _node_relation(node)
            if node.get("package_name") == PACKAGE:
                self._onefold[relation.name] = relation
            else:
                self._others.setdefault(relation.name, []).append(relation)

    @classmethod
    def load(cls, path: Path, project_dir: Path) -> Manifest:
        if not path.exists():
            raise ConfigError(
                f"no dbt manifest at {path}: run `dbt parse` (or `dbt build`) in the project "
                f"{project_dir} first, or point --target-path / DBT_TARGET_PATH at its target "
                "directory."
            )
        try:
            with path.open("rb") as handle:
                document = json.load(handle)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the dbt manifest {path}: {exc}") from exc
        return cls(document, path)

    def find(self, name: str) -> Relation | None:
        """Onefold's node `name`, else None."""
        return self._onefold.get(name)

    def find_any(self, name: str) -> Relation | None:
        """Onefold's node `name`, else the only node of that name in another package."""
        if name in self._onefold:
            return self._onefold[name]
        others = self._others.get(name, [])
        return others[0] if len(others) == 1 else None

    def onefold_relations(self) -> list[Relation]:
        return list(self._onefold.values())

    @property
    def has_onefold(self) -> bool:
        return bool(self._onefold)


def _node_relation(node: Mapping[str, Any]) -> Relation:
    path = str(node.get("path") or node.get("original_file_path") or "").replace(os.sep, "/")
    config = node.get("config") or {}
    return Relation(
        schema=str(node["schema"]),
        identifier=str(node.get("alias") or node["name"]),
        database=node.get("database"),
        name=str(node["name"]),
        path=path,
        resource_type=str(node.get("resource_type")),
        materialized=config.get("materialized"),
    )


@dataclass(frozen=True)
class Target:
    """The profile's output the command runs against."""

    name: str  # the target's name in the profile (`dev`, `prod`, `duckdb`, ...)
    type: str  # the adapter type: duckdb | postgres | spark
    schema: str
    duckdb: DuckDBSettings | None = None
    postgres: PostgresSettings | None = None
    spark: SparkSettings | None = None


def _secret(value: Any) -> SecretStr:
    return SecretStr("" if value is None else str(value))


def target_from_profile(name: str, data: Mapping[str, Any], profile: str) -> Target:
    """A Target from a rendered profile output; ConfigError for adapters we do not speak."""
    kind = str(data.get("type", ""))
    if kind not in TARGETS:
        raise ConfigError(
            f"target {name!r} of profile {profile!r} has adapter type {kind!r}: Onefold's "
            f"command line supports {', '.join(TARGETS)}."
        )
    schema = data.get("schema")
    if not schema:
        raise ConfigError(f"target {name!r} of profile {profile!r} has no schema.")
    if kind == "duckdb":
        settings = {str(k): str(v) for k, v in (data.get("settings") or {}).items()}
        # The spill directory Onefold's dbt-duckdb plugin sets (profiles.yml).
        for plugin in data.get("plugins") or []:
            if isinstance(plugin, Mapping) and plugin.get("module") == "onefold.duckdb_plugin":
                temp_directory = (plugin.get("config") or {}).get("temp_directory")
                if temp_directory:
                    settings["temp_directory"] = str(temp_directory)
        duckdb = DuckDBSettings(path=Path(str(data.get("path", ":memory:"))), config=settings)
        return Target(name=name, type=kind, schema=str(schema), duckdb=duckdb)
    if kind == "spark":
        return Target(name=name, type=kind, schema=str(schema), spark=_spark_settings(data))
    postgres = PostgresSettings.model_validate(
        {
            "host": str(data.get("host", "127.0.0.1")),
            "port": int(data.get("port", 5432)),
            "user": str(data.get("user", "postgres")),
            "database": str(data.get("dbname") or data.get("database") or "postgres"),
            "DBT_ENV_SECRET_ONEFOLD_PG_PASSWORD": _secret(data.get("password") or data.get("pass")),
        }
    )
    return Target(name=name, type=kind, schema=str(schema), postgres=postgres)


def _spark_settings(data: Mapping[str, Any]) -> SparkSettings:
    """The session of a Spark output: Onefold connects in-process, as the `session`
    method does; over Thrift or HTTP it would not see the cluster dbt builds on."""
    method = str(data.get("method", "session"))
    if method != "session":
        raise ConfigError(
            f"Spark target with method {method!r}: Onefold's command line runs Spark in its "
            "own process (method: session, with the cluster as spark.master); see "
            "docs/spark.md"
        )
    parameters = data.get("server_side_parameters") or {}
    return SparkSettings(config={str(k): str(v) for k, v in parameters.items()})


def _environment_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def find_project_dir(project_dir: Path | None = None) -> Path:
    explicit = project_dir or _environment_path("DBT_PROJECT_DIR")
    if explicit is not None:
        if not (explicit / "dbt_project.yml").exists():
            raise ConfigError(
                f"no dbt_project.yml in {explicit}: --project-dir must be a dbt project."
            )
        return explicit.resolve()
    cwd = Path.cwd()
    for candidate in (cwd, *cwd.parents):
        if (candidate / "dbt_project.yml").exists():
            return candidate
    raise ConfigError(
        f"no dbt_project.yml in {cwd} or above: run onefold in your dbt project, or pass "
        "--project-dir (or set DBT_PROJECT_DIR)."
    )


def find_profiles_dir(project_dir: Path, profiles_dir: Path | None = None) -> Path:
    explicit = profiles_dir or _environment_path("DBT_PROFILES_DIR")
    if explicit is not None:
        return explicit.resolve()
    for candidate in (project_dir, Path.cwd()):
        if (candidate / "profiles.yml").exists():
            return candidate
    return Path.home() / ".dbt"


def _renderer() -> Any:
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    # dbt's env_var() reads the environment through its invocation context.
    set_invocation_context(dict(os.environ))
    return ProfileRenderer({})


def _project_file(project_dir: Path) -> dict[str, Any]:
    import yaml

    try:
        document = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {project_dir / 'dbt_project.yml'}: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigError(f"{project_dir / 'dbt_project.yml'} is not a mapping.")
    return document


def render_target(profiles_dir: Path, profile_name: str, target_name: str | None) -> Target:
    """The profile's target rendered by dbt (env_var, secrets), as a Target."""
    from dbt.config.profile import Profile, read_profile
    from dbt.exceptions import DbtProfileError
    from dbt_common.exceptions import DbtRuntimeError

    profiles_file = profiles_dir / "profiles.yml"
    if not profiles_file.exists():
        raise ConfigError(
            f"no profiles.yml in {profiles_dir}: pass --profiles-dir (or set DBT_PROFILES_DIR)."
        )
    renderer = _renderer()
    try:
        raw_profiles = read_profile(str(profiles_dir))
        if profile_name not in raw_profiles:
            raise ConfigError(
                f"profile {profile_name!r} (dbt_project.yml `profile:`) is not in {profiles_file}."
            )
        name, data = Profile.render_profile(
            raw_profiles[profile_name], profile_name, target_name, renderer
        )
    except (DbtProfileError, DbtRuntimeError) as exc:
        message = " ".join(str(exc).replace("Runtime Error", "").split())
        raise ConfigError(f"{profiles_file}: {message}") from exc
    return target_from_profile(str(name), data, profile_name)


@dataclass
class DbtProject:
    """A dbt project, its target and (read on first use) its manifest."""

    project_dir: Path
    profiles_dir: Path
    target: Target
    target_path: Path
    settings: ProjectSettings = field(default_factory=ProjectSettings)
    _manifest: Manifest | None = field(default=None, repr=False)

    @property
    def manifest_path(self) -> Path:
        return self.target_path / "manifest.json"

    @cached_property
    def manifest(self) -> Manifest:
        if self._manifest is not None:
            return self._manifest
        manifest = Manifest.load(self.manifest_path, self.project_dir)
        if not manifest.has_onefold:
            raise ConfigError(
                f"the dbt manifest {self.manifest_path} has no node of package "
                f"{PACKAGE!r}: install Onefold in {self.project_dir} (packages.yml, "
                "`dbt deps`) and run `dbt parse`."
            )
        return manifest

    # Schemas Onefold's Python side owns, next to dbt's (as the dbt macros name them).
    @property
    def privacy_schema(self) -> str:
        """`<target schema>_privacy` (macro `privacy_schema()`): erasure state."""
        return f"{self.target.schema}_privacy"

    @property
    def sync_schema(self) -> str:
        """`<target schema>_sync`: activation state (created by `onefold sync`)."""
        return f"{self.target.schema}_sync"

    @property
    def raw_schema(self) -> str:
        return self.settings.raw_schema

    @property
    def truth_schema(self) -> str:
        return self.settings.truth_schema

    def relation(self, name: str) -> Relation:
        """Onefold's model (or seed) `name` as dbt built it; ConfigError when the
        manifest does not have it."""
        found = self.manifest.find(name)
        if found is None:
            raise ConfigError(
                f"Onefold's model {name!r} is not in the dbt manifest {self.manifest_path}: "
                f"run `dbt parse` (or `dbt build`) in {self.project_dir}, and check that "
                "the source it needs is enabled."
            )
        return found

    def find(self, name: str) -> Relation | None:
        return self.manifest.find(name)

    def require(self, warehouse: Warehouse, *names: str) -> list[Relation]:
        """The relations of `names`, each checked to exist in the warehouse."""
        relations = [self.relation(name) for name in names]
        for relation in relations:
            if not warehouse.table_exists(relation.schema, relation.identifier):
                raise ConfigError(
                    f"{relation} (model {relation.name}) does not exist on target "
                    f"{self.target.name!r}: run `dbt build` in {self.project_dir}."
                )
        return relations

    def exists(self, warehouse: Warehouse, name: str) -> Relation | None:
        """The relation of `name` when the manifest has it and it is built, else None."""
        relation = self.find(name)
        if relation is None or not warehouse.table_exists(relation.schema, relation.identifier):
            return None
        return relation

    def connect(self, read_only: bool = False, detachable: bool = False) -> Warehouse:
        """A connection to the target's warehouse (the caller closes it); `detachable`:
        see onefold.warehouse.DuckDBWarehouse."""
        from onefold.warehouse import connect_target

        return connect_target(self.target, read_only=read_only, detachable=detachable)

    @contextmanager
    def connection(self, read_only: bool = False, detachable: bool = False) -> Iterator[Warehouse]:
        warehouse = self.connect(read_only=read_only, detachable=detachable)
        try:
            yield warehouse
        finally:
            warehouse.close()


def locate(
    project_dir: Path | None = None,
    profiles_dir: Path | None = None,
    target: str | None = None,
    target_path: Path | None = None,
) -> DbtProject:
    """The dbt project, profile target and target path, as dbt would pick them."""
    root = find_project_dir(project_dir)
    profiles = find_profiles_dir(root, profiles_dir)
    document = _project_file(root)
    renderer = _renderer()
    profile_name = document.get("profile")
    if not profile_name:
        raise ConfigError(f"{root / 'dbt_project.yml'} names no `profile:`.")
    try:
        profile_name = str(renderer.render_value(profile_name))
    except Exception as exc:  # dbt's CompilationError
        raise ConfigError(f"{root / 'dbt_project.yml'}: profile: {exc}") from exc
    chosen = target or os.environ.get("DBT_TARGET") or None
    resolved = render_target(profiles, profile_name, chosen)
    path = (
        target_path
        or _environment_path("DBT_TARGET_PATH")
        or Path(str(document.get("target-path") or "target"))
    )
    if not path.is_absolute():
        path = root / path
    return DbtProject(project_dir=root, profiles_dir=profiles, target=resolved, target_path=path)
