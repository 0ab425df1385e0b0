"""`--write` / `--check` for a file the repository keeps generated from an installed library
(the phone numbering plans, the name alias seed): one command line for all of them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def write_or_check(
    argv: list[str] | None, module: str, description: str, path: Path, text: str, made_from: str
) -> int:
    """`--write` (re)writes `path` with `text`; `--check` exits 1 when it differs.
    `made_from` names the library and release the text came from."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="(Re)write the file.")
    group.add_argument("--check", action="store_true", help="Exit 1 when it is stale.")
    args = parser.parse_args(argv)
    if args.write:
        path.write_text(text)
        print(f"wrote {path} from {made_from}")
        return 0
    if not path.exists() or path.read_text() != text:
        print(
            f"{path} is stale for {made_from}: run `python -m {module} --write`",
            file=sys.stderr,
        )
        return 1
    return 0
