"""A throwaway PostgreSQL cluster started from the local server binaries.

CI runs as root with no services; PostgreSQL refuses to run as root, so as root the
server commands run through `runuser -u postgres`. The cluster lives in a temporary
directory, listens on a free loopback port and is always stopped and deleted.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from onefold.errors import ConfigError

DEFAULT_BIN_DIR = Path("/usr/lib/postgresql/15/bin")
SERVICE_USER = "postgres"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    database: str
    # The server's log file, for a throwaway cluster (tests read what it logged).
    log_path: Path | None = None
    # Its data directory, for a throwaway cluster (benchmarks find the server's pid).
    data_dir: Path | None = None

    def environment(self) -> dict[str, str]:
        """The ONEFOLD_PG_* variables that point Onefold and dbt at this server."""
        return {
            "ONEFOLD_PG_HOST": self.host,
            "ONEFOLD_PG_PORT": str(self.port),
            "ONEFOLD_PG_USER": self.user,
            "ONEFOLD_PG_DATABASE": self.database,
        }

    def postmaster_pid(self) -> int:
        """The server's main process id (first line of postmaster.pid)."""
        if self.data_dir is None:
            raise ConfigError(f"no data directory known for the server on port {self.port}")
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_service_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            raise ConfigError("running as root needs `runuser` to start PostgreSQL as postgres")
        return ["runuser", "-u", SERVICE_USER, "--", *command]
    return command


def _run(command: list[str]) -> None:
    result = subprocess.run(_as_service_user(command), capture_output=True, text=True)
    if result.returncode != 0:
        raise ConfigError(
            f"`{' '.join(command)}` failed with exit code {result.returncode}:\n"
            f"{result.stdout}{result.stderr}"
        )


def existing_server() -> PostgresServer | None:
    """The server the ONEFOLD_PG_* variables point at, if ONEFOLD_PG_HOST is set."""
    host = os.environ.get("ONEFOLD_PG_HOST")
    if not host:
        return None
    return PostgresServer(
        host=host,
        port=int(os.environ.get("ONEFOLD_PG_PORT", "5432")),
        user=os.environ.get("ONEFOLD_PG_USER", "postgres"),
        database=os.environ.get("ONEFOLD_PG_DATABASE", "onefold"),
    )


# The test suite's cluster lives for one run and holds test-sized data: no JIT (the
# builds' queries run for milliseconds; compiling them costs more than they run) and no
# WAL for tables created and filled in one transaction. The benchmarks keep the defaults.
TEST_SETTINGS = {"jit": "off", "wal_level": "minimal", "max_wal_senders": "0"}


@contextmanager
def throwaway_postgres(
    bin_dir: Path = DEFAULT_BIN_DIR,
    database: str = "onefold",
    settings: Mapping[str, str] | None = None,
) -> Iterator[PostgresServer]:
    """Start a fresh cluster, create `database`, yield it, then stop and delete it.

    `settings` are server parameters (`-c name=value`) on top of the no-durability ones."""
    if not (bin_dir / "initdb").exists():
        raise ConfigError(
            f"no PostgreSQL server binaries in {bin_dir}: install postgresql-15 "
            "or point ONEFOLD_PG_* at an existing server"
        )
    root = Path(tempfile.mkdtemp(prefix="onefold-pg-"))
    data_dir, socket_dir = root / "data", root / "socket"
    socket_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, SERVICE_USER)
        shutil.chown(socket_dir, SERVICE_USER)
    port = free_port()
    started = False
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        options = (
            f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        options += "".join(f" -c {name}={value}" for name, value in (settings or {}).items())
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data_dir),
                "-w",
                "-l",
                str(root / "server.log"),
                "-o",
                options,
                "start",
            ]
        )
        started = True
        _run(
            [
                str(bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                database,
            ]
        )
        yield PostgresServer(
            host="127.0.0.1",
            port=port,
            user="postgres",
            database=database,
            log_path=root / "server.log",
            data_dir=data_dir,
        )
    finally:
        if started:
            subprocess.run(
                _as_service_user(
                    [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"]
                ),
                capture_output=True,
            )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def postgres_for_tests() -> Iterator[PostgresServer]:
    """The server named by ONEFOLD_PG_* when set, else a throwaway one (TEST_SETTINGS)."""
    server = existing_server()
    if server is not None:
        yield server
        return
    with throwaway_postgres(settings=TEST_SETTINGS) as started:
        yield started


def create_database(server: PostgresServer, name: str) -> PostgresServer:
    """A fresh, empty database on `server` (dropped first if it exists)."""
    import psycopg2
    from psycopg2 import sql

    connection = psycopg2.connect(
        host=server.host, port=server.port, user=server.user, dbname="postgres"
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
            cursor.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    finally:
        connection.close()
    return dataclasses.replace(server, database=name)
