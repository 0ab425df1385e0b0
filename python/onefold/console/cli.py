"""`onefold console`: serve the console until interrupted."""

from __future__ import annotations

import json
from pathlib import Path

import click

from onefold.cli_common import ProjectOptions, console, json_option, project_options, reports_errors
from onefold.console.server import DEFAULT_HOST, DEFAULT_PORT, is_loopback


@click.command("console")
@project_options
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="Address to listen on. "
    "Anything but a loopback address shows the warehouse's pages to the network.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--bi-role",
    default="onefold_reader",
    show_default=True,
    envvar="ONEFOLD_CONSOLE_BI_ROLE",
    help="PostgreSQL: the read-only role the pages read as (PII-free views); "
    "'' reads as the login itself.",
)
@click.option(
    "--pii-role",
    default="onefold_pii_reader",
    show_default=True,
    envvar="ONEFOLD_CONSOLE_PII_ROLE",
    help="PostgreSQL: the read-only role that reads personal values (search by "
    "identifier, golden record, identity graph), masked until revealed.",
)
@click.option(
    "--reveal-log",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Where reveals are logged (JSON Lines) [default: <project>/logs/"
    "onefold-console-reveals.jsonl].",
)
@json_option
@reports_errors
def console_command(
    project: ProjectOptions,
    host: str,
    port: int,
    bi_role: str,
    pii_role: str,
    reveal_log: Path | None,
    as_json: bool,
) -> None:
    """Serve a read-only web console on localhost: Customer 360 (search by email, phone,
    any identifier or customer_id) and health pages for identity, staging, segments,
    consent, activation and privacy. Personal values are masked until revealed; reveals
    are logged. Stop it with Ctrl-C."""
    from onefold.console.app import default_reveal_log
    from onefold.console.privacy import RevealLog
    from onefold.console.reader import ConsoleSource
    from onefold.console.server import make_console

    located = project.locate()
    located.manifest  # noqa: B018  (fails early, naming what to run, without a manifest)
    source = ConsoleSource(project.locate, bi_role=bi_role or None, pii_role=pii_role or None)
    log = RevealLog(reveal_log or default_reveal_log(located.project_dir))
    served = make_console(source, log, host, port)
    if as_json:
        click.echo(json.dumps({"event": "serving", "url": served.url, "reveal_log": str(log.path)}))
    else:
        console.print(f"Onefold console on {served.url} (target {located.target.name}, read-only)")
        console.print(f"Reveals are logged to {log.path}. Ctrl-C stops it.", highlight=False)
        if not is_loopback(host):
            console.print(
                f"[yellow]Listening on {host}: anyone who can reach it sees the pages.[/]"
            )
    try:
        served.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        served.server.server_close()
