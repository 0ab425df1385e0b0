"""The email normalizer against a reference implementation of mailbox providers' rules.

The reference is the `email-normalize` library, offline (its static map of the
providers' consumer domains, no DNS): +tags cut where the provider delivers them to the
mailbox, dots dropped for Gmail, alias domains folded (googlemail.com, me.com, mac.com).
Every provider domain it knows, and domains it does not, in many notations (case,
whitespace, tags, dots), must normalize identically in SQL on both warehouses.
Addresses on a provider's subdomains (Fastmail's `user@name.fastmail.com`) are left out:
Onefold keeps those as typed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from email_normalize import normalize, providers

from onefold.testing.dbt import PACKAGE_DIR, run_dbt
from onefold.testing.postgres import PostgresServer
from onefold.testing.warehouse import target_environment

pytestmark = pytest.mark.e2e

OTHER_DOMAINS = ["example.org", "northwind-traders.com", "uni.example.ac.uk", "mail.de"]
LOCAL_PARTS = ["jane", "jane.doe", "j.a.n.e", "jane+news", "jane.doe+shop+2024", "Jane.Doe",
               "jane_doe", "jane-doe.x", "o'brien", "jane+", "janedoe99"]  # fmt: skip


def addresses() -> list[str]:
    domains = sorted(providers.DomainMap) + OTHER_DOMAINS
    found = []
    for domain in domains:
        for local in LOCAL_PARTS:
            found += [f"{local}@{domain}", f"  {local.upper()}@{domain.upper()} "]
    return found


def reference(address: str) -> str:
    return str(normalize(address.strip(), skip_dns=True).normalized_address)


@pytest.mark.parametrize("target", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_email_normalizer_follows_the_providers_rules(
    target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    def server() -> PostgresServer:
        return request.getfixturevalue("postgres_server")  # type: ignore[no-any-return]

    env = target_environment(target, tmp_path, "onefold_emails", server)
    cases = addresses()
    values = ", ".join(
        f"({position}, '{address.replace(chr(39), chr(39) * 2)}')"
        for position, address in enumerate(cases)
    )
    inline = (
        "select position, {{ onefold.normalize_email('address') }} as normalized "
        f"from (values {values}) as cases (position, address)"
    )
    # An inline query is the root project's: it gets the package's email vars as given.
    package_vars = yaml.safe_load((PACKAGE_DIR / "dbt_project.yml").read_text())["vars"]
    email_vars = {name: value for name, value in package_vars.items() if "email_" in name}
    log_dir = tmp_path / "logs"
    result = run_dbt(
        [
            "show",
            "--inline",
            inline,
            "--limit",
            str(len(cases)),
            "--log-path",
            str(log_dir),
            "--vars",
            json.dumps(email_vars),
        ],
        env,
        tmp_path / "target",
    )
    shutil.rmtree(log_dir, ignore_errors=True)
    found = {int(row[0]): row[1] for row in result.results[0].agate_table.rows}
    differing = [
        (address, found[position], reference(address))
        for position, address in enumerate(cases)
        if found[position] != reference(address)
    ]
    assert differing[:20] == [], json.dumps(differing[:20])
    assert len(found) == len(cases)
