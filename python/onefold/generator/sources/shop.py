"""Shopify: customer records and orders, both re-exported whenever they change, and
the orders' line items.

Customers and orders appear once per version (later `updated_at`); staging keeps the
latest. About one order in ten is a guest checkout with an email but no customer_id.

Account holders buy as BG/NBD tells it (Fader, Hardie and Lee 2005): each has a
latent daily purchase rate (gamma-distributed) and, after every order, a latent chance
of never ordering again (beta-distributed). Their orders are a Poisson process from the
account's creation (or the window's start) until that happens, so who will buy again
and how much is predictable, and `raw_truth.purchase_behaviour` holds the truth.

What a basket holds is predictable too: every person has a favourite category, and
each item comes from it with probability FAVOURITE_CATEGORY_SHARE (otherwise from the
whole catalogue); products are drawn by a fixed popularity (cheaper is likelier).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from onefold.generator.arrays import (
    BoolArray,
    IntArray,
    ObjectArray,
    TextArray,
    cents_text,
    expand,
    int_text,
    null_where,
    to_object,
    weighted_choice,
)
from onefold.generator.catalog import catalog
from onefold.generator.clock import MS_PER_DAY, MS_PER_HOUR, Window, uniform_between
from onefold.generator.emails import render_email_field
from onefold.generator.lookups import lookups
from onefold.generator.names import render_first_names, render_last_names
from onefold.generator.phones import render_phone_field
from onefold.generator.sources.common import (
    RowClock,
    World,
    currency_of,
    flags_text,
    versioned_rows,
)
from onefold.generator.table import RawTable

SOURCE_NAMES = ("web", "iphone", "android", "pos")
SOURCE_WEIGHTS = (62, 12, 8, 18)
FINANCIAL = ("paid", "partially_refunded", "refunded", "pending", "voided")
FINANCIAL_WEIGHTS = (86.5, 4, 4, 3, 2.5)
PAID, PARTIAL, REFUNDED, PENDING, VOIDED = range(5)
FREE_SHIPPING_CENTS = 7500
SHIPPING_CENTS = 595
# The latent purchase behaviour of account holders: rate ~ Gamma(0.9, mean 1/45 per
# day), dropout after each order ~ Beta(1, 3); about 2.8 orders each in a year.
PURCHASE_RATE_SHAPE = 0.9
PURCHASE_RATE_MEAN_PER_DAY = 1 / 45
DROPOUT_BETA = (1.0, 3.0)
# Items per order beyond the first: Poisson with a mean that is each account holder's
# own (Gamma(2, mean 0.8)), so some customers spend more per order (Gamma-Gamma).
EXTRA_ITEMS_SHAPE = 2.0
GUEST_EXTRA_ITEMS_MEAN = 0.8
MAX_ORDERS_PER_CUSTOMER = 20
FAVOURITE_CATEGORY_SHARE = 0.6


@dataclass(frozen=True)
class Orders:
    """Facts about orders that other sources react to (web checkout events)."""

    person: IntArray
    order_id: TextArray
    created_ms: IntArray
    total_cents: IntArray
    currency: TextArray
    source: IntArray  # index into SOURCE_NAMES
    guest: BoolArray
    uses_second: BoolArray  # the order's email is the person's second address
    behaviour: PurchaseBehaviour


@dataclass(frozen=True)
class PurchaseBehaviour:
    """Each account holder's latent purchasing (one entry per customer)."""

    person: IntArray
    rate_per_day: np.ndarray
    dropout_probability: np.ndarray
    #: mean items per order beyond the first
    extra_items_mean: np.ndarray
    #: when they stopped buying (the order after which they dropped out); -1 while active
    dropped_out_ms: IntArray
    #: the catalogue category most of their items come from
    favourite_category: TextArray


@dataclass(frozen=True)
class Customers:
    person: IntArray  # one per customer, ascending
    customer_id: TextArray
    created_ms: IntArray
    uses_second_email: BoolArray


