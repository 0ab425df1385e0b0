"""How the console reads the warehouse: one short read-only connection per request.

- DuckDB admits one writer process, and a reader holding the file blocks `dbt build`
  and `onefold sync`. The console opens the file read-only for the request and closes
  it before answering; when a writer holds it, the request waits `lock_wait_seconds`
  and then says the warehouse is busy (Busy) instead of hanging.
- PostgreSQL: the session is read-only and switches to a read-only role Onefold
  manages (profiles docs, "For BI"): the BI role (PII-free `<marts>_bi` views) for
  everything the pages show, and the PII role only for what shows personal values
  (search by identifier, golden attributes, the identity graph), masked until revealed.
- A relation the role cannot read, or that is not built, makes its panel say so
  (Unavailable), naming the relation; the rest of the page still renders.

The dbt manifest is read again when `dbt build` rewrites it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from onefold.errors import OnefoldError, WarehouseError
from onefold.project import DbtProject, Relation
from onefold.sql import relation as quoted_relation
from onefold.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse, quote_ident


class Unavailable(OnefoldError):
    """A panel cannot be shown: the message says what is missing and why."""


class Busy(OnefoldError):
    """Another process is writing the DuckDB file; the page can be reloaded later."""


_PERMISSION = re.compile(r"permission denied|must be member of role|does not exist", re.I)


@dataclass
class ConsoleSource:
    """The warehouse the console shows: a dbt project located once, its manifest read
    again when it changes, and the PostgreSQL roles to read as (None: the login's own)."""

    locate: Callable[[], DbtProject]
    bi_role: str | None = "onefold_reader"
    pii_role: str | None = "onefold_pii_reader"
    lock_wait_seconds: float = 3.0
    _project: DbtProject | None = field(default=None, repr=False)
    _manifest_stamp: tuple[int, int] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def project(self) -> DbtProject:
        with self._lock:  # requests are served from several threads
            project = self._project or self.locate()
            path = project.manifest_path
            stamp = (path.stat().st_mtime_ns, path.stat().st_size) if path.exists() else None
            if self._project is None or stamp != self._manifest_stamp:
                # A new instance reads the manifest again (DbtProject caches it).
                project = replace(project)
                self._project, self._manifest_stamp = project, stamp
            return project

    @property
    def is_postgres(self) -> bool:
        return self.project().target.type == "postgres"

    def role(self, personal: bool) -> str | None:
        if not self.is_postgres:
            return None
        return self.pii_role if personal else self.bi_role

    @contextmanager
    def open(self, personal: bool = False) -> Iterator[Reader]:
        """A read-only connection for one request; `personal`: one that may read
        personal values (the PII role on PostgreSQL)."""
        project = self.project()
        warehouse = self._connect(project)
        role = self.role(personal)
        try:
            if project.target.type == "postgres":
                warehouse.execute("set session characteristics as transaction read only")
                if role:
                    try:
                        warehouse.execute(f"set role {quote_ident(role)}")
                    except Exception as exc:
                        user = project.target.postgres.user if project.target.postgres else "?"
                        raise Unavailable(
                            f"cannot read as role {role!r}: {str(exc).strip()}. Grant it to "
                            f"{user!r} (`grant {role} to {user}`), or start the console with "
                            "another role (--bi-role, --pii-role)."
                        ) from exc
            yield Reader(project, warehouse, bi_views=bool(role) and not personal, role=role)
        finally:
            warehouse.close()

    def _connect(self, project: DbtProject) -> Warehouse:
        target = project.target
        if target.type == "duckdb" and target.duckdb is not None:
            settings = target.duckdb.model_copy(
                update={"lock_wait_seconds": self.lock_wait_seconds}
            )
            try:
                return DuckDBWarehouse(settings, read_only=True)
            except WarehouseError as exc:
                raise Busy(
                    f"the warehouse {settings.path} is being written by another process (a "
                    "dbt build, a sync or an erasure): this page reloads when it is free. "
                    f"{exc}"
                ) from exc
        if target.type == "postgres":
            return PostgresWarehouse(target.postgres)
        raise Unavailable(f"the console reads DuckDB and PostgreSQL targets, not {target.type!r}")


@dataclass
class Reader:
    """One request's connection, and where Onefold's relations are for its role."""

    project: DbtProject
    warehouse: Warehouse
    #: read marts through the BI role's `<schema>_bi` views (PostgreSQL)
    bi_views: bool = False
    role: str | None = None

    def relation(self, name: str) -> str:
        """Onefold's model `name`, quoted, as this connection reads it; Unavailable when
        the manifest does not have it (a disabled source)."""
        found = self.project.find(name)
        if found is None:
            raise Unavailable(f"model {name} is not in this project's manifest (not enabled)")
        return self._quoted(found)

    def _quoted(self, found: Relation) -> str:
        schema = found.schema
        if self.bi_views and found.layer == "marts":
            schema = f"{schema}_bi"
        return quoted_relation(schema, found.identifier)

    def exists(self, name: str) -> bool:
        """Whether Onefold's model `name` is built (Unavailable when this role cannot
        tell: see `visible`)."""
        found = self.project.find(name)
        if found is None:
            return False
        schema = f"{found.schema}_bi" if self.bi_views and found.layer == "marts" else found.schema
        return self.visible(schema, found.identifier)

    def visible(self, schema: str, table: str) -> bool:
        """Whether a table Onefold's Python side owns (sync, privacy schemas) exists; with
        a role that cannot see it, Unavailable (absent and unreadable look the same)."""
        if self.warehouse.table_exists(schema, table):
            return True
        if self.role:
            raise Unavailable(
                f"{schema}.{table} is not readable as role {self.role!r} (or does not exist)"
            )
        return False

    def query(self, statement: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Rows of a read; a relation this role cannot read (or not built) becomes
        Unavailable with the warehouse's words."""
        try:
            return self.warehouse.query(statement, params)
        except Exception as exc:
            raise self.unavailable(exc) from exc

    def records(self, statement: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Rows as dictionaries keyed by column name (missing values as None)."""
        try:
            frame = self.warehouse.query_df(_bind(statement, params))
        except Exception as exc:
            raise self.unavailable(exc) from exc
        return [
            {str(key): (None if _is_missing(value) else value) for key, value in row.items()}
            for row in frame.to_dict("records")
        ]

    def unavailable(self, exc: Exception) -> Exception:
        """Unavailable for a relation this role cannot read or that is not built; any
        other error as it is."""
        message = (str(exc).strip().splitlines() or [repr(exc)])[0]
        if _PERMISSION.search(message) or "Catalog Error" in message:
            who = f" as role {self.role!r}" if self.role else ""
            return Unavailable(f"cannot read this{who}: {message}")
        return exc

    def pii_columns(self, name: str) -> set[str]:
        """The columns of model `name` its YAML marks `meta: {pii: true}`."""
        for node in self.project.manifest.document.get("nodes", {}).values():
            if node.get("name") == name and node.get("package_name") == "onefold":
                return {
                    column.lower()
                    for column, spec in (node.get("columns") or {}).items()
                    if (spec.get("meta") or {}).get("pii")
                    or ((spec.get("config") or {}).get("meta") or {}).get("pii")
                }
        return set()


def _is_missing(value: Any) -> bool:
    try:
        return bool(value != value)  # NaN and NaT
    except (TypeError, ValueError):
        return False


def _bind(statement: str, params: Sequence[Any] | None) -> str:
    """`query_df` takes no parameters: bind string literals into `?` markers."""
    from onefold.sql import literal

    if not params:
        return statement
    parts = statement.split("?")
    if len(parts) != len(params) + 1:
        raise ValueError("parameter count does not match the statement's markers")
    bound = [parts[0]]
    for value, rest in zip(params, parts[1:], strict=True):
        bound.append(literal(str(value)) + rest)
    return "".join(bound)
