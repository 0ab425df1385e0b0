"""Website and app tracking (Segment / RudderStack spec): page, track and identify calls.

People browse on 1-3 devices (browsers and app installs, each with its own
anonymous_id), log in on some visits (identify calls tie anonymous_id to user_id and
email), sign up for accounts or the newsletter, and place the orders the shop recorded
(Order Completed carries the Shopify order_id). This module renders those events as
the text columns a Segment warehouse destination lands.
"""

from __future__ import annotations

import numpy as np

from onefold.generator import reference as ref
from onefold.generator.arrays import (
    BoolArray,
    ObjectArray,
    cents_text,
    concat,
    join,
    null_where,
    objects,
    text,
    to_object,
    uuid4_objects,
)
from onefold.generator.catalog import CURRENCIES, catalog
from onefold.generator.clock import MS_PER_SECOND
from onefold.generator.emails import render_email_field
from onefold.generator.json_text import json_object, json_string
from onefold.generator.names import render_first_names, render_last_names
from onefold.generator.noise import FieldNoise
from onefold.generator.persons import Population
from onefold.generator.phones import render_phone_field
from onefold.generator.sources.common import RowClock, World, as_text, currency_of, render_zulu
from onefold.generator.sources.shop import Orders
from onefold.generator.sources.web_devices import Devices
from onefold.generator.sources.web_visits import (
    CHECKOUT,
    COMPLETED,
    IDENTIFY,
    SIGNED_UP,
    TRACK,
    WebEvents,
    WebFacts,
    page_table,
    simulate,
)
from onefold.generator.table import RawTable

TYPES = ("page", "track", "identify")
EVENTS = ("Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Signed Up")


def build_web_events(
    world: World, rng: np.random.Generator, devices: Devices, orders: Orders
) -> tuple[RawTable, WebFacts]:
    """`web_events`: visits, sign-ups and checkouts, rendered Segment-style."""
    events, facts = simulate(world, rng, devices, orders)
    return _render(world, rng, devices, orders, events), facts


def _render(
    world: World, rng: np.random.Generator, devices: Devices, orders: Orders, events: WebEvents
) -> RawTable:
    """Turn event facts into the text columns a Segment warehouse destination lands."""
    people = world.people
    n = len(events.person)
    message_id = uuid4_objects(rng, n)
    noise = world.field_noise(rng, "web_events", message_id)
    app = devices.is_app[events.device]
    clock = RowClock(rng, people, events.person)
    sent = events.at + np.where(
        app, rng.integers(0, 30 * MS_PER_SECOND, n), rng.integers(5, 1500, n)
    )
    received = sent + rng.integers(20, 900, n)
    anonymous = noise.junk_field(
        "anonymous_id",
        devices.anonymous_id[events.device],
        np.ones(n, dtype=bool),
        ref.JUNK_ANONYMOUS_IDS,
    )
    has_user = events.logged_in & (people.user_id[events.person] != "")
    user_id = noise.junk_field(
        "user_id", to_object(people.user_id)[events.person], has_user, ref.JUNK_USER_IDS
    )
    user_id[~has_user] = None
    columns: dict[str, ObjectArray] = {
        "message_id": message_id,
        "anonymous_id": anonymous,
        "user_id": user_id,
        "type": objects(TYPES)[events.kind],
        "event": null_where(events.event < 0, objects(EVENTS)[np.maximum(events.event, 0)]),
        "original_timestamp": clock.render(events.at),
        "sent_at": clock.render(sent),
        "received_at": render_zulu(received),
        "context": _context(devices, events, app),
        "properties": _properties(people, orders, events),
        "traits": _traits(world, rng, noise, events),
    }
    return RawTable(
        "web_events",
        "message_id",
        "original_timestamp",
        columns,
        events.person,
        received,
        json_columns=("context", "properties"),
        duplicable=True,
    )