def build_customers(world: World, rng: np.random.Generator) -> tuple[RawTable, Customers]:
    """`shop_customers`: 1-5 versions per customer (marketing consent may flip)."""
    people, window = world.people, world.window
    person = np.flatnonzero(people.membership.shop_customer).astype(np.int64)
    k = len(person)
    customer_id = int_text(world.unique_ints(rng, k, 7_000_000_000_000, 7_100_000_000_000))
    rows = versioned_rows(rng, window, k, 0.35, 3 * 365, 0.7, 5)
    customer, updated = rows.entity, rows.updated_ms
    uses_second = people.addresses.shop[person]
    has_phone = rng.random(k) < 0.55
    has_address = rng.random(k) < 0.85
    marketing = rng.random(k) < np.where(people.country[person] == 0, 0.6, 0.4)
    changed_mind = (rng.random(k) < 0.15)[customer] & rows.is_last & ~rows.is_first

    p = person[customer]
    keys = to_object(customer_id)[customer]
    noise = world.field_noise(rng, "shop_customers", keys)
    clock = RowClock(rng, people, p)
    address = has_address[customer]
    lk = lookups()
    province = lk.region_province[people.region[p]]
    columns = {
        "customer_id": keys,
        "email": render_email_field(noise, "email", people, p, uses_second[customer]),
        "phone": render_phone_field(noise, "phone", people, p, updated, 0.8, has_phone[customer]),
        "first_name": render_first_names(noise, "first_name", people.first[p]),
        "last_name": render_last_names(noise, "last_name", people.last[p]),
        "address1": to_object(people.address1[p], ~address),
        "city": to_object(lk.city_names[people.city[p]], ~address),
        "province_code": to_object(province, ~address | (province == "")),
        "zip": to_object(people.postcode[p], ~address),
        "country_code": to_object(lk.country_codes[people.country[p]], ~address),
        "accepts_marketing": flags_text(marketing[customer] ^ changed_mind),
        "created_at": clock.render(rows.created_ms[customer]),
        "updated_at": clock.render(updated),
    }
    table = RawTable("shop_customers", "customer_id", "updated_at", columns, p, updated)
    return table, Customers(person, customer_id, rows.created_ms, uses_second)


@dataclass(frozen=True)
class _Draft:
    """Order-level facts, one entry per order, before versions are rendered."""

    behaviour: PurchaseBehaviour

    person: IntArray
    guest: BoolArray
    order_id: TextArray
    created: IntArray
    order_number: TextArray
    currency: TextArray
    items: IntArray
    subtotal: IntArray
    discount: IntArray
    total: IntArray
    refunded: IntArray
    status: IntArray  # final financial status, index into FINANCIAL
    cancelled: BoolArray
    fulfilled: IntArray  # 0 fulfilled, 1 partial, 2 not fulfilled
    source: IntArray
    uses_second: BoolArray
    lines: _BasketLines


def build_orders(
    world: World, rng: np.random.Generator, lines_rng: np.random.Generator, customers: Customers
) -> tuple[RawTable, RawTable, Orders]:
    """`shop_orders`: one row per order version (placed, paid/voided, refunded), and
    `shop_order_lines`: one row per product of an order (drawn from `lines_rng`)."""
    draft = _draft_orders(world, rng, lines_rng, customers)
    window = world.window
    n = len(draft.person)
    has_v1 = draft.status != PENDING
    has_v2 = (draft.status == REFUNDED) | (draft.status == PARTIAL)
    v1_at = draft.created + rng.integers(MS_PER_HOUR, 4 * MS_PER_DAY, n)
    v2_at = v1_at + rng.integers(3 * MS_PER_DAY, 20 * MS_PER_DAY, n)
    has_v1 &= v1_at < window.end_ms  # changes after end_date have not happened yet
    has_v2 &= has_v1 & (v2_at < window.end_ms)
    order, version = expand(1 + has_v1.astype(np.int64) + has_v2.astype(np.int64))
    updated = np.select(
        [version == 0, version == 1], [draft.created[order], v1_at[order]], v2_at[order]
    )
    columns = _order_columns(world, rng, draft, customers, order, version, updated)
    table = RawTable("shop_orders", "order_id", "updated_at", columns, draft.person[order], updated)
    facts = Orders(
        draft.person,
        draft.order_id,
        draft.created,
        draft.total,
        draft.currency,
        draft.source,
        draft.guest,
        draft.uses_second,
        draft.behaviour,
    )
    return table, _order_lines_table(world, lines_rng, draft), facts


