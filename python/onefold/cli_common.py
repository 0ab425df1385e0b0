"""What every `onefold` command shares: consoles, the --target and --json options, and
the error wrapper. Its own module so subcommand packages (sync, erasure) can use it
while `onefold.cli` imports them to register their commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from onefold.errors import OnefoldError
from onefold.settings import TARGETS

P = ParamSpec("P")
R = TypeVar("R")

console = Console(stderr=False)
error_console = Console(stderr=True)

target_option = click.option(
    "--target",
    type=click.Choice(TARGETS),
    default="duckdb",
    show_default=True,
    envvar="ONEFOLD_TARGET",
    help="Warehouse to use; connection settings come from ONEFOLD_* variables.",
)

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
