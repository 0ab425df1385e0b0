"""The documentation stays true to the code: the CLI reference is generated from the
click commands and current, every dbt var is documented, every relative link resolves."""

from __future__ import annotations

import re
from pathlib import Path

import click
import yaml

from onefold import docs_cli
from onefold.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CLI_PAGE = DOCS / "cli.md"
VARS_PAGE = DOCS / "vars.md"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def test_cli_reference_is_current() -> None:
    assert CLI_PAGE.exists(), f"{CLI_PAGE} is missing: run `{docs_cli.REGENERATE}`"
    assert CLI_PAGE.read_text(encoding="utf-8") == docs_cli.render(), (
        f"docs/cli.md is stale (a click command, option or help text changed): "
        f"run `{docs_cli.REGENERATE}` from the repository root and commit docs/cli.md"
    )


def test_every_command_is_in_the_cli_reference() -> None:
    page = CLI_PAGE.read_text(encoding="utf-8")
    paths = docs_cli.command_paths(main)
    assert {"onefold", "onefold sync", "onefold erase", "onefold validate"} <= set(paths)
    missing = [path for path in paths if f"\n## `{path}`\n" not in page]
    assert not missing, f"commands missing from docs/cli.md: {missing}"


def test_every_command_and_option_has_help() -> None:
    undocumented = []
    for context, command in docs_cli.walk(main, "onefold"):
        if not (command.help or "").strip():
            undocumented.append(context.command_path)
        for param in command.params:
            if isinstance(param, click.Option) and not (param.help or "").strip():
                undocumented.append(f"{context.command_path} {param.opts[0]}")
    assert not undocumented, f"commands or options without help text: {undocumented}"


def test_generator_check_mode_flags_a_stale_page(tmp_path: Path) -> None:
    from click.testing import CliRunner

    page = tmp_path / "cli.md"
    runner = CliRunner()
    assert runner.invoke(docs_cli.cli, ["--output", str(page), "--check"]).exit_code == 1
    assert runner.invoke(docs_cli.cli, ["--output", str(page)]).exit_code == 0
    assert runner.invoke(docs_cli.cli, ["--output", str(page), "--check"]).exit_code == 0
    assert page.read_text(encoding="utf-8") == CLI_PAGE.read_text(encoding="utf-8")


def _declared_vars() -> set[str]:
    project = yaml.safe_load((ROOT / "dbt_project.yml").read_text(encoding="utf-8"))
    return set(project["vars"])


def _vars_table() -> dict[str, str]:
    """First cell (the var, in backticks) → whole row, for every row of the vars table."""
    rows = {}
    for line in VARS_PAGE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `(onefold__[^`]+)` \|", line)
        if match:
            rows[match.group(1)] = line
    return rows


def test_every_var_is_documented() -> None:
    """Every var in dbt_project.yml has a row in docs/vars.md: its own, or one of the
    per-source rows (`onefold__<source>_schema`, `onefold__<source>_enabled`, …) naming
    its source in backticks."""
    rows = _vars_table()
    patterns = {
        row_var: re.compile("^" + re.sub(r"<\w+>", r"(\\w+)", row_var) + "$")
        for row_var in rows
        if "<" in row_var
    }
    undocumented = []
    for var in sorted(_declared_vars()):
        if var in rows:
            continue
        for pattern_row, pattern in patterns.items():
            match = pattern.match(var)
            if match and f"`{match.group(1)}`" in rows.get(pattern_row, ""):
                break
        else:
            undocumented.append(var)
    assert not undocumented, (
        f"vars declared in dbt_project.yml but not documented in docs/vars.md: {undocumented}"
    )


def test_every_documented_var_exists() -> None:
    declared = _declared_vars()
    stale = [var for var in _vars_table() if "<" not in var and var not in declared]
    assert not stale, f"docs/vars.md documents vars dbt_project.yml does not declare: {stale}"


def test_every_var_used_is_declared() -> None:
    """A var a model, macro or test reads has its default in dbt_project.yml."""
    used = set()
    for folder in ("models", "macros", "tests"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".sql", ".yml"}:
                text = path.read_text(encoding="utf-8")
                used |= set(re.findall(r"""var\(\s*['"](onefold__\w+)['"]""", text))
    assert used, "no var() calls found: the pattern is out of date"
    assert not used - _declared_vars(), (
        f"vars read without a default in dbt_project.yml: {sorted(used - _declared_vars())}"
    )


def _without_code(text: str) -> str:
    return CODE_SPAN.sub("", FENCE.sub("", text))


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower-case, punctuation dropped, spaces to hyphens,
    repeats numbered."""
    seen: dict[str, int] = {}
    anchors = set()
    for line in FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"^#{1,6} (.+?)\s*#*\s*$", line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_relative_links_resolve() -> None:
    broken = []
    for page in PAGES:
        for target in LINK.findall(_without_code(page.read_text(encoding="utf-8"))):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            linked = (page.parent / file_part).resolve() if file_part else page
            where = f"{page.relative_to(ROOT)}: ({target})"
            if not linked.exists():
                broken.append(f"{where} no such file")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
                broken.append(f"{where} no heading #{anchor} in {linked.name}")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_readme_links_every_docs_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = {target.partition("#")[0] for target in LINK.findall(readme)}
    missing = [page.name for page in sorted(DOCS.glob("*.md")) if f"docs/{page.name}" not in linked]
    assert not missing, f"docs pages missing from README.md's table of contents: {missing}"
