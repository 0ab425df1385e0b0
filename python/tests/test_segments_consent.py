"""Consent, segments and their activation end to end, on both warehouses.

One warehouse per target: demo data, a first build "on" 2026-10-01 and a mirror sync
of one segment's audience to a local webhook, then crafted consent events, a second
build on 2026-11-01 (people enter and leave segments, consent changes) and the sync
again; then the consent models again under the deny_wins policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from onefold.generator import GeneratorConfig, generate_demo_data
from onefold.sync import run_sync
from onefold.sync.config import SyncConfig, parse_sync
from onefold.testing.dbt import WITHOUT_UNIT_TESTS, DbtFailure, environment, locate_project, run_dbt
from onefold.testing.sync import SECRET, SECRET_ENV
from onefold.testing.warehouse import connect_with, target_environment
from onefold.testing.webhook_server import WebhookReceiver, webhook_server
from onefold.warehouse import Warehouse

pytestmark = pytest.mark.e2e

MARTS = "onefold_marts"
FIRST_RUN = "2026-10-01 00:00:00"
SECOND_RUN = "2026-11-01 00:00:00"
LOADED_AT = "2026-10-31 23:59:00"


@dataclass
class Scenario:
    target: str
    env: dict[str, str]
    target_path: Path
    first_members: set[tuple[str, str]] = field(default_factory=set)
    conflicted_customer: str = ""
    phone_event: str = "t-phone-grant-2"
    email_event: str = "t-email-deny"
    withdrawn_customer: str = ""
    receiver: WebhookReceiver | None = None
    first_sync_keys: set[str] = field(default_factory=set)

    def connect(self) -> Warehouse:
        return connect_with(self.env)

    def build(self, now: str, *extra: str) -> None:
        run_dbt(
            ["build", *extra, *WITHOUT_UNIT_TESTS, "--vars", f"{{onefold__now: '{now}'}}"],
            self.env,
            self.target_path,
        )

    def sync_loyalists(self) -> None:
        """Mirror the store_loyalists audience of ad_platforms to the local webhook."""
        assert self.receiver is not None
        warehouse = self.connect()
        try:
            project = locate_project(self.env, self.target_path)
            with environment({**self.env, SECRET_ENV: SECRET}):
                result = run_sync(warehouse, _loyalists_sync(self.receiver.url), project=project)
        finally:
            warehouse.close()
        assert result.exit_code == 0, result.as_dict()


def _loyalists_sync(url: str) -> SyncConfig:
    return parse_sync(
        "loyalists_ads",
        {
            "segment": "store_loyalists",
            "destination": {
                "type": "webhook",
                "name": "ad_platforms",
                "url": url,
                "secret_env": SECRET_ENV,
                "requests_per_second": 1000,
            },
            "mode": "mirror",
            "primary_key": "customer_id",
            "fields": {"email_sha256": "email_sha256", "phone_sha256": "phone_sha256"},
            "hashed": ["email_sha256", "phone_sha256"],
            "purposes": ["ad_personalization", "data_sale"],
        },
    )


def _consent_event(
    event_id: str, identifier_type: str, value: str, purpose: str, status: str, at: str, gpc: bool
) -> str:
    return (
        "insert into raw.consent_events values ("
        f"'{event_id}', '{identifier_type}', '{value}', '{purpose}', '{status}', "
        f"'preference_center', 'US-CA', '{str(gpc).lower()}', '{at}', "
        f"cast('{LOADED_AT}' as timestamp))"
    )


def _members(warehouse: Warehouse) -> set[tuple[str, str]]:
    rows = warehouse.query(f"select segment_name, customer_id from {MARTS}.segment_memberships")
    return {(str(segment), str(customer)) for segment, customer in rows}


def _prepare_consent_changes(scenario: Scenario, warehouse: Warehouse) -> None:
    """A customer whose phone and email disagree about SMS, with a GPC signal; and a
    store_loyalists member activated to ad platforms who withdraws ad consent (that
    segment's predicate does not depend on the date, so they stay a member)."""
    conflicted = warehouse.query(
        f"""
        select phones.customer_id, phones.normalized_value, emails.normalized_value
        from {MARTS}.identity_map as phones
        inner join {MARTS}.identity_map as emails
            on phones.customer_id = emails.customer_id
        where phones.identifier_type = 'phone' and emails.identifier_type = 'email'
        order by phones.customer_id
        limit 1
        """
    )[0]
    scenario.conflicted_customer = str(conflicted[0])
    phone, email = str(conflicted[1]), str(conflicted[2])
    withdrawn = warehouse.query(
        f"""
        select audiences.customer_id, emails.normalized_value
        from {MARTS}.activation_audiences as audiences
        inner join {MARTS}.identity_map as emails
            on audiences.customer_id = emails.customer_id and emails.identifier_type = 'email'
        where audiences.segment_name = 'store_loyalists'
            and audiences.destination_name = 'ad_platforms'
            and audiences.customer_id != '{scenario.conflicted_customer}'
        order by audiences.customer_id
        limit 1
        """
    )[0]
    scenario.withdrawn_customer = str(withdrawn[0])
    for statement in (
        _consent_event(
            "t-phone-grant-1",
            "phone",
            phone,
            "sms_marketing",
            "granted",
            "2026-10-31T20:00:00Z",
            gpc=False,
        ),
        _consent_event(
            scenario.email_event,
            "email",
            email,
            "sms_marketing",
            "denied",
            "2026-10-31T21:00:00Z",
            gpc=False,
        ),
        _consent_event(
            scenario.phone_event,
            "phone",
            phone,
            "sms_marketing",
            "granted",
            "2026-10-31T22:00:00Z",
            gpc=False,
        ),
        _consent_event(
            "t-gpc", "email", email, "analytics", "granted", "2026-10-31T23:00:00Z", gpc=True
        ),
        _consent_event(
            "t-withdrawal",
            "email",
            str(withdrawn[1]),
            "ad_personalization",
            "denied",
            "2026-10-31T23:30:00Z",
            gpc=False,
        ),
    ):
        warehouse.execute(statement)


# PostgreSQL's leg is `make extended` (CI's time budget): test_e2e_build and
# test_erasure_postgres_e2e build on PostgreSQL in `make test`.
@pytest.fixture(
    scope="module",
    params=["duckdb", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.extended])],
)
def scenario(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp(f"segments-{request.param}")
    env = target_environment(
        request.param, root, "onefold_seg", lambda: request.getfixturevalue("postgres_server")
    )
    scenario = Scenario(request.param, env, root / "target")
    warehouse = scenario.connect()
    try:
        generate_demo_data(
            warehouse, GeneratorConfig(persons=500, seed=21, end_date=dt.date(2026, 11, 1))
        )
    finally:
        warehouse.close()
    # The data tests run once, on the second run's state (the first run's are the other
    # e2e builds' business).
    scenario.build(FIRST_RUN, "--resource-type", "seed", "--resource-type", "model")
    with webhook_server(SECRET) as receiver:
        scenario.receiver = receiver
        scenario.sync_loyalists()
        scenario.first_sync_keys = set(receiver.records)
        warehouse = scenario.connect()
        try:
            scenario.first_members = _members(warehouse)
            _prepare_consent_changes(scenario, warehouse)
        finally:
            warehouse.close()
        scenario.build(SECOND_RUN)
        scenario.sync_loyalists()
        yield scenario


def _current(warehouse: Warehouse, customer_id: str, purpose: str) -> tuple[object, ...]:
    return warehouse.query(
        f"select is_granted, basis, source_signal_id from {MARTS}.consent_current "
        "where customer_id = ? and purpose = ?",
        [customer_id, purpose],
    )[0]


def test_membership_history_over_two_runs(scenario: Scenario) -> None:
    warehouse = scenario.connect()
    try:
        second_members = _members(warehouse)
        spells = warehouse.query(
            f"select segment_name, customer_id, cast(entered_at as varchar), "
            f"cast(exited_at as varchar) from {MARTS}.segment_membership_history"
        )
        sizes = warehouse.query(
            f"select segment_name, cast(measured_at as varchar), members_count, entered_count, "
            f"exited_count from {MARTS}.segment_sizes"
        )
    finally:
        warehouse.close()
    left = scenario.first_members - second_members
    joined = second_members - scenario.first_members
    assert left and joined, "the two runs should move people in and out of segments"
    open_spells = {(s, c) for s, c, _, exited in spells if exited is None}
    assert open_spells == second_members
    exits = {(s, c) for s, c, entered, exited in spells if exited is not None}
    assert exits == left
    assert all(
        entered.startswith("2026-10-01") and exited.startswith("2026-11-01")
        for _, _, entered, exited in spells
        if exited is not None
    )
    entries = {(s, c) for s, c, entered, _ in spells if entered.startswith("2026-11-01")}
    assert entries == joined
    by_run = {(segment, measured[:10]): (m, e, x) for segment, measured, m, e, x in sizes}
    for segment in {s for s, _ in second_members | scenario.first_members}:
        members_before = sum(1 for s, _ in scenario.first_members if s == segment)
        assert by_run[(segment, "2026-10-01")] == (members_before, members_before, 0)
        assert by_run[(segment, "2026-11-01")] == (
            sum(1 for s, _ in second_members if s == segment),
            sum(1 for s, _ in joined if s == segment),
            sum(1 for s, _ in left if s == segment),
        )


def test_most_recent_decision_wins_across_linked_identities(scenario: Scenario) -> None:
    warehouse = scenario.connect()
    try:
        assert _current(warehouse, scenario.conflicted_customer, "sms_marketing") == (
            True,
            "explicit",
            scenario.phone_event,
        )
        transitions = warehouse.query(
            f"select is_granted, source_signal_id from {MARTS}.consent_history "
            "where customer_id = ? and purpose = 'sms_marketing' and valid_from >= ? "
            "order by valid_from",
            [scenario.conflicted_customer, "2026-10-31 20:00:00"],
        )
    finally:
        warehouse.close()
    assert transitions[-2:] == [(False, scenario.email_event), (True, scenario.phone_event)]


def test_gpc_denies_sale_and_sharing(scenario: Scenario) -> None:
    warehouse = scenario.connect()
    try:
        for purpose in ("data_sale", "ad_personalization"):
            assert _current(warehouse, scenario.conflicted_customer, purpose) == (
                False,
                "gpc",
                f"t-gpc:gpc:{purpose}",
            )
        # The event's own purpose (not one GPC covers) is an ordinary explicit grant.
        assert _current(warehouse, scenario.conflicted_customer, "analytics")[:2] == (
            True,
            "explicit",
        )
    finally:
        warehouse.close()


def test_jurisdiction_defaults_and_email_platform_signals(scenario: Scenario) -> None:
    warehouse = scenario.connect()
    try:
        wrong_defaults = warehouse.query(
            f"""
            select count(*) from {MARTS}.consent_current
            where basis = 'jurisdiction_default'
                and is_granted != (regime = 'opt_out' and purpose != 'sms_marketing')
            """
        )[0][0]
        defaults_by_regime = warehouse.query(
            f"select regime, count(*) from {MARTS}.consent_current "
            "where basis = 'jurisdiction_default' group by regime"
        )
        unsubscribed = warehouse.query(
            f"select count(*), sum(case when is_granted then 1 else 0 end) "
            f"from {MARTS}.consent_current where signal_type in ('unsubscribe', 'bounce')"
        )[0]
        every_purpose = warehouse.query(
            f"select count(distinct customer_id) * 5 = count(*) from {MARTS}.consent_current"
        )[0][0]
    finally:
        warehouse.close()
    assert wrong_defaults == 0
    assert {regime for regime, _ in defaults_by_regime} == {"opt_in", "opt_out"}
    assert unsubscribed[0] > 0 and unsubscribed[1] == 0
    assert every_purpose


def test_consent_gate_on_activation(scenario: Scenario) -> None:
    warehouse = scenario.connect()
    try:
        assert _current(warehouse, scenario.withdrawn_customer, "ad_personalization") == (
            False,
            "explicit",
            "t-withdrawal",
        )
        still_member = warehouse.query(
            f"select count(*) from {MARTS}.segment_memberships "
            "where customer_id = ? and segment_name = 'store_loyalists'",
            [scenario.withdrawn_customer],
        )[0][0]
        withdrawn_rows = warehouse.query(
            f"select count(*) from {MARTS}.activation_audiences "
            "where customer_id = ? and destination_name = 'ad_platforms'",
            [scenario.withdrawn_customer],
        )[0][0]
        ungated = warehouse.query(
            f"""
            select count(*) from {MARTS}.activation_audiences as audiences
            inner join {MARTS}.consent_current as consent
                on audiences.customer_id = consent.customer_id
            where audiences.destination_name = 'ad_platforms'
                and consent.purpose in ('ad_personalization', 'data_sale')
                and not consent.is_granted
            """
        )[0][0]
        hashed = warehouse.query(
            f"select count(*), count(email), count(email_sha256) from {MARTS}.activation_audiences "
            "where destination_name = 'ad_platforms'"
        )[0]
    finally:
        warehouse.close()
    assert still_member == 1 and withdrawn_rows == 0
    assert ungated == 0
    assert hashed[0] > 0 and hashed[1] == 0 and hashed[2] > 0


def test_mirror_sync_removes_a_customer_who_withdrew_consent(scenario: Scenario) -> None:
    assert scenario.receiver is not None
    warehouse = scenario.connect()
    try:
        audience = {
            str(customer): (email, phone)
            for customer, email, phone in warehouse.query(
                f"select customer_id, email_sha256, phone_sha256 from {MARTS}.activation_audiences "
                "where segment_name = 'store_loyalists' and destination_name = 'ad_platforms'"
            )
        }
    finally:
        warehouse.close()
    assert scenario.withdrawn_customer in scenario.first_sync_keys
    assert ("remove", scenario.withdrawn_customer) in scenario.receiver.events
    assert {
        key: (record.get("email_sha256"), record.get("phone_sha256"))
        for key, record in scenario.receiver.records.items()
    } == audience


def test_deny_wins_policy(scenario: Scenario) -> None:
    run_dbt(
        [
            "run",
            "--select",
            "consent_history",
            "consent_current",
            "--vars",
            f"{{onefold__now: '{SECOND_RUN}', onefold__consent_conflict_policy: deny_wins}}",
        ],
        scenario.env,
        scenario.target_path,
    )
    warehouse = scenario.connect()
    try:
        assert _current(warehouse, scenario.conflicted_customer, "sms_marketing") == (
            False,
            "explicit",
            scenario.email_event,
        )
    finally:
        warehouse.close()
    scenario.build(SECOND_RUN, "--select", "consent_history", "consent_current")


@pytest.mark.parametrize(
    ("predicate", "problem"),
    [
        ("lifetime_valu > 100", "unknown column(s) lifetime_valu"),
        ("orders_count >> > 2", "does not compile"),
        # A type error: DuckDB binds it through the plugin's onefold_sql_problem().
        ("lifetime_value > current_date", "does not compile"),
    ],
)
def test_broken_predicate_is_named_before_anything_builds(
    scenario: Scenario, predicate: str, problem: str
) -> None:
    segments = (
        "{onefold__segments: {big_spenders: {description: d, owner: o, "
        f"predicate: '{predicate}'}}}}}}"
    )
    with pytest.raises(DbtFailure) as failure:
        run_dbt(
            ["build", "--select", "segment_definitions", "--vars", segments],
            scenario.env,
            scenario.target_path,
        )
    assert "segment 'big_spenders'" in str(failure.value)
    assert problem in str(failure.value)


def test_segment_on_a_trait_of_a_disabled_source_is_refused_naming_it(
    scenario: Scenario,
) -> None:
    """Email traits are null without the email source: a segment on them would be
    silently empty, so the build stops and says which source and switch."""
    variables = (
        "{onefold__email_enabled: false, onefold__segments: {engaged: {description: d, "
        "owner: o, predicate: 'email_opens_90d_count >= 3'}}}"
    )
    with pytest.raises(DbtFailure) as failure:
        run_dbt(
            ["build", "--select", "segment_definitions", "--vars", variables],
            scenario.env,
            scenario.target_path,
        )
    message = " ".join(str(failure.value).split())
    assert "segment 'engaged': predicate uses email_opens_90d_count" in message
    assert "onefold__email_enabled: false" in message
