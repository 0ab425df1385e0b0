"""Render the CLI reference, `docs/cli.md`, from the click commands themselves.

    python -m onefold.docs_cli            # rewrite docs/cli.md
    python -m onefold.docs_cli --check    # exit 1 when docs/cli.md is stale

The page lists every command and subcommand of `onefold` with its usage, help text,
arguments and options (type, default, environment variable, help). Defaults are the
declared ones, never resolved from the environment, so the page is the same on every
machine.
"""

from __future__ import annotations

import enum
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

DEFAULT_OUTPUT = Path("docs/cli.md")
REGENERATE = "python -m onefold.docs_cli"

HEADER = f"""# CLI reference

<!-- Generated from the click commands by `{REGENERATE}`; do not edit by hand. -->

`onefold` is installed with the Python package (`pip install -e .`, or `make demo`).
Every command accepts `-h` / `--help`. Exit codes: 0 ok, 1 some records failed,
2 bad usage or configuration.

Every command finds its warehouse and tables the way dbt does, so run it where you run
dbt (details in [Adopting Onefold on your warehouse](adopting.md#the-command-line-follows-dbt)):

- the dbt project: `--project-dir`, else `DBT_PROJECT_DIR`, else the nearest directory
  from the working directory up that holds a `dbt_project.yml`;
- the profile: `--profiles-dir`, else `DBT_PROFILES_DIR`, else the project directory
  or the working directory when it holds a `profiles.yml`, else `~/.dbt`; the
  project's `profile:` is rendered by dbt itself (`env_var()`, `DBT_ENV_SECRET_*`);
- the target: `--target` (any target name of the profile), else `DBT_TARGET`, else the
  profile's `target:`; DuckDB and PostgreSQL targets are supported;
- the relations: Onefold's models are looked up by name in dbt's manifest,
  `<target path>/manifest.json` (`--target-path`, else `DBT_TARGET_PATH`, else the
  project's `target-path`), among the nodes of package `onefold`, so marts placed in
  another schema or aliased are found where dbt built them. Run `dbt parse` (or
  `dbt build`) first. Onefold's own state lives in `<target schema>_privacy` (erasure)
  and `<target schema>_sync` (activation).

Onefold's own `profiles.yml` reads `ONEFOLD_TARGET`, `ONEFOLD_DUCKDB_PATH`,
`ONEFOLD_DBT_SCHEMA` and `ONEFOLD_PG_*`, so in this repository those variables keep
choosing the warehouse.

**Output.** Tables and messages are for people; `--json` (on every command that reads
or writes results: `generate`, `summary`, `evaluate`, `explain`, `validate`, `erase`,
`sync`) prints JSON for machines on stdout. With `--json` errors are JSON too, one
object on one line of stdout with the command's exit code:

```
{{"event": "error", "level": "error", "message": "no dbt_project.yml in /x: ...", "exit_code": 2}}
```

— also for usage errors click finds while parsing the command line (a bad option
value), and `onefold sync --json` emits its errors in this shape among its JSON lines.
`summary --json` still prints its document when a source does not reconcile, with the
problem under `"error"`, and exits 1. Without `--json` an error is one `error: ...`
line on stderr. Off a terminal (a pipe, a file, a scheduler's log) nothing is cut or
wrapped to fit a width: tables keep whole headers and numbers, and messages stay on one
line. Commands that work for more than a few seconds (`generate`, `summary`, `sync`) draw a
progress bar on a terminal only — never with `--json` or when the output is not a
terminal.
"""


def walk(
    command: click.Command, name: str, parent: click.Context | None = None
) -> Iterator[tuple[click.Context, click.Command]]:
    """Every command of the tree, depth first, subcommands in name order, each with
    a context whose `command_path` is its full name (`onefold sync`)."""
    context = click.Context(command, info_name=name, parent=parent)
    yield context, command
    if isinstance(command, click.Group):
        for sub_name in sorted(command.list_commands(context)):
            sub = command.get_command(context, sub_name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, sub_name, context)


def command_paths(root: click.Command | None = None, name: str = "onefold") -> list[str]:
    """The full name of every command (`onefold`, `onefold erase`, …)."""
    return [context.command_path for context, _ in walk(root or _main(), name)]


def render(root: click.Command | None = None, name: str = "onefold") -> str:
    """The whole page as Markdown."""
    commands = list(walk(root or _main(), name))
    parts = [HEADER, "## Commands\n"]
    parts.append(
        "\n".join(
            f"- [`{context.command_path}`](#{_anchor(context.command_path)}): "
            f"{_prose(command.get_short_help_str(limit=200))}"
            for context, command in commands
        )
        + "\n"
    )
    for context, command in commands:
        parts.append(_render_command(context, command))
    return "\n".join(parts)


