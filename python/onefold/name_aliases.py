"""Name aliases (nicknames and diminutives) for probabilistic matching: seeds/name_aliases.csv.

The `name_alias` comparison level (macros/identity/probabilistic_matching.sql) links two
first names one of which is a known nickname of the other (Nicholas and Nick, Margaret
and Peggy), which no string distance finds. The pairs come from Carlton Northern's
hand-curated English names and nicknames (the `nicknames` package, Apache-2.0), written
in both directions as the package ships them; dbt normalizes them with the same `name`
normalizer the records get. `python -m onefold.name_aliases --write` (re)writes the seed
from the installed package; a test fails when the seed is stale.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from importlib import metadata, resources
from pathlib import Path

SEED = Path(__file__).resolve().parents[2] / "seeds" / "name_aliases.csv"


def alias_pairs() -> list[tuple[str, str]]:
    """Every (name, alias) pair of the package's list, both ways, sorted."""
    text = resources.files("nicknames").joinpath("names.csv").read_text(encoding="utf-8")
    pairs: set[tuple[str, str]] = set()
    for row in csv.DictReader(io.StringIO(text)):
        name, alias = row["name1"].strip(), row["name2"].strip()
        if name and alias and name != alias:
            pairs.update({(name, alias), (alias, name)})
    return sorted(pairs)


def seed_text() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "alias"])
    writer.writerows(alias_pairs())
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m onefold.name_aliases",
        description="Write or check seeds/name_aliases.csv from the installed nicknames package.",
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="(Re)write the seed.")
    group.add_argument("--check", action="store_true", help="Exit 1 when it is stale.")
    args = parser.parse_args(argv)
    text = seed_text()
    if args.write:
        SEED.write_text(text)
        print(f"wrote {SEED} ({text.count(chr(10)) - 1} pairs)")
        return 0
    if not SEED.exists() or SEED.read_text() != text:
        print(
            f"{SEED} is stale for nicknames {metadata.version('nicknames')}: "
            "run `python -m onefold.name_aliases --write`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
