"""Consent records from the cookie banner, preference center, checkout and support.

EU and UK visitors answer the banner (under their anonymous_id); some change their mind
later in the preference center, by then logged in or identified by email. Some US
browsers send Global Privacy Control, which denies data sale. Unsubscribes from email
campaigns arrive here as email_marketing denials.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from onefold.generator.arrays import (
    BoolArray,
    IntArray,
    ObjectArray,
    to_object,
    uuid4_objects,
    weighted_choice,
)
from onefold.generator.clock import MS_PER_DAY, MS_PER_MINUTE, MS_PER_SECOND, uniform_between
from onefold.generator.emails import render_email_field
from onefold.generator.lookups import lookups
from onefold.generator.phones import render_phone_field
from onefold.generator.sources.common import RowClock, World, flags_text
from onefold.generator.sources.email_events import Unsubscribes
from onefold.generator.sources.web_visits import WebFacts
from onefold.generator.table import RawTable

IDENTIFIER_TYPES = ("email", "phone", "user_id", "anonymous_id")
EMAIL, PHONE, USER_ID, ANONYMOUS_ID = range(4)
PURPOSES = ("email_marketing", "sms_marketing", "ad_personalization", "analytics", "data_sale")
EMAIL_MARKETING, SMS_MARKETING, AD_PERSONALIZATION, ANALYTICS, DATA_SALE = range(5)
SOURCES = ("cookie_banner", "preference_center", "checkout", "support")
BANNER, PREFERENCE_CENTER, CHECKOUT, SUPPORT = range(4)
GPC_SHARE = 0.04  # of US browsers
US_BANNER_SHARE = 0.5  # US visitors who see a banner at all
CHANGE_OF_MIND_SHARE = 0.2
SMS_SHARE = 0.2
SUPPORT_SHARE = 0.02


@dataclass(frozen=True)
class _Decisions:
    """Consent decisions, one per row, before identifiers are rendered."""

    person: IntArray
    at: IntArray
    identifier: IntArray  # index into IDENTIFIER_TYPES
    anonymous_id: ObjectArray  # only used where identifier is ANONYMOUS_ID
    purpose: IntArray
    granted: BoolArray
    source: IntArray
    gpc: BoolArray


def _decisions(n: int, **columns: object) -> _Decisions:
    defaults: dict[str, object] = {"anonymous_id": "", "gpc": False}
    values = {}
    for item in fields(_Decisions):
        value = columns.get(item.name, defaults.get(item.name))
        array = np.full(n, value, dtype=object) if isinstance(value, str) else np.asarray(value)
        values[item.name] = np.broadcast_to(array, (n,)).copy()
    return _Decisions(**values)


def build_consent_events(
    world: World, rng: np.random.Generator, web: WebFacts, unsubscribes: Unsubscribes
) -> RawTable:
    """`consent_events`: banner answers, later changes, opt-ins and unsubscribes."""
    banner, changes = _banner(world, rng, web)
    parts = [
        banner,
        changes,
        _opt_ins(world, rng),
        _support(world, rng),
        _unsubscribes(unsubscribes),
    ]
    decisions = _Decisions(
        **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(_Decisions)}
    )
    return _render(world, rng, decisions)


def _is_us(world: World, person: IntArray) -> BoolArray:
    return np.asarray(world.people.country[person] == 0)


def _banner(world: World, rng: np.random.Generator, web: WebFacts) -> tuple[_Decisions, _Decisions]:
    """Banner answers on the first visit (analytics and ads), GPC, and later changes."""
    people = world.people
    us = _is_us(world, web.person)
    shown = people.membership.consent[web.person] & (~us | (rng.random(len(us)) < US_BANNER_SHARE))
    person, anonymous_id, at = web.person[shown], web.anonymous_id[shown], web.first_seen_ms[shown]
    us = us[shown]
    k = len(person)
    # 0 accept all, 1 reject all, 2 analytics only
    choice = np.where(
        us, weighted_choice(rng, k, [85, 10, 5]), weighted_choice(rng, k, [55, 30, 15])
    )
    gpc = us & (rng.random(k) < GPC_SHARE)
    rows = np.repeat(np.arange(k), 2)
    purpose = np.tile(np.array([ANALYTICS, AD_PERSONALIZATION]), k)
    granted = np.where(purpose == ANALYTICS, choice[rows] != 1, choice[rows] == 0) & ~(
        gpc[rows] & (purpose == AD_PERSONALIZATION)
    )
    g = np.flatnonzero(gpc)
    all_rows = np.concatenate([rows, g])
    banner = _decisions(
        len(all_rows),
        person=person[all_rows],
        at=at[all_rows] + rng.integers(MS_PER_SECOND, 20 * MS_PER_SECOND, len(all_rows)),
        identifier=ANONYMOUS_ID,
        anonymous_id=anonymous_id[all_rows],
        purpose=np.concatenate([purpose, np.full(len(g), DATA_SALE)]),
        granted=np.concatenate([granted, np.zeros(len(g), dtype=bool)]),
        source=BANNER,
        gpc=gpc[all_rows],
    )
    changed = rng.random(k) < CHANGE_OF_MIND_SHARE
    c = np.flatnonzero(changed)
    registered = people.user_id[person[c]] != ""
    flip = np.where(rng.random(len(c)) < 0.5, ANALYTICS, AD_PERSONALIZATION)
    was_granted = np.where(flip == ANALYTICS, choice[c] != 1, choice[c] == 0)
    later = uniform_between(rng, at[c] + MS_PER_DAY, np.full(len(c), world.window.end_ms - 1))
    changes = _decisions(
        len(c),
        person=person[c],
        at=world.window.clip(later),
        identifier=np.where(registered & (rng.random(len(c)) < 0.3), USER_ID, EMAIL),
        purpose=flip,
        granted=~was_granted,
        source=PREFERENCE_CENTER,
    )
    return banner, changes


def _opt_ins(world: World, rng: np.random.Generator) -> _Decisions:
    """Marketing opt-in (or not) at checkout or signup; SMS opt-ins under the phone."""
    people = world.people
    person = np.flatnonzero(people.membership.consent).astype(np.int64)
    k = len(person)
    at = world.window.clip(
        uniform_between(rng, np.full(k, world.window.start_ms), np.full(k, world.window.end_ms - 1))
    )
    granted = rng.random(k) < np.where(_is_us(world, person), 0.6, 0.45)
    sms = np.flatnonzero(rng.random(k) < SMS_SHARE)
    rows = np.concatenate([np.arange(k), sms])
    return _decisions(
        len(rows),
        person=person[rows],
        at=at[rows] + np.r_[np.zeros(k, np.int64), np.full(len(sms), MS_PER_SECOND)],
        identifier=np.r_[np.full(k, EMAIL), np.full(len(sms), PHONE)],
        purpose=np.r_[np.full(k, EMAIL_MARKETING), np.full(len(sms), SMS_MARKETING)],
        granted=np.r_[granted, rng.random(len(sms)) < 0.5],
        source=CHECKOUT,
    )


def _support(world: World, rng: np.random.Generator) -> _Decisions:
    """Requests to the support team: 'do not sell' in the US, no marketing elsewhere."""
    people = world.people
    consenting = np.flatnonzero(people.membership.consent).astype(np.int64)
    person = consenting[rng.random(len(consenting)) < SUPPORT_SHARE]
    k = len(person)
    at = uniform_between(
        rng, np.full(k, world.window.start_ms), np.full(k, world.window.end_ms - 1)
    )
    return _decisions(
        k,
        person=person,
        at=at,
        identifier=np.where(rng.random(k) < 0.7, EMAIL, PHONE),
        purpose=np.where(_is_us(world, person), DATA_SALE, EMAIL_MARKETING),
        granted=False,
        source=SUPPORT,
    )


def _unsubscribes(unsubscribes: Unsubscribes) -> _Decisions:
    k = len(unsubscribes.person)
    return _decisions(
        k,
        person=unsubscribes.person,
        at=unsubscribes.at + MS_PER_MINUTE,
        identifier=EMAIL,
        purpose=EMAIL_MARKETING,
        granted=False,
        source=PREFERENCE_CENTER,
    )


def _render(world: World, rng: np.random.Generator, d: _Decisions) -> RawTable:
    people = world.people
    n = len(d.person)
    consent_id = uuid4_objects(rng, n)
    noise = world.field_noise(rng, "consent_events", consent_id)
    at = world.window.clip(d.at)
    is_email = d.identifier == EMAIL
    is_phone = d.identifier == PHONE
    uses_second = (people.has_second_email & (rng.random(people.size) < 0.5))[d.person]
    emails = render_email_field(noise, "identifier_value", people, d.person, uses_second, is_email)
    phones = render_phone_field(noise, "identifier_value", people, d.person, at, 0.5, is_phone)
    value = np.where(is_email, emails, phones)
    value = np.where(d.identifier == USER_ID, to_object(people.user_id[d.person]), value)
    value = np.where(d.identifier == ANONYMOUS_ID, d.anonymous_id, value)
    columns: dict[str, ObjectArray] = {
        "consent_event_id": consent_id,
        "identifier_type": np.array(IDENTIFIER_TYPES, dtype=object)[d.identifier],
        "identifier_value": value,
        "purpose": np.array(PURPOSES, dtype=object)[d.purpose],
        "status": np.where(d.granted, "granted", "denied").astype(object),
        "source": np.array(SOURCES, dtype=object)[d.source],
        "jurisdiction": to_object(lookups().region_jurisdiction[people.region[d.person]]),
        "gpc": flags_text(d.gpc),
        "occurred_at": RowClock(rng, people, d.person).render(at),
    }
    return RawTable("consent_events", "consent_event_id", "occurred_at", columns, d.person, at)
