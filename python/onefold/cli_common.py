"""What every `onefold` command shares: consoles, the dbt project options
(--project-dir, --profiles-dir, --target, --target-path), --json, and the error wrapper.
Its own module so subcommand packages (sync, erasure) can use it while `onefold.cli`
imports them to register their commands."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from onefold.errors import OnefoldError

if TYPE_CHECKING:
    from onefold.project import DbtProject
    from onefold.warehouse import Warehouse

P = ParamSpec("P")
R = TypeVar("R")

console = Console(stderr=False)
error_console = Console(stderr=True)


@dataclass(frozen=True)
class ProjectOptions:
    """Where the dbt project, profile and manifest are, as given on the command line
    (None: dbt's defaults and environment variables, see onefold.project)."""

    project_dir: Path | None = None
    profiles_dir: Path | None = None
    target: str | None = None
    target_path: Path | None = None

    def locate(self) -> DbtProject:
        from onefold.project import locate

        return locate(self.project_dir, self.profiles_dir, self.target, self.target_path)

    @contextmanager
    def open(self, read_only: bool = False) -> Iterator[tuple[DbtProject, Warehouse]]:
        """The located project and a connection to its target, closed afterwards."""
        project = self.locate()
        with project.connection(read_only=read_only) as warehouse:
            yield project, warehouse


def project_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--project-dir, --profiles-dir, --target and --target-path, passed to the command
    as one `project: ProjectOptions` argument."""

    @wraps(command)
    def wrapper(
        *args: Any,
        project_dir: Path | None,
        profiles_dir: Path | None,
        target: str | None,
        target_path: Path | None,
        **kwargs: Any,
    ) -> Any:
        options = ProjectOptions(project_dir, profiles_dir, target, target_path)
        return command(*args, project=options, **kwargs)

    path = click.Path(path_type=Path, file_okay=False)
    for option in reversed(
        (
            click.option(
                "--project-dir",
                type=path,
                default=None,
                help="The dbt project [default: DBT_PROJECT_DIR, else the nearest "
                "dbt_project.yml from the working directory up].",
            ),
            click.option(
                "--profiles-dir",
                type=path,
                default=None,
                help="Where profiles.yml is [default: DBT_PROFILES_DIR, else the project "
                "dir or working directory if it has one, else ~/.dbt].",
            ),
            click.option(
                "--target",
                default=None,
                metavar="NAME",
                help="A target of the project's profile [default: DBT_TARGET, else the "
                "profile's `target:`].",
            ),
            click.option(
                "--target-path",
                type=path,
                default=None,
                help="dbt's target directory, where manifest.json is [default: "
                "DBT_TARGET_PATH, else the project's target-path].",
            ),
        )
    ):
        wrapper = option(wrapper)
    return wrapper


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn OnefoldError into a one-line message and its exit code instead of a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except OnefoldError as exc:
            error_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
            sys.exit(exc.exit_code)

    return wrapper
