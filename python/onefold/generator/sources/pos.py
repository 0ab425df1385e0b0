"""Point-of-sale transactions: loyalty card holders, phone numbers given at the till,
and anonymous cash-desk sales that only the ground truth can attribute.

A loyalty card is registered with the member's phone number (and stored on the member's
CRM contact): each card's first transaction in the export is its sign-up at the till
(card and phone together), and the till asks for the number again now and then (a
receipt by text, a points lookup). A member who forgot the card is usually looked up by
phone so the points still count.
"""

from __future__ import annotations

import numpy as np

from onefold.generator.arrays import (
    IntArray,
    ObjectArray,
    cents_text,
    concat,
    expand,
    int_text,
    null_where,
    run_starts,
    to_object,
    zero_padded,
)
from onefold.generator.catalog import catalog
from onefold.generator.clock import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, Window, utc_offsets
from onefold.generator.phones import render_phone_field
from onefold.generator.reference import COUNTRIES, STORES_PER_COUNTRY
from onefold.generator.sources.common import RowClock, World, currency_of
from onefold.generator.table import RawTable

CARD_PRESENTED_SHARE = 0.88
PHONE_WITH_CARD_SHARE = 0.25  # later transactions with the card that also carry the phone
PHONE_WITHOUT_CARD_SHARE = 0.8  # members without their card, looked up by phone
WALK_IN_PHONE_SHARE = 0.2  # walk-ins who give a number (receipt by text)
HOME_STORE_SHARE = 0.8
OPENING_HOUR, CLOSING_HOUR = 9, 20


def build_pos_transactions(world: World, rng: np.random.Generator) -> RawTable:
    """`pos_transactions`: loyalty members shop often; walk-ins once or twice."""
    people = world.people
    membership = people.membership
    loyal = np.flatnonzero(membership.loyalty).astype(np.int64)
    walk_in = np.flatnonzero(membership.walk_in).astype(np.int64)
    visits = np.concatenate(
        [1 + rng.poisson(3.5, len(loyal)), 1 + (rng.random(len(walk_in)) < 0.3)]
    )
    person = np.concatenate([loyal, walk_in])[expand(visits)[0]]
    n = len(person)
    is_member = membership.loyalty[person]
    store = _stores(rng, people.country, person)
    at = _opening_hours(rng, world.window, people.utc_offset_minutes[person])
    order = np.lexsort((at, person))
    sign_up = np.zeros(n, dtype=bool)
    sign_up[order[run_starts(person[order])]] = True
    sign_up &= is_member
    presented = sign_up | (is_member & (rng.random(n) < CARD_PRESENTED_SHARE))
    phone_share = np.where(
        presented,
        PHONE_WITH_CARD_SHARE,
        np.where(is_member, PHONE_WITHOUT_CARD_SHARE, WALK_IN_PHONE_SHARE),
    )
    phone_given = sign_up | (rng.random(n) < phone_share)
    items = 1 + rng.poisson(1.0, n)
    amount = _amounts(rng, currency_of(people, person), items)
    transaction_id = to_object(concat("POS-", int_text(world.unique_ints(rng, n, 10**11, 10**12))))

    noise = world.field_noise(rng, "pos_transactions", transaction_id)
    clock = RowClock(rng, people, person)
    columns: dict[str, ObjectArray] = {
        "transaction_id": transaction_id,
        "store_id": to_object(concat("store-", zero_padded(store + 1, 3))),
        "loyalty_card_id": null_where(~presented, people.loyalty_card_id[person]),
        "phone": render_phone_field(noise, "phone", people, person, at, 0.1, phone_given),
        "amount": to_object(cents_text(amount)),
        "currency": to_object(currency_of(people, person)),
        "items_count": to_object(int_text(items)),
        "transacted_at": clock.render(at),
    }
    return RawTable("pos_transactions", "transaction_id", "transacted_at", columns, person, at)


def _stores(rng: np.random.Generator, country: IntArray, person: IntArray) -> IntArray:
    """A home store in the person's country (80% of visits), else another store there."""
    counts = np.array([STORES_PER_COUNTRY[c.code] for c in COUNTRIES], dtype=np.int64)
    offsets = np.cumsum(counts) - counts
    c = country[person]
    home = (person * 7919) % counts[c]  # stable per person
    other = np.floor(rng.random(len(person)) * counts[c]).astype(np.int64)
    return offsets[c] + np.where(rng.random(len(person)) < HOME_STORE_SHARE, home, other)


def _opening_hours(rng: np.random.Generator, window: Window, standard_offset: IntArray) -> IntArray:
    """Instants during local opening hours on any day of the window."""
    n = len(standard_offset)
    day = rng.integers(0, window.days, n)
    local = (
        window.start_ms
        + day * MS_PER_DAY
        + OPENING_HOUR * MS_PER_HOUR
        + rng.integers(0, (CLOSING_HOUR - OPENING_HOUR) * MS_PER_HOUR, n)
    )
    offset = utc_offsets(local, standard_offset, np.ones(n, dtype=bool))
    return window.clip(local - offset * MS_PER_MINUTE)


def _amounts(rng: np.random.Generator, currency: np.ndarray, items: IntArray) -> IntArray:
    shop = catalog()
    row, _ = expand(items)
    product = rng.integers(0, len(shop.sku), len(row))
    prices = shop.price_cents[shop.currency_index(currency)[row], product]
    return np.bincount(row, weights=prices, minlength=len(items)).astype(np.int64)
