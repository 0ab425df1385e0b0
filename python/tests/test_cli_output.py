"""How every `onefold` command talks to people and machines: --json documents and JSON
errors, whole lines and numbers off a terminal, progress only on a terminal."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from onefold import cli_common, summary
from onefold.cli import main
from onefold.generator import GeneratorConfig, Simulation, generate_demo_data
from onefold.settings import DuckDBSettings
from onefold.warehouse import DuckDBWarehouse

END_DATE = "2026-03-01"
GENERATE = ["generate", "--persons", "120", "--seed", "3", "--end-date", END_DATE, "--days", "30"]


def _json_commands() -> list[tuple[str, list[str]]]:
    """Every subcommand with a --json option, with the arguments it needs to run."""
    required = {"explain": ["someone@example.com"], "sync": ["--all"]}
    found = []
    for name, command in sorted(main.commands.items()):
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        if "--json" in options:
            found.append((name, required.get(name, [])))
    return found


def test_generate_and_summary_have_json() -> None:
    assert {"generate", "summary"} <= {name for name, _ in _json_commands()}


def _last_json_line(result: Result) -> dict[str, Any]:
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines, (result.stdout, result.stderr)
    document: dict[str, Any] = json.loads(lines[-1])
    return document


@pytest.mark.parametrize(("command", "arguments"), _json_commands())
def test_with_json_a_config_error_is_json_on_stdout(
    command: str, arguments: list[str], tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main, [command, "--json", "--project-dir", str(tmp_path), *arguments]
    )
    assert result.exit_code == 2, result.output
    error = _last_json_line(result)
    assert error["event"] == "error"
    assert error["exit_code"] == 2
    assert "dbt_project.yml" in error["message"] and str(tmp_path) in error["message"]
    assert "error:" not in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["generate", "--json", "--persons", "0"], "--persons"),
        (["summary", "--json", "--no-such-option"], "--no-such-option"),
        (["evaluate", "--json", "--target-path"], "--target-path"),
    ],
)
def test_with_json_a_usage_error_is_json_too(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2, result.output
    error = _last_json_line(result)
    assert error["event"] == "error" and error["exit_code"] == 2
    assert message in error["message"]
    assert "Usage:" not in result.output


def test_without_json_a_usage_error_stays_clicks_text() -> None:
    result = CliRunner().invoke(main, ["generate", "--persons", "0"])
    assert result.exit_code == 2
    assert "Usage:" in result.output and "--persons" in result.output


def test_off_a_terminal_an_error_is_one_line(tmp_path: Path) -> None:
    deep = tmp_path / ("a-long-directory-name-" * 4)
    deep.mkdir()
    result = CliRunner().invoke(main, ["summary", "--project-dir", str(deep)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: no dbt_project.yml in ") and lines[0].endswith("project.")


def test_generate_json_reports_what_it_wrote(tmp_path: Path) -> None:
    path = tmp_path / "gen.duckdb"
    result = CliRunner().invoke(
        main,
        [*GENERATE, "--json"],
        env={"ONEFOLD_DUCKDB_PATH": str(path), "ONEFOLD_TARGET": "duckdb"},
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["persons"] == 120 and document["seed"] == 3
    assert document["end_date"] == END_DATE and document["days"] == 30
    assert document["target"] == "duckdb"
    warehouse = DuckDBWarehouse(DuckDBSettings(path=path), read_only=True)
    try:
        for table, rows in document["row_counts"].items():
            assert warehouse.query(f"select count(*) from raw.{table}")[0][0] == rows, table
    finally:
        warehouse.close()
    assert set(document["row_counts"]) >= {"web_events", "shop_orders", "erasure_requests"}
    assert document["truth_row_counts"]["persons"] == 120
    assert document["seconds"] >= 0


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """stderr as a terminal 100 columns wide: where progress is drawn."""
    screen = io.StringIO()
    fake = cli_common.make_console(file=screen, force_terminal=True, width=100)
    monkeypatch.setattr(cli_common, "error_console", fake)
    yield screen


def test_generate_shows_progress_on_a_terminal(terminal: io.StringIO, tmp_path: Path) -> None:
    env = {"ONEFOLD_DUCKDB_PATH": str(tmp_path / "p.duckdb"), "ONEFOLD_TARGET": "duckdb"}
    result = CliRunner().invoke(main, GENERATE, env=env)
    assert result.exit_code == 0, result.output
    drawn = terminal.getvalue()
    assert "raw.web_events" in drawn and "raw_truth" in drawn, drawn


def test_generate_shows_no_progress_with_json(terminal: io.StringIO, tmp_path: Path) -> None:
    env = {"ONEFOLD_DUCKDB_PATH": str(tmp_path / "p.duckdb"), "ONEFOLD_TARGET": "duckdb"}
    result = CliRunner().invoke(main, [*GENERATE, "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert terminal.getvalue() == ""
    json.loads(result.stdout)


def test_progress_is_off_when_stderr_is_not_a_terminal() -> None:
    with cli_common.progress("working", as_json=False) as step:
        step("one", 1, 2)
    assert not cli_common.progress_enabled(as_json=False)


def test_generator_reports_each_step(tmp_path: Path) -> None:
    steps: list[tuple[str, int, int]] = []
    warehouse = DuckDBWarehouse(DuckDBSettings(path=tmp_path / "s.duckdb"))
    try:
        generate_demo_data(
            warehouse,
            GeneratorConfig(persons=50, seed=1, end_date=dt.date(2026, 3, 1), days=30),
            progress=lambda label, done, total: steps.append((label, done, total)),
        )
    finally:
        warehouse.close()
    labels = [label for label, _, _ in steps]
    built = [
        t.name
        for t in Simulation(
            GeneratorConfig(persons=20, seed=1, end_date=dt.date(2026, 3, 1), days=30)
        ).raw_tables()
    ]
    assert [label.removeprefix("raw.") for label in labels[1:-2]] == built
    assert "raw.web_events" in labels and labels[-1].startswith("raw_truth")
    done = [d for _, d, _ in steps]
    assert done == sorted(done) and steps[-1][1] == steps[-1][2]


# -- summary: text off a terminal and --json, from a report with large numbers ------------


def _report() -> summary.SummaryReport:
    model = summary.StagingModel(
        name="stg_web__events",
        relation='"w"."s"."stg_web__events"',
        base_relation='"w"."s"."base_web__events"',
        quarantine_relation='"w"."s"."stg_web__events_quarantine"',
        source_relation='"w"."raw"."web_events"',
        source_name="web.web_events_from_a_rather_long_loader_name",
    )
    counts = summary.SourceCounts(
        model=model,
        raw_rows=123_456_789,
        staged_rows=122_999_000,
        quarantined_rows=400_000,
        duplicate_rows=56_789,
        suppressed_rows=0,
        quarantine_reasons={"invalid_json_in_the_properties_column": 400_000},
    )
    segments = [
        summary.SegmentCounts(
            "high_value_recent_buyers_with_a_long_name",
            9_876_543,
            {"ad_platforms": 1_234_567, "email_platform": 2_345_678, "sms_platform": 3_456_789},
        )
    ]
    return summary.SummaryReport(
        target="duckdb",
        sources=[counts],
        segments=segments,
        build=summary.BuildTiming(elapsed_seconds=12.5, passed=260, failed=2),
    )


@pytest.fixture
def fake_summary(monkeypatch: pytest.MonkeyPatch) -> summary.SummaryReport:
    report = _report()
    monkeypatch.setattr(summary, "collect_summary", lambda project, progress=None: report)
    return report


def test_summary_off_a_terminal_prints_whole_headers_and_numbers(
    fake_summary: summary.SummaryReport,
) -> None:
    result = CliRunner().invoke(main, ["summary"], env={"COLUMNS": "60"})
    assert result.exit_code == 1  # rows unaccounted for: the report does not balance
    text = result.stdout
    assert "…" not in text, text
    for header in ("raw rows", "staged", "quarantined", "duplicates", "suppressed"):
        assert header in text
    for number in ("123,456,789", "122,999,000", "400,000", "56,789", "9,876,543", "3,456,789"):
        assert number in text, number
    assert "web.web_events_from_a_rather_long_loader_name" in text
    assert "ad_platforms 1,234,567, email_platform 2,345,678, sms_platform 3,456,789" in text
    assert "rows unaccounted for in web.web_events_from_a_rather_long_loader_name" in result.stderr


def test_summary_json(fake_summary: summary.SummaryReport) -> None:
    result = CliRunner().invoke(main, ["summary", "--json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    [source] = document["sources"]
    assert source["source"] == "web.web_events_from_a_rather_long_loader_name"
    assert source["model"] == "stg_web__events"
    assert source["raw_rows"] == 123_456_789 and source["is_balanced"] is False
    assert source["quarantine_reasons"] == {"invalid_json_in_the_properties_column": 400_000}
    assert document["totals"]["raw_rows"] == 123_456_789
    assert document["segments"] == [
        {
            "segment": "high_value_recent_buyers_with_a_long_name",
            "members": 9_876_543,
            "activation_rows": {
                "ad_platforms": 1_234_567,
                "email_platform": 2_345_678,
                "sms_platform": 3_456_789,
            },
        }
    ]
    assert document["build"] == {"elapsed_seconds": 12.5, "passed": 260, "failed": 2}
    assert document["unbalanced"] == ["web.web_events_from_a_rather_long_loader_name"]
    assert document["error"]["exit_code"] == 1
    assert "rows unaccounted for" in document["error"]["message"]
    assert result.stderr == ""


def test_python_dash_m_runs_the_cli() -> None:
    """`python -m onefold.cli` is the command (handy where the console script points at
    another checkout)."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "onefold.cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "onefold" in result.stdout, result