def _render_command(context: click.Context, command: click.Command) -> str:
    lines = [f"## `{context.command_path}`", ""]
    usage = " ".join([context.command_path, *command.collect_usage_pieces(context)])
    lines += ["```", usage, "```", ""]
    help_text = _help(command)
    if help_text:
        lines += [help_text, ""]
    if isinstance(command, click.Group):
        subcommands = [
            sub_name
            for sub_name in sorted(command.list_commands(context))
            if (sub := command.get_command(context, sub_name)) is not None and not sub.hidden
        ]
        if subcommands:
            lines += [
                "Commands: "
                + ", ".join(
                    f"[`{sub_name}`](#{_anchor(f'{context.command_path} {sub_name}')})"
                    for sub_name in subcommands
                )
                + ".",
                "",
            ]
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    if arguments:
        lines += ["| argument | type | required |", "|---|---|---|"]
        for argument in arguments:
            metavar = argument.make_metavar(context)
            lines.append(
                f"| `{_escape(metavar)}` | {_type(argument)} | "
                f"{'yes' if argument.required else 'no'} |"
            )
        lines.append("")
    options = [p for p in command.params if isinstance(p, click.Option) and not p.hidden]
    if options:
        lines += ["| option | type | default | help |", "|---|---|---|---|"]
        for option in options:
            lines.append(
                f"| {_names(option)} | {_type(option)} | {_default(option)} | "
                f"{_prose(_option_help(option))} |"
            )
        lines.append("")
    return "\n".join(lines)


def _help(command: click.Command) -> str:
    text = command.help or ""
    text = text.split("\f", 1)[0]
    return inspect.cleandoc(text).replace("\b\n", "") if text else ""


def _names(option: click.Option) -> str:
    names = ", ".join(f"`{name}`" for name in option.opts)
    if option.secondary_opts:
        names += " / " + ", ".join(f"`{name}`" for name in option.secondary_opts)
    return names


def _type(param: click.Parameter) -> str:
    if isinstance(param, click.Option) and param.is_flag and not param.count:
        return "flag"
    kind = param.type
    if isinstance(kind, click.Choice):
        text = "one of " + ", ".join(f"`{choice}`" for choice in kind.choices)
    elif isinstance(kind, click.DateTime):
        text = "date/time (" + ", ".join(f"`{fmt}`" for fmt in kind.formats) + ")"
    elif isinstance(kind, click.IntRange | click.FloatRange):
        bounds = [
            f">= {kind.min}" if kind.min is not None else "",
            f"<= {kind.max}" if kind.max is not None else "",
        ]
        text = f"{kind.name} " + ", ".join(bound for bound in bounds if bound)
    elif isinstance(kind, click.Path):
        text = "file" if not kind.dir_okay else "path"
    else:
        text = kind.name
    if param.multiple:
        text += ", repeatable"
    if param.nargs == -1:
        text += ", any number"
    return text


def _default(option: click.Option) -> str:
    default: Any = option.default
    if isinstance(default, enum.Enum):  # click's UNSET sentinel: no default declared
        return ""
    if callable(default):
        return "computed"
    if option.is_flag and option.secondary_opts:
        return f"`{option.opts[0] if default else option.secondary_opts[0]}`"
    if option.is_flag or default is None or default == () or default is False:
        return ""
    if isinstance(default, list | tuple):
        return ", ".join(f"`{_escape(str(value))}`" for value in default)
    return f"`{_escape(str(default))}`"


def _option_help(option: click.Option) -> str:
    text = " ".join((option.help or "").split())
    envvars = option.envvar if isinstance(option.envvar, list | tuple) else [option.envvar]
    named = [env for env in envvars if env]
    if named:
        text += " Environment: " + ", ".join(f"`{env}`" for env in named) + "."
    if option.required:
        text += " Required."
    return text.strip()


def _escape(text: str) -> str:
    """Text for a table cell inside a code span: only the cell separator is escaped."""
    return text.replace("|", "\\|")


def _prose(text: str) -> str:
    """Text for a table cell or list item: `<date>` would read as an HTML tag."""
    return _escape(text).replace("<", "&lt;").replace(">", "&gt;")


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading `` `onefold sync` ``: `onefold-sync`."""
    return "-".join(heading.lower().split())


def _main() -> click.Command:
    from onefold.cli import main

    return main


def write(path: Path = DEFAULT_OUTPUT) -> bool:
    """Write the page; True when it changed."""
    text = render()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


@click.command()
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_OUTPUT,
    show_default=True,
    help="Where the page goes.",
)
@click.option("--check", is_flag=True, help="Exit 1 if the page is stale; write nothing.")
def cli(output: Path, check: bool) -> None:
    """Generate the CLI reference page from the `onefold` click commands."""
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != render():
            click.echo(f"{output} is stale: run `{REGENERATE}`", err=True)
            sys.exit(1)
        click.echo(f"{output} is up to date")
        return
    changed = write(output)
    click.echo(f"{'wrote' if changed else 'unchanged:'} {output}")


if __name__ == "__main__":
    cli()
