"""The console end to end on DuckDB: demo data, `dbt build`, hostile names written
into a golden record, a webhook sync and one erasure; then the pages over HTTP, and in
a real browser.

The PostgreSQL console (read-only roles) is tested in test_e2e_build.py.
`ONEFOLD_SCREENSHOTS_DIR=docs/images/console pytest -k browser` refreshes the docs'
screenshots from this test.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from onefold.cli import main as onefold_cli
from onefold.console.privacy import MASK, RevealLog
from onefold.console.reader import ConsoleSource
from onefold.console.server import Console, running_console
from onefold.erasure.session_salt import SALT_ENV
from onefold.generator import GeneratorConfig, generate_demo_data
from onefold.identity_graph import customer_graph
from onefold.project import locate
from onefold.testing.dbt import environment, locations, project_args
from onefold.testing.measure import executable
from onefold.testing.warehouse import connect_with
from onefold.testing.webhook_server import WebhookReceiver, webhook_server

pytestmark = pytest.mark.e2e

PERSONS = 300
SEED = 5
END_DATE = dt.date(2026, 11, 1)
SALT = "console-e2e-salt-3b9d0f6a1c2e4d5f"
WEBHOOK_SECRET_ENV = "ONEFOLD_TEST_CONSOLE_WEBHOOK_SECRET"
# Names a browser would run if a page put them in unescaped.
HOSTILE_FIRST = "<script>document.title='pwned'</script>"
HOSTILE_LAST = '"><img src=x onerror="document.title=\'pwned\'">'
HOSTILE_NAMES = (HOSTILE_FIRST, HOSTILE_LAST)


@dataclass
class World:
    env: dict[str, str]
    target_path: Path
    root: Path
    hook: WebhookReceiver
    #: a customer with an email, and the email
    customer_id: str
    email: str
    #: the customer whose CRM contact has the hostile names
    hostile_customer_id: str
    #: the erased person's email and former customer_id
    erased_email: str
    erased_customer_id: str

    @property
    def duckdb_path(self) -> Path:
        return Path(self.env["ONEFOLD_DUCKDB_PATH"])

    def source(self, lock_wait_seconds: float = 3.0) -> ConsoleSource:
        project_dir, target_path = Path(self.env["DBT_PROJECT_DIR"]), self.target_path
        with environment(self.env):
            project = locate(project_dir, target_path=target_path)
        return ConsoleSource(lambda: project, lock_wait_seconds=lock_wait_seconds)

    @contextmanager
    def console(self, lock_wait_seconds: float = 3.0) -> Iterator[Console]:
        reveals = RevealLog(self.root / "reveals.jsonl")
        # The console's process environment: the salt the erased check hashes with.
        with (
            environment(self.env),
            running_console(self.source(lock_wait_seconds), reveals) as console,
        ):
            yield console

    def cli(self, *args: str) -> tuple[int, str]:
        with environment(self.env):
            result = CliRunner().invoke(onefold_cli, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout


def _dbt(args: list[str], env: dict[str, str], target_path: Path) -> None:
    """dbt in a subprocess: in-process dbt-duckdb would keep the file open in this
    process, and these tests need the console's own opening and closing of it."""
    result = subprocess.run(
        [executable("dbt"), *args, *project_args(target_path)],
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def _sync(env: dict[str, str], root: Path, url: str) -> None:
    from onefold.sync import load_syncs, run_sync

    syncs = root / "syncs.yml"
    destination = {"type": "webhook", "url": url, "secret_env": WEBHOOK_SECRET_ENV}
    syncs.write_text(
        yaml.safe_dump(
            {
                "syncs": {
                    "customers_webhook": {
                        "model": "customers",
                        "destination": destination,
                        "mode": "upsert",
                        "primary_key": "customer_id",
                        "fields": {"email_sha256": "email"},
                        "hashed": ["email_sha256"],
                    }
                }
            }
        )
    )
    with environment(env):
        warehouse = connect_with(env)
        try:
            run_sync(warehouse, load_syncs(syncs)["customers_webhook"])
        finally:
            warehouse.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("console")
    env = {
        SALT_ENV: SALT,
        WEBHOOK_SECRET_ENV: "console-webhook-secret",
        "ONEFOLD_TARGET": "duckdb",
        "ONEFOLD_DUCKDB_PATH": str(root / "onefold.duckdb"),
        **locations(root / "target"),
    }
    warehouse = connect_with(env)
    try:
        generate_demo_data(
            warehouse, GeneratorConfig(persons=PERSONS, seed=SEED, end_date=END_DATE)
        )
    finally:
        warehouse.close()
    # Models and seeds: the data tests are the other e2e builds' business.
    _dbt(
        [
            "build",
            "--resource-type",
            "seed",
            "--resource-type",
            "model",
            "--vars",
            "{onefold__now: '2026-11-01'}",
        ],
        env,
        root / "target",
    )
    warehouse = connect_with(env)
    try:
        # Hostile names where the console reads them: the golden record of a customer.
        (hostile,) = warehouse.query(
            "select min(customer_id) from onefold_marts.customer_attributes "
            "where attribute = 'first_name' and is_winner"
        )[0]
        for attribute, value in (("first_name", HOSTILE_FIRST), ("last_name", HOSTILE_LAST)):
            warehouse.execute(
                "update onefold_marts.customer_attributes set attribute_value = ? "
                "where customer_id = ? and attribute = ?",
                [value, hostile, attribute],
            )
        people = warehouse.query(
            "select customer_id, email from onefold_marts.customers "
            "where email is not null and records_count between 8 and 40 and customer_id != ? "
            "order by customer_id limit 2",
            [hostile],
        )
    finally:
        warehouse.close()
    (kept_id, kept_email), (erased_id, erased_email) = people
    with webhook_server("console-webhook-secret") as hook:
        _sync(env, root, hook.url)
        with environment(env):
            from onefold.erasure.cli import erase

            result = CliRunner().invoke(
                erase,
                ["--target", "duckdb", "--syncs", str(root / "syncs.yml"), "--json",
                 "--execute", "--request-id", "CONSOLE-1", "--email", erased_email],
            )  # fmt: skip
        assert result.exit_code == 0, result.output
        yield World(
            env, root / "target", root, hook, str(kept_id), str(kept_email), str(hostile),
            str(erased_email), str(erased_id),
        )  # fmt: skip


def _get(console: Console, path: str) -> tuple[int, str]:
    import httpx

    response = httpx.get(console.url.rstrip("/") + path, follow_redirects=True, timeout=60)
    return response.status_code, response.text


def test_search_by_an_identifier_opens_the_profile_with_personal_values_masked(
    world: World,
) -> None:
    import httpx

    with world.console() as console:
        # Typed the way a person types it: the search normalizes as matching does.
        status, page = _get(console, f"/search?q=%20{world.email.upper()}%20")
        found = httpx.get(f"{console.url}search", params={"q": world.email})
    # The profile's URL names the identifier's type, not the value (browser history).
    assert found.headers["location"] == f"/customers/{world.customer_id}?matched=email"
    assert status == 200
    assert f'<code id="customer-id">{world.customer_id}</code>' in page
    assert world.email not in page, "the email is masked until revealed"
    assert MASK in page
    with environment(world.env):
        project = world.source().project()
        warehouse = connect_with(world.env)
        try:
            graph = customer_graph(warehouse, project, world.customer_id)
        finally:
            warehouse.close()
    assert len(graph.nodes) > 2
    assert page.count('id="node-') == len(graph.nodes)
    assert f'data-nodes="{len(graph.nodes)}"' in page
    # Each panel is there.
    for panel in ("golden", "traits", "predictions", "records", "graph", "consent",
                  "segments", "deliveries", "erasure"):  # fmt: skip
        assert f'id="{panel}"' in page, panel
    assert "customers_webhook" in page, "the sync delivered this customer"


def test_a_reveal_shows_one_value_and_is_logged_without_it(world: World) -> None:
    import httpx

    with world.console() as console:
        status, page = _get(console, f"/customers/{world.customer_id}")
        assert status == 200
        token = re.search(r'name="token" value="([^"]+)"', page)
        field = "attribute:email"
        assert token and f'value="{field}"' in page
        url = f"{console.url}customers/{world.customer_id}/reveal"
        refused = httpx.post(url, data={"field": field, "token": "forged"})
        assert refused.status_code == 403
        shown = httpx.post(url, data={"field": field, "token": token.group(1)})
        assert shown.status_code == 200
        assert world.email in shown.text
        again = httpx.get(f"{console.url}customers/{world.customer_id}")
        assert world.email not in again.text, "the next page masks it again"
        entries = console.reveal_log.entries()
    assert len(entries) == 1
    assert entries[0]["customer_id"] == world.customer_id
    assert entries[0]["field"] == field
    assert world.email not in json.dumps(entries)


def test_an_erased_person_is_shown_as_erased_and_nothing_else(world: World) -> None:
    with world.console() as console:
        status, page = _get(console, f"/search?q={world.erased_email}")
        assert status == 200
        assert 'id="erased"' in page and "CONSOLE-1" in page
        gone, _ = _get(console, f"/customers/{world.erased_customer_id}")
    assert gone == 404
    with world.console() as console:
        status, page = _get(console, "/search?q=nobody.at.all@example.org")
    assert 'id="not-found"' in page and 'id="erased"' not in page


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("identity", ["Customers by records held", "Merges and splits per run",
                      "Evaluation against the truth"]),
        ("staging", ["Rows per source", "crm_contacts"]),
        ("segments", ["Segment sizes over time"]),
        ("consent", ["Coverage per purpose and jurisdiction"]),
        ("activation", ["customers_webhook", "Sync runs (newest first)"]),
        ("privacy", ["CONSOLE-1"]),
    ],
)  # fmt: skip
def test_health_pages_show_each_part_of_the_build(
    world: World, page: str, expected: list[str]
) -> None:
    with world.console() as console:
        status, html = _get(console, f"/health/{page}")
    assert status == 200
    for text in expected:
        assert text in html, (page, text)
    assert 'class="unavailable"' not in html, html[html.find('class="unavailable"') :][:400]