def _context(devices: Devices, events: WebEvents, app: BoolArray) -> ObjectArray:
    """Context JSON: per-device members plus, for browsers, the page being viewed."""
    pages = page_table()
    referrers = text([r for r, _ in ref.REFERRERS] + [ref.SITE_URL + "/"])
    r = len(referrers)
    fragments = to_object(
        concat(
            ',"page":{"path":',
            json_string(np.repeat(pages.path, r)),
            ',"referrer":',
            json_string(np.tile(referrers, len(pages.path))),
            ',"title":',
            json_string(np.repeat(pages.title, r)),
            ',"url":',
            json_string(np.repeat(concat(ref.SITE_URL, pages.path), r)),
            "}}",
        )
    )  # one closing fragment per (page, referrer)
    page = np.where(app, "}", fragments[events.page * r + events.referrer])
    return join(devices.context_prefix[events.device], page)


def _properties(people: Population, orders: Orders, events: WebEvents) -> ObjectArray:
    """Properties JSON: page details, product details or order totals; NULL for identify."""
    shop = catalog()
    pages = page_table()
    page_props = to_object(
        concat(
            '{"path":',
            json_string(pages.path),
            ',"title":',
            json_string(pages.title),
            ',"url":',
            json_string(concat(ref.SITE_URL, pages.path)),
            "}",
        )
    )
    currency_codes = text(list(CURRENCIES))
    product_props = to_object(
        np.concatenate(
            [
                concat(
                    '{"product_id":"',
                    shop.sku,
                    '","name":',
                    json_string(shop.name),
                    ',"category":"',
                    shop.category,
                    '","price":',
                    cents_text(shop.price_cents[c]),
                    ',"currency":"',
                    currency_codes[c],
                    '","quantity":1}',
                )
                for c in range(len(CURRENCIES))
            ]
        )
    )  # one JSON text per (currency, product)
    currency_index = shop.currency_index(currency_of(people, events.person))
    values = page_props[events.page]
    is_product = (events.kind == TRACK) & (events.product >= 0)
    values[is_product] = product_props[
        currency_index[is_product] * len(shop.sku) + events.product[is_product]
    ]
    values[events.event == SIGNED_UP] = '{"method":"email"}'
    started = np.flatnonzero((events.event == CHECKOUT) & (events.order >= 0))
    order = events.order[started]
    values[started] = to_object(
        concat(
            '{"currency":"',
            orders.currency[order],
            '","revenue":',
            cents_text(orders.total_cents[order]),
            "}",
        )
    )
    done = np.flatnonzero(events.event == COMPLETED)
    order = events.order[done]
    values[done] = to_object(
        concat(
            '{"currency":"',
            orders.currency[order],
            '","order_id":"',
            orders.order_id[order],
            '","revenue":',
            cents_text(orders.total_cents[order]),
            "}",
        )
    )
    values[events.kind == IDENTIFY] = None
    return values


def _traits(
    world: World,
    rng: np.random.Generator,
    noise: FieldNoise,
    events: WebEvents,
) -> ObjectArray:
    """Traits JSON on identify calls: email always; phone and names on account identifies."""
    people = world.people
    rows = np.flatnonzero(events.kind == IDENTIFY)
    k = len(rows)
    p = events.person[rows]
    sub = world.field_noise(rng, "web_events", noise.keys[rows])
    email = render_email_field(sub, "traits.email", people, p, events.uses_second[rows])
    account = events.account_traits[rows]
    has_phone = account & (rng.random(k) < 0.4)
    has_name = account & (rng.random(k) < 0.7)
    phone = render_phone_field(sub, "traits.phone", people, p, events.at[rows], 0.25, has_phone)
    first = render_first_names(sub, "traits.first_name", people.first[p], has_name)
    last = render_last_names(sub, "traits.last_name", people.last[p], has_name)
    traits = json_object(
        [
            ("email", json_string(as_text(email)), None),
            ("first_name", json_string(as_text(first)), has_name),
            ("last_name", json_string(as_text(last)), has_name),
            ("phone", json_string(as_text(phone)), has_phone),
        ],
        k,
    )
    out = np.full(len(events.person), None, dtype=object)
    out[rows] = to_object(traits)
    return out
