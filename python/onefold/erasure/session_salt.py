"""The erasure salt as session state of the warehouse connections we open, and nowhere else.

Staging's suppression filter reads the salt from the session: DuckDB with
`getvariable('onefold_erasure_salt')`, PostgreSQL with
`current_setting('onefold.erasure_salt', true)`. dbt's connections get it from the
dbt-duckdb plugin, on PostgreSQL from `PGOPTIONS` (dbt-postgres has no `options`
field), on Spark from the session's configuration (`spark.onefold.erasure_salt`,
which the profile's `server_side_parameters` and `onefold.settings.SparkSettings` set).
The package's own connections (`onefold summary`, `validate`, syncs, erase) set it
themselves from DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT, and every PostgreSQL connection
the package opens passes an explicit libpq `options`, which replaces `PGOPTIONS`: the
warehouse's carries the salt, a sync destination's never does, so the secret reaches
no other server even when `PGOPTIONS` holds it process-wide.

The demo salt: `make demo` writes a labelled salt next to the demo's DuckDB file
(`<file>.demo-erasure-salt`, see `onefold.erasure.demo_salt`) so erasure works on the
demo without anyone inventing a secret. A DuckDB connection to that file, dbt's (the
plugin) and ours, uses it when DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT is unset or empty,
never when it is set. No such file exists beside a real warehouse unless someone puts it
there.

This module imports nothing heavy so the plugin and the warehouse layer can use it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

SALT_ENV = "DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT"
DUCKDB_VARIABLE = "onefold_erasure_salt"
POSTGRES_SETTING = "onefold.erasure_salt"
SPARK_SETTING = "spark.onefold.erasure_salt"
DEMO_SALT_SUFFIX = ".demo-erasure-salt"


def demo_salt_file(database: str | Path) -> Path:
    """Where `make demo` keeps the demo salt of the DuckDB file `database`."""
    path = Path(database)
    return path.with_name(path.name + DEMO_SALT_SUFFIX)


def read_demo_salt(database: str | Path | None) -> str | None:
    """The demo salt beside the DuckDB file `database` (its first line that is not
    blank or a `#` comment), or None when there is no such file."""
    if database is None or str(database) in ("", ":memory:"):
        return None
    try:
        text = demo_salt_file(database).read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        value = line.strip()
        if value and not value.startswith("#"):
            return value
    return None


def salt_from_environment(database: str | Path | None = None) -> str | None:
    """DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT; when it is unset or empty, the demo salt of
    the DuckDB file `database` if it has one; else None."""
    return os.environ.get(SALT_ENV) or read_demo_salt(database)


def set_salt(connection: Any, salt: str) -> None:
    """Put `salt` on a DuckDB connection or cursor, as a bound parameter (never SQL text)."""
    connection.execute(f"set variable {DUCKDB_VARIABLE} = ?", [salt])


def set_salt_from_environment(connection: Any, database: str | Path | None = None) -> None:
    """Put the salt from DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT (else the demo salt of the
    DuckDB file `database`) on the connection, if there is one."""
    salt = salt_from_environment(database)
    if salt:
        set_salt(connection, salt)


def libpq_option(name: str, value: str) -> str:
    """`-c name=value` for libpq's `options`, with spaces and backslashes escaped."""
    escaped = value.replace("\\", "\\\\").replace(" ", "\\ ")
    return f"-c {name}={escaped}"


# A libpq `options` word: backslash escapes the next character (a space, a backslash).
_WORD = re.compile(r"(?:\\.|[^\s\\])+|\\$")


def _setting_name(text: str) -> str:
    """The server setting a `name=value` word sets (GUC names ignore case; the `--name`
    form spells underscores as dashes)."""
    name = re.sub(r"\\(.)", r"\1", text).partition("=")[0]
    return name.strip().lower().replace("-", "_")


def without_salt(options: str) -> str:
    """libpq `options` (PGOPTIONS' syntax) with every `onefold.erasure_salt` setting
    removed: `-c onefold.erasure_salt=…`, `-conefold.erasure_salt=…` and
    `--onefold.erasure-salt=…`. Every other word is kept as written."""
    words = _WORD.findall(options)
    kept: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word == "-c" and index + 1 < len(words):
            if _setting_name(words[index + 1]) != POSTGRES_SETTING:
                kept += [word, words[index + 1]]
            index += 2
            continue
        if not (word[:2] in ("-c", "--") and _setting_name(word[2:]) == POSTGRES_SETTING):
            kept.append(word)
        index += 1
    return " ".join(kept)


def inherited_options() -> str:
    """PGOPTIONS of this process without the salt."""
    return without_salt(os.environ.get("PGOPTIONS", ""))


def warehouse_options(salt: str | None) -> str:
    """libpq `options` for a connection to the warehouse: the inherited PGOPTIONS
    without any salt in them, plus `salt` (the package's own, from the env secret)."""
    parts = [inherited_options()]
    if salt:
        parts.append(libpq_option(POSTGRES_SETTING, salt))
    return " ".join(part for part in parts if part)


def foreign_options() -> str:
    """libpq `options` for a connection to any other PostgreSQL server or database (a
    sync destination): the inherited PGOPTIONS without the salt. Pass it even when empty:
    an explicit `options` replaces PGOPTIONS, an omitted one inherits it."""
    return inherited_options()