def _draft_orders(
    world: World, rng: np.random.Generator, lines_rng: np.random.Generator, customers: Customers
) -> _Draft:
    """Who orders when, what the basket holds and costs and how the order ends up."""
    people, window = world.people, world.window
    favourite = weighted_choice(lines_rng, len(people.person_id), _category_weights())
    behaviour, owner_c, customer_created = _account_purchases(
        rng, window, customers, _categories()[favourite[customers.person]]
    )
    guests = np.flatnonzero(people.membership.guest_buyer).astype(np.int64)
    per_guest = 1 + (rng.random(len(guests)) < 0.25)
    owner_g, _ = expand(per_guest)
    person = np.concatenate([customers.person[owner_c], guests[owner_g]])
    guest = np.r_[np.zeros(len(owner_c), bool), np.ones(len(owner_g), bool)]
    n = len(person)
    guest_created = uniform_between(
        rng, np.full(len(owner_g), window.start_ms), np.full(len(owner_g), window.end_ms - 1)
    )
    created = np.concatenate([customer_created, guest_created])
    currency = currency_of(people, person)
    extra_items = np.concatenate(
        [behaviour.extra_items_mean[owner_c], np.full(len(owner_g), GUEST_EXTRA_ITEMS_MEAN)]
    )
    items = 1 + rng.poisson(extra_items)
    lines = _basket_lines(lines_rng, currency, items, favourite[person])
    subtotal = np.bincount(
        lines.order, weights=lines.price_cents * lines.quantity, minlength=n
    ).astype(np.int64)
    discount = np.where(
        rng.random(n) < 0.25, subtotal * rng.choice(np.array([10, 15, 20]), n) // 100, 0
    )
    shipping = np.where(subtotal - discount >= FREE_SHIPPING_CENTS, 0, SHIPPING_CENTS)
    total = subtotal - discount + shipping
    status = weighted_choice(rng, n, FINANCIAL_WEIGHTS)
    refunded = np.select(
        [status == REFUNDED, status == PARTIAL],
        [total, (total * rng.uniform(0.1, 0.6, n)).astype(np.int64)],
        0,
    )
    uses_second = people.addresses.shop[person]  # the account's, or what checkout autofills
    return _Draft(
        behaviour=behaviour,
        person=person,
        guest=guest,
        order_id=int_text(world.unique_ints(rng, n, 5_000_000_000_000, 6_000_000_000_000)),
        created=created,
        order_number=int_text(1001 + np.argsort(np.argsort(created, kind="stable"), kind="stable")),
        currency=currency,
        items=items,
        subtotal=subtotal,
        discount=discount,
        total=total,
        refunded=refunded,
        status=status,
        cancelled=(status == VOIDED) | ((status == REFUNDED) & (rng.random(n) < 0.25)),
        fulfilled=weighted_choice(rng, n, [92, 5, 3]),
        source=weighted_choice(rng, n, SOURCE_WEIGHTS),
        uses_second=uses_second,
        lines=lines,
    )


