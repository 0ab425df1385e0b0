"""Serve the console on localhost: `onefold console`, or a background thread in tests."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, make_server

from onefold.console.app import create_app
from onefold.console.privacy import RevealLog
from onefold.console.reader import ConsoleSource

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class Console:
    server: BaseWSGIServer
    reveal_log: RevealLog

    @property
    def url(self) -> str:
        host = self.server.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.server.port}/"


def make_console(
    source: ConsoleSource, reveal_log: RevealLog, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> Console:
    """A server bound to `host:port` (port 0: any free port), not yet serving."""
    app = create_app(source, reveal_log, loopback_only=is_loopback(host))
    return Console(make_server(host, port, app, threaded=True), reveal_log)


@contextmanager
def running_console(
    source: ConsoleSource, reveal_log: RevealLog, host: str = DEFAULT_HOST, port: int = 0
) -> Iterator[Console]:
    """The console serving from a background thread for the block."""
    console = make_console(source, reveal_log, host, port)
    thread = threading.Thread(target=console.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield console
    finally:
        console.server.shutdown()
        thread.join(timeout=10)
        console.server.server_close()
