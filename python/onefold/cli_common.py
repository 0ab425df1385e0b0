"""What every `onefold` command shares: consoles, the dbt project options
(--project-dir, --profiles-dir, --target, --target-path), --json, errors and progress.
Its own module so subcommand packages (sync, erasure) can use it while `onefold.cli`
imports them to register their commands.

A command with --json uses `json_option` and `reports_errors` (in that order, under its
other options): an OnefoldError then comes out as one JSON line on stdout,
`{"event": "error", "level": "error", "message": ..., "exit_code": ...}` (the shape of
`onefold sync`'s error events), and text on stderr without it. Usage errors click finds
while parsing (a bad option value) take the same shape when the command line holds
--json (`OnefoldGroup`). `fail()` reports an error found without an exception.
Long work shows `progress()`: a transient bar on stderr, only on a terminal and never
with --json.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import click
from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from onefold.errors import OnefoldError

if TYPE_CHECKING:
    from onefold.project import DbtProject
    from onefold.warehouse import Warehouse

P = ParamSpec("P")
R = TypeVar("R")

#: Off a terminal, lines are this wide: wider than any table or message we print.
UNBOUNDED_WIDTH = 4096


class _Console(Console):
    """A rich Console that, off a terminal (a pipe, a file, a scheduler's log), cuts and
    wraps nothing: tables keep whole headers and numbers, messages stay on one line.
    Rich would otherwise lay everything out for 80 columns (or COLUMNS, or the width of
    whatever terminal stdin is). An explicit `width` still applies."""

    def __init__(self, **kwargs: Any) -> None:
        self._fixed_width = kwargs.get("width") is not None
        super().__init__(**kwargs)

    @property
    def size(self) -> ConsoleDimensions:
        if not self._fixed_width and not self.is_terminal:
            return ConsoleDimensions(UNBOUNDED_WIDTH, 25)
        return super().size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._fixed_width = True
        self._width, self._height = new_size


def make_console(**kwargs: Any) -> Console:
    """A Console for command output (takes `rich.console.Console`'s arguments)."""
    return _Console(**kwargs)


console = make_console(stderr=False)
error_console = make_console(stderr=True)


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

        project = locate(self.project_dir, self.profiles_dir, self.target, self.target_path)
        if project.target.type == "spark":
            from onefold.spark import check_command_supported

            check_command_supported(click.get_current_context().info_name or "")
        return project

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


json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON for machines (errors too: one JSON object on stdout).",
)


@dataclass(frozen=True)
class PlotOptions:
    """--plot DIR and --plot-format: where a command writes its pictures (figures.py)."""

    directory: Path | None = None
    kind: str = "png"

    def write(self, figures: Callable[[], Mapping[str, Any]]) -> list[str]:
        """Draw and save the pictures when --plot was given; the paths written."""
        if self.directory is None:
            return []
        from onefold.figures import write_plots

        return [str(path) for path in write_plots(figures(), self.directory, self.kind)]


def plot_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--plot DIR and --plot-format, passed as one `plot: PlotOptions` argument."""

    @wraps(command)
    def wrapper(*args: Any, plot_dir: Path | None, plot_format: str, **kwargs: Any) -> Any:
        return command(*args, plot=PlotOptions(plot_dir, plot_format), **kwargs)

    wrapper = click.option(
        "--plot-format",
        type=click.Choice(["png", "svg"]),
        default="png",
        show_default=True,
        help="The pictures' file format.",
    )(wrapper)
    return click.option(
        "--plot",
        "plot_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        metavar="DIR",
        help="Also draw this report's pictures into DIR (the console shows the same).",
    )(wrapper)


def report_plots(paths: list[str], as_json: bool) -> None:
    """Name the pictures written (the JSON document carries them as `plots`)."""
    if paths and not as_json:
        for path in paths:
            console.print(f"Wrote {escape(path)}", highlight=False)


def json_error(message: str, exit_code: int, **fields: Any) -> dict[str, Any]:
    """The JSON form of an error, for every command with --json."""
    return {
        "event": "error",
        "level": "error",
        "message": message,
        "exit_code": exit_code,
        **fields,
    }


def print_error(message: str, exit_code: int, as_json: bool) -> None:
    """An error for people (stderr, one line however long) or machines (stdout, JSON)."""
    if as_json:
        click.echo(json.dumps(json_error(message, exit_code)))
    else:
        error_console.print(
            f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True
        )


def fail(message: str, exit_code: int, as_json: bool) -> NoReturn:
    """Report an error (`print_error`) and exit with its code."""
    print_error(message, exit_code, as_json)
    sys.exit(exit_code)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn OnefoldError into a one-line message (JSON when the command's `as_json` is
    true) and its exit code instead of a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except OnefoldError as exc:
            fail(str(exc), exc.exit_code, bool(kwargs.get("as_json")))

    return wrapper


_JSON_META = "onefold.as_json"


def _asks_for_json(args: list[str]) -> bool:
    return "--json" in (args[: args.index("--")] if "--" in args else args)


class OnefoldGroup(click.Group):
    """The `onefold` group: a usage error click finds while parsing a command line that
    holds --json (a bad value, an unknown option) is reported as JSON, like every other
    error of that command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_JSON_META] = _asks_for_json(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            if not ctx.meta.get(_JSON_META):
                raise
            fail(exc.format_message(), exc.exit_code, as_json=True)


# -- progress ---------------------------------------------------------------------------

#: `step(description, completed, total)`: how far a long piece of work is.
ProgressStep = Callable[[str, int, int], None]


def progress_enabled(as_json: bool) -> bool:
    """Progress is drawn on stderr when it is a terminal, and never with --json."""
    return not as_json and error_console.is_terminal


@contextmanager
def progress(title: str, as_json: bool) -> Iterator[ProgressStep]:
    """A transient progress bar on stderr for work that takes more than a few seconds.
    Yields `step(description, completed, total)`; a no-op off a terminal or with --json,
    so callers report progress unconditionally."""
    if not progress_enabled(as_json):
        yield lambda description, completed, total: None
        return
    bar = Progress(
        TextColumn(f"{escape(title)} [bold]{{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=error_console,
        transient=True,
    )
    task = bar.add_task("", total=None)

    def step(description: str, completed: int, total: int) -> None:
        bar.update(task, description=escape(description), completed=completed, total=total)
        bar.refresh()

    with bar:
        yield step