def _account_purchases(
    rng: np.random.Generator, window: Window, customers: Customers, favourite: TextArray
) -> tuple[PurchaseBehaviour, IntArray, IntArray]:
    """Each account holder's latent behaviour, and their orders: (customer index, time)
    per order, ordered by customer then time."""
    n = len(customers.person)
    rate = rng.gamma(PURCHASE_RATE_SHAPE, PURCHASE_RATE_MEAN_PER_DAY / PURCHASE_RATE_SHAPE, n)
    dropout = rng.beta(*DROPOUT_BETA, n)
    extra_items = rng.gamma(EXTRA_ITEMS_SHAPE, GUEST_EXTRA_ITEMS_MEAN / EXTRA_ITEMS_SHAPE, n)
    at = (np.maximum(customers.created_ms, window.start_ms) + MS_PER_HOUR).astype(np.float64)
    active = np.ones(n, dtype=bool)
    dropped = np.full(n, -1, dtype=np.int64)
    owners, times = [], []
    for _ in range(MAX_ORDERS_PER_CUSTOMER):
        # Every customer draws every step, so the stream does not depend on who buys.
        at = at + rng.exponential(1.0, n) / rate * MS_PER_DAY
        ordered = active & (at < window.end_ms)
        owners.append(np.flatnonzero(ordered))
        times.append(at[ordered].astype(np.int64))
        leaves = ordered & (rng.random(n) < dropout)
        dropped[leaves] = at[leaves].astype(np.int64)
        active = ordered & ~leaves
    owner = np.concatenate(owners).astype(np.int64)
    time = np.concatenate(times).astype(np.int64)
    order = np.lexsort((time, owner))
    behaviour = PurchaseBehaviour(customers.person, rate, dropout, extra_items, dropped, favourite)
    return behaviour, owner[order], time[order]


@dataclass(frozen=True)
class _BasketLines:
    """One entry per distinct product of an order (ordered by order)."""

    order: IntArray
    product: IntArray  # index into the catalogue
    quantity: IntArray
    price_cents: IntArray  # unit price in the order's currency


def _categories() -> TextArray:
    """The catalogue's categories a person can favour (gift cards are no one's)."""
    return np.unique(catalog().category[catalog().category != "gifts"])


def _category_weights() -> np.ndarray:
    """A category is favoured as often as the catalogue's popularity falls in it."""
    shop = catalog()
    popularity = _product_popularity()
    return np.array([popularity[shop.category == c].sum() for c in _categories()])


def product_shares() -> dict[str, dict[str, float]]:
    """Per favourite category: each product's chance of being any one item of a basket
    (the truth product suggestions are measured against)."""
    shop = catalog()
    popularity = _product_popularity()
    overall = popularity / popularity.sum()
    shares = {}
    for category in _categories():
        inside = shop.category == category
        favoured = np.where(inside, popularity, 0.0) / popularity[inside].sum()
        chance = FAVOURITE_CATEGORY_SHARE * favoured + (1 - FAVOURITE_CATEGORY_SHARE) * overall
        shares[str(category)] = dict(zip(shop.sku.tolist(), chance.tolist(), strict=True))
    return shares


def _product_popularity() -> np.ndarray:
    """How often each product is chosen, all else equal: cheaper is likelier."""
    usd = catalog().price_cents[0].astype(np.float64)
    return np.asarray(1.0 / np.sqrt(usd), dtype=np.float64)


def _basket_lines(
    rng: np.random.Generator, currency: TextArray, items: IntArray, favourite: IntArray
) -> _BasketLines:
    """Each order's `items` products: from the buyer's favourite category with
    probability FAVOURITE_CATEGORY_SHARE, else from the whole catalogue, by
    popularity; a product drawn twice is one line of quantity 2, at real prices."""
    shop = catalog()
    popularity = _product_popularity()
    order, _ = expand(items)
    from_favourite = rng.random(len(order)) < FAVOURITE_CATEGORY_SHARE
    product = weighted_choice(rng, len(order), popularity)
    for index, category in enumerate(_categories()):
        chosen = from_favourite & (favourite[order] == index)
        in_category = np.flatnonzero(shop.category == category)
        product[chosen] = in_category[
            weighted_choice(rng, int(chosen.sum()), popularity[in_category])
        ]
    pairs, quantity = np.unique(
        np.column_stack([order, product]), axis=0, return_counts=True
    )  # sorted by order, then product
    line_order, line_product = pairs[:, 0], pairs[:, 1]
    price = shop.price_cents[shop.currency_index(currency)[line_order], line_product]
    return _BasketLines(line_order, line_product, quantity.astype(np.int64), price)