def _hold_for_writing(path: Path) -> subprocess.Popen[str]:
    """Another process with the DuckDB file open for writing, as dbt build holds it."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, sys, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); "
         "sys.stdin.readline()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_the_console_holds_no_lock_between_requests_and_says_when_the_file_is_busy(
    world: World,
) -> None:
    with world.console(lock_wait_seconds=0.5) as console:
        assert _get(console, f"/customers/{world.customer_id}")[0] == 200
        # Between requests another process may write (dbt build, onefold sync).
        holder = _hold_for_writing(world.duckdb_path)
        try:
            status, page = _get(console, "/health/segments")
        finally:
            assert holder.stdin is not None
            holder.stdin.write("\n")
            holder.stdin.flush()
            holder.wait(timeout=30)
        assert status == 503
        assert "being written by another process" in page
        assert 'http-equiv="refresh"' in page
        assert _get(console, "/health/segments")[0] == 200


def test_plot_writes_the_same_pictures_as_files(world: World, tmp_path: Path) -> None:
    code, output = world.cli(
        "explain", "--plot", str(tmp_path), "--plot-format", "svg", "--json", world.email
    )
    assert code == 0, output
    document = json.loads(output)
    (graph_file,) = document["plots"]
    assert Path(graph_file).read_text().count('id="node-') > 2
    code, output = world.cli("summary", "--plot", str(tmp_path))
    assert code == 0, output
    code, output = world.cli("evaluate", "--plot", str(tmp_path), "--plot-format", "png")
    assert code == 0, output
    for name in ("quarantine_reasons.png", "segment_members.png", "cluster_sizes.png",
                 "pairwise_scores.png"):  # fmt: skip
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    code, output = world.cli("summary", "--json", "--plot", str(tmp_path), "--plot-format", "gif")
    assert code == 2 and "gif" in json.loads(output.splitlines()[-1])["message"]


# --- In a real browser ----------------------------------------------------------------

CHROMIUM = Path(os.environ.get("ONEFOLD_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (`make test` installs Debian's)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()


def _screenshots(tmp_path: Path) -> Path:
    return Path(os.environ.get("ONEFOLD_SCREENSHOTS_DIR") or tmp_path)


def test_browser_search_profile_graph_and_health(
    world: World, browser: object, tmp_path: Path
) -> None:
    shots = _screenshots(tmp_path)
    with environment(world.env):
        project = world.source().project()
        warehouse = connect_with(world.env)
        try:
            nodes = len(customer_graph(warehouse, project, world.customer_id).nodes)
        finally:
            warehouse.close()
    with world.console() as console:
        page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        page.goto(console.url)
        page.fill("input[name=q]", world.email)
        page.click("header button[type=submit]")
        page.wait_for_selector("#customer-id")
        assert page.inner_text("#customer-id") == world.customer_id
        assert page.locator("#graph svg").count() == 1
        assert page.locator("#graph svg [id^='node-']").count() == nodes
        assert world.email not in page.content()
        page.screenshot(path=str(shots / "customer-360.png"), full_page=True)
        page.click("nav a[data-page=identity]")
        page.wait_for_selector("h1")
        assert page.inner_text("h1") == "Identity health"
        assert page.locator("figure svg").count() >= 2
        page.screenshot(path=str(shots / "identity-health.png"), full_page=True)
        page.goto(console.url + "health/activation")
        page.screenshot(path=str(shots / "activation-health.png"), full_page=True)
        page.close()


def test_browser_runs_nothing_from_hostile_names(world: World, browser: object) -> None:
    with world.console() as console:
        page = browser.new_page()  # type: ignore[attr-defined]
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(f"{console.url}customers/{world.hostile_customer_id}")
        page.wait_for_selector("#customer-id")
        # Reveal the hostile first name: it must come back as text.
        page.click("form.reveal[data-field='attribute:first_name'] button")
        page.wait_for_selector("[data-field='attribute:first_name'].revealed")
        revealed = page.inner_text("[data-field='attribute:first_name'].revealed")
        title = page.title()
        images = page.locator("img").count()
        page.close()
    assert revealed == HOSTILE_FIRST
    assert "pwned" not in title and not dialogs
    assert images == 0, "the hostile <img> was not parsed as markup"
