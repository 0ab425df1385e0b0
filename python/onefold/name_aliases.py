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

import csv
import io
import sys
from importlib import metadata, resources
from pathlib import Path

from onefold.generated_file import write_or_check

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
    return write_or_check(
        argv,
        "onefold.name_aliases",
        "Write or check seeds/name_aliases.csv from the installed nicknames package.",
        SEED,
        seed_text(),
        f"nicknames {metadata.version('nicknames')}",
    )


if __name__ == "__main__":
    sys.exit(main())