def _order_lines_table(world: World, rng: np.random.Generator, draft: _Draft) -> RawTable:
    """`shop_order_lines`: exported with the order as placed; lines never change."""
    shop, lines = catalog(), draft.lines
    created = draft.created[lines.order]
    person = draft.person[lines.order]
    line_id = int_text(
        world.unique_ints(rng, len(lines.order), 9_000_000_000_000, 9_900_000_000_000)
    )
    clock = RowClock(rng, world.people, person)
    columns = {
        "line_id": to_object(line_id),
        "order_id": to_object(draft.order_id[lines.order]),
        "sku": to_object(shop.sku[lines.product]),
        "title": to_object(shop.name[lines.product]),
        "quantity": to_object(int_text(lines.quantity)),
        "price": to_object(cents_text(lines.price_cents)),
        "updated_at": clock.render(created),
    }
    return RawTable(
        "shop_order_lines", "line_id", "updated_at", columns, person, created, duplicable=True
    )


def _order_columns(
    world: World,
    rng: np.random.Generator,
    draft: _Draft,
    customers: Customers,
    order: IntArray,
    version: IntArray,
    updated: IntArray,
) -> dict[str, ObjectArray]:
    """Render each order version as the order stood at that `updated_at`.

    Version 0 is the order as placed (pending, or paid when the card was captured at
    once); version 1 is paid, or voided; version 2 is the (partial) refund.
    """
    people = world.people
    p = draft.person[order]
    status = draft.status[order]
    keys = to_object(draft.order_id)[order]
    noise = world.field_noise(rng, "shop_orders", keys)
    clock = RowClock(rng, people, p)
    known = ~draft.guest[order]
    customer_id = np.full(len(order), None, dtype=object)
    customer_id[known] = customers.customer_id[np.searchsorted(customers.person, p[known])]
    starts_pending = (rng.random(len(order)) < 0.3) | (status == PENDING) | (status == VOIDED)
    first = np.where(starts_pending, "pending", "paid")
    second = np.where(status == VOIDED, "voided", "paid")
    third = np.array(FINANCIAL, dtype=object)[status]
    financial = np.select([version == 0, version == 1], [first, second], third).astype(object)
    cancelled = draft.cancelled[order] & (
        ((version == 1) & (status == VOIDED)) | ((version == 2) & (status == REFUNDED))
    )
    fulfil = np.array(["fulfilled", "partial", None], dtype=object)[draft.fulfilled[order]]
    fulfillment = null_where(
        (version == 0) | np.isin(financial, ["pending", "voided"]) | cancelled, fulfil
    )
    return {
        "order_id": keys,
        "customer_id": customer_id,
        "email": render_email_field(noise, "email", people, p, draft.uses_second[order]),
        "order_number": to_object(draft.order_number[order]),
        "currency": to_object(draft.currency[order]),
        "total_price": to_object(cents_text(draft.total[order])),
        "subtotal_price": to_object(cents_text(draft.subtotal[order])),
        "total_discounts": to_object(cents_text(draft.discount[order])),
        "total_refunded": to_object(cents_text(np.where(version == 2, draft.refunded[order], 0))),
        "financial_status": financial,
        "fulfillment_status": fulfillment.astype(object),
        "cancelled_at": clock.render(updated, cancelled),
        "line_items_count": to_object(int_text(draft.items[order])),
        "source_name": np.array(SOURCE_NAMES, dtype=object)[draft.source[order]],
        "created_at": clock.render(draft.created[order]),
        "updated_at": clock.render(updated),
    }
