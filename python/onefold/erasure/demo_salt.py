"""The demo's erasure salt: `make demo` runs `python -m onefold.erasure.demo_salt
<duckdb file>`, which writes a random salt, clearly labelled as the demo's, beside the
demo warehouse (`<file>.demo-erasure-salt`, in the git-ignored `warehouse/`). dbt's
DuckDB plugin, Onefold's own connections and `onefold erase` read it when
DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT is not set (`session_salt.read_demo_salt`), so
`onefold erase --execute` works on the demo without anyone inventing a secret. A real
salt in the environment always wins; never use this file for real data.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from onefold.erasure.session_salt import SALT_ENV, demo_salt_file, read_demo_salt

HEADER = f"""\
# Onefold DEMO erasure salt, written by `make demo` for the demo warehouse beside it.
# Demo data only: it is not secret (it sits in a plain file), so anyone who can read it
# can reverse the demo's suppression list. For real data keep a salt of your own in your
# secret store and set {SALT_ENV}; when that is set, this file is ignored.
"""


def ensure(database: str | Path) -> Path:
    """The demo salt file of the DuckDB file `database`, written (owner-only) when it
    does not hold a salt yet; an existing one is kept."""
    path = demo_salt_file(database)
    if read_demo_salt(database) is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(HEADER + secrets.token_hex(32) + "\n")
        path.chmod(0o600)
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m onefold.erasure.demo_salt <duckdb file>", file=sys.stderr)
        return 2
    path = ensure(argv[0])
    print(f"demo erasure salt: {path} (demo only; {SALT_ENV} overrides it)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
