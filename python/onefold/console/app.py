"""The console's web app (Flask, server-rendered pages, no scripts).

Pages: `/` search, `/customers/<id>` Customer 360, `/health/<page>` health pages.
Every value goes through Jinja's autoescaping, and the Content-Security-Policy allows
no script at all: a hostile name in the data is shown as text and cannot run. Revealing
a personal value is a POST carrying a per-process token, so another site cannot make
the browser reveal (and log) one.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from onefold import __version__
from onefold.console import customer, health
from onefold.console.privacy import Masker, RevealLog
from onefold.console.reader import Busy, ConsoleSource, Unavailable
from onefold.errors import OnefoldError
from onefold.explain import NotFoundError
from onefold.pictures import graph_figure, to_svg

log = logging.getLogger(__name__)

#: No script may run; inline SVG keeps its style attributes.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]", "::1"]


def create_app(source: ConsoleSource, reveal_log: RevealLog, loopback_only: bool = True) -> Flask:
    """The console over `source`; `loopback_only`: answer only requests addressed to
    this machine's loopback names (a page elsewhere cannot rebind a name to it)."""
    app = Flask(__name__)
    if loopback_only:
        app.config["TRUSTED_HOSTS"] = LOOPBACK_NAMES
    token = secrets.token_urlsafe(32)

    @app.after_request
    def secure(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.context_processor
    def shared() -> dict[str, Any]:
        return {
            "health_pages": health.PAGES,
            "version": __version__,
            "target": source.project().target.name,
        }

    @app.errorhandler(Busy)
    def busy(exc: Busy) -> tuple[str, int]:
        return render_template(
            "message.html", title="Warehouse busy", message=str(exc), refresh=5
        ), 503

    @app.errorhandler(OnefoldError)
    def failed(exc: OnefoldError) -> tuple[str, int]:
        return render_template("message.html", title="Cannot show this", message=str(exc)), 500

    @app.get("/")
    def index() -> str:
        return render_template("index.html", query="", result=None)

    @app.get("/search")
    def search() -> Response | str:
        query = request.args.get("q", "")
        with source.open(personal=True) as reader:
            result = customer.search(reader, query)
        if result.customer_id:
            # The URL names the identifier's type only: a value would land in history.
            matched = result.matched.split(":", 1)[0] if result.matched else None
            return redirect(url_for("profile", customer_id=result.customer_id, matched=matched))
        return render_template("index.html", query=query, result=result)

    def render_profile(customer_id: str, revealed: set[str]) -> str:
        masker = Masker(revealed)
        panels: dict[str, Any] = {}
        problems: dict[str, str] = {}
        with source.open() as reader:
            try:
                panels["traits"] = customer.traits(reader, customer_id)
            except NotFoundError:
                abort(404)
            for name, read in (
                ("predictions", customer.predictions),
                ("records", customer.records_by_source),
                ("consent", customer.consent_timeline),
                ("segments", customer.segment_spells),
                ("deliveries", customer.deliveries),
                ("erasure", customer.erasure_requests),
            ):
                try:
                    panels[name] = read(reader, customer_id)
                except Unavailable as exc:
                    problems[name] = str(exc)
        try:
            with source.open(personal=True) as reader:
                panels["attributes"] = customer.golden_attributes(reader, customer_id, masker)
                graph = customer.identity_graph(reader, customer_id, masker)
                panels["graph"] = graph
                panels["graph_svg"] = to_svg(graph_figure(graph))
        except Unavailable as exc:
            problems["attributes"] = problems["graph"] = str(exc)
        return render_template(
            "customer.html",
            customer_id=customer_id,
            matched=request.args.get("matched"),
            panels=panels,
            problems=problems,
            token=token,
        )

    @app.get("/customers/<customer_id>")
    def profile(customer_id: str) -> str:
        return render_profile(customer_id, set())

    @app.post("/customers/<customer_id>/reveal")
    def reveal(customer_id: str) -> str:
        if not secrets.compare_digest(request.form.get("token", ""), token):
            abort(403)
        field = request.form.get("field", "")
        if not field:
            abort(400)
        reveal_log.record(customer_id, field, request.remote_addr or "")
        log.info("revealed %s of customer %s", field, customer_id)
        return render_profile(customer_id, {field})

    @app.get("/health/<name>")
    def health_page(name: str) -> str:
        build = health.PAGES.get(name)
        if build is None:
            abort(404)
        with source.open() as reader:
            page = build(reader)
        return render_template("health.html", page=page)

    return app


def default_reveal_log(project_dir: Path) -> Path:
    """Where reveals are logged unless told: beside dbt's own logs."""
    return project_dir / "logs" / "onefold-console-reveals.jsonl"
