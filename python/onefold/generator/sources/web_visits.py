"""What people do on the website and in the app, as event facts (not yet text).

Visits start on a landing page and continue with pages and product events; some visits
start with a login. Registrations, newsletter sign-ups and checkouts of real shop orders
are separate event batches.

How devices get tied to a person is what real sites produce: registered users log in
(identify with user_id and account traits) on nearly every device they use; people the
business knows by email otherwise (shop account holders, subscribers, CRM contacts) are
identified by email on nearly every device too (shop login, a tracked link in a
marketing or sales email, a sign-up form); every tracked online checkout identifies the
buyer's device with the order's email. What stays anonymous is a few percent of known
people's devices, and everything done by people no system knows by email.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from onefold.generator import reference as ref
from onefold.generator.arrays import (
    BoolArray,
    IntArray,
    ObjectArray,
    TextArray,
    expand,
    run_starts,
    text,
    weighted_choice,
)
from onefold.generator.catalog import catalog
from onefold.generator.clock import MS_PER_MINUTE, MS_PER_SECOND, daily_instants, uniform_between
from onefold.generator.persons import Population
from onefold.generator.sources.common import World
from onefold.generator.sources.shop import SOURCE_NAMES, Orders
from onefold.generator.sources.web_devices import Devices

PAGE, TRACK, IDENTIFY = 0, 1, 2
VIEWED, ADDED, CHECKOUT, COMPLETED, SIGNED_UP = range(5)
BROWSE_EVENT_WEIGHTS = (62, 26, 12)  # Product Viewed / Added / Checkout Started (abandoned)
LOGGED_IN_SHARE = 0.6  # visits after registration made while logged in (on a login device)
LOGIN_SHARE = 0.4  # logged-in visits that start with a login (an identify call)
NEWSLETTER_SIGNUP_SHARE = 0.3  # unregistered subscribers who gave their email on the site
TRACKED_ORDER_SHARE = 0.85  # online orders whose checkout events reached the warehouse
# Of the devices a person known by email uses: those on which they ever identify (log
# in, or follow a tracked email link, or fill in a form). The rest stay anonymous.
IDENTIFIED_DEVICE_SHARE = 0.98
# On a device borrowed from a housemate or friend (the shared-device noise) people mostly
# just browse: the share of them who ever sign in, sign up, give their email or check out
# there.
BORROWED_DEVICE_IDENTIFY_SHARE = 0.3
# A borrowed device gets a minority of its user's visits: picked as often as their own
# devices, a borrowed one keeps its first visit and this share of the later ones (the
# rest happen on the person's own first device).
BORROWED_VISIT_SHARE = 0.4
# Visits of people on an email list (subscribers, shop customers, CRM contacts) that
# arrive from a tracked link in an email, which identifies the browser by that address.
REIDENTIFY_SHARE = 0.2
INTERNAL = len(ref.REFERRERS)  # referrer index for navigation within the site


@dataclass(frozen=True)
class WebFacts:
    """What consent collection needs: each web person's first device and visit."""

    person: IntArray
    anonymous_id: ObjectArray
    first_seen_ms: IntArray


@dataclass(frozen=True)
class WebEvents:
    """Event facts, one entry per row, before rendering."""

    person: IntArray
    device: IntArray
    at: IntArray
    kind: IntArray  # PAGE / TRACK / IDENTIFY
    event: IntArray  # index into EVENTS, -1 for page/identify
    page: IntArray  # index into the page table
    referrer: IntArray  # index into REFERRERS, or INTERNAL
    product: IntArray  # index into the catalog, -1 if none
    order: IntArray  # index into Orders, -1 if none
    logged_in: BoolArray
    account_traits: BoolArray  # identify from an account (names, phone), not a newsletter form
    uses_second: BoolArray  # the identify carries the person's second address


def _events(n: int, **columns: IntArray | BoolArray | int | bool) -> WebEvents:
    """Build event facts, broadcasting scalars; page/track defaults fill the rest."""
    defaults: dict[str, int | bool] = {
        "event": -1,
        "referrer": INTERNAL,
        "product": -1,
        "order": -1,
        "logged_in": False,
        "account_traits": False,
        "uses_second": False,
    }
    values = {}
    for item in fields(WebEvents):
        value = columns.get(item.name, defaults.get(item.name))
        if value is None:
            raise ValueError(f"missing event column {item.name}")
        values[item.name] = np.broadcast_to(np.asarray(value), (n,)).copy()
    return WebEvents(**values)


def _concat(*parts: WebEvents) -> WebEvents:
    return WebEvents(
        **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(WebEvents)}
    )


def simulate(
    world: World, rng: np.random.Generator, devices: Devices, orders: Orders
) -> tuple[WebEvents, WebFacts]:
    """All web and app events of the window, and each person's first visit."""
    identifies = _identifying_pairs(world, rng, devices)
    browse, facts, first_pair = _browsing(world, rng, devices, identifies)
    events = _concat(
        browse,
        _signups(world, rng, devices, identifies),
        _newsletter_signups(world, rng, devices, facts, first_pair, identifies),
        _checkouts(world, rng, devices, orders, identifies),
    )
    return events, facts


def known_by_list(people: Population) -> BoolArray:
    """People on a list that emails them: shop customers, CRM contacts, subscribers."""
    m = people.membership
    return np.asarray(m.shop_customer | m.crm | m.subscriber)


def known_by_email(people: Population) -> BoolArray:
    """People some system knows by email: account holders and everyone on a list."""
    return np.asarray(people.membership.registered | known_by_list(people))


def _identifying_pairs(world: World, rng: np.random.Generator, devices: Devices) -> BoolArray:
    """Per (user, device) pair: does this person ever identify on this device?"""
    pairs = np.arange(len(devices.user), dtype=np.int64)
    known = known_by_email(world.people)[devices.user]
    share = np.where(
        devices.borrowed(pairs), BORROWED_DEVICE_IDENTIFY_SHARE, IDENTIFIED_DEVICE_SHARE
    )
    return np.asarray(known & (rng.random(len(pairs)) < share))


def _identifying_device(
    rng: np.random.Generator, devices: Devices, person: IntArray, identifies: BoolArray
) -> IntArray:
    """The device each person signs up or checks out on: any of theirs, except that a
    borrowed device they never identify on is swapped for their own first device."""
    pair = devices.pick_pair_for(rng, person)
    swap = devices.borrowed(pair) & ~identifies[pair]
    return np.asarray(np.where(swap, devices.own_pair[person], pair))


def _capture_second(people: Population, person: IntArray) -> BoolArray:
    """Which address a non-account identify carries: the one the inviting system holds
    (email platform for subscribers, else the shop, else the CRM)."""
    m, a = people.membership, people.addresses
    return np.asarray(
        np.where(
            m.subscriber[person],
            a.esp[person],
            np.where(m.shop_customer[person], a.shop[person], a.crm[person]),
        )
    )


def _browsing(
    world: World, rng: np.random.Generator, devices: Devices, identifies: BoolArray
) -> tuple[WebEvents, WebFacts, IntArray]:
    """Visits: a landing page view, then pages and product events; some start with a login.

    On each device where a person identifies, their first eligible visit does so: a login
    for registered users (their first visit there after registering), an email identify
    for other known people. Registered users whose visits on such a device all predate
    their registration come back and log in there once. Later visits from tracked email
    links identify again with the list's address, which is how a second address used by
    the shop, CRM or email platform meets the account's on one browser.
    """
    people, window = world.people, world.window
    web = np.flatnonzero(devices.user_counts > 0).astype(np.int64)
    person = web[expand(1 + rng.poisson(rng.gamma(1.5, 2.0, len(web))))[0]]
    pair = devices.pick_pair_for(rng, person)
    borrowed = devices.borrowed(pair)
    by_pair = np.lexsort((np.arange(len(pair)), pair))
    first_on_pair = np.zeros(len(pair), dtype=bool)
    first_on_pair[by_pair[run_starts(pair[by_pair])]] = True
    at_home = borrowed & ~first_on_pair & (rng.random(len(pair)) >= BORROWED_VISIT_SHARE)
    pair = np.where(at_home, devices.own_pair[person], pair)
    device = devices.device[pair]
    start = daily_instants(rng, window, people.utc_offset_minutes[person])
    registered = people.user_id[person] != ""
    after = registered & (start >= people.registered_ms[person])
    eligible = identifies[pair] & (after | ~registered)
    by_pair = np.lexsort((start, ~eligible, pair))
    first_eligible = np.zeros(len(person), dtype=bool)
    first_eligible[by_pair[run_starts(pair[by_pair]) & eligible[by_pair]]] = True
    logged_in = (after & identifies[pair] & (rng.random(len(person)) < LOGGED_IN_SHARE)) | (
        first_eligible & registered
    )
    login = (logged_in & (rng.random(len(person)) < LOGIN_SHARE)) | (first_eligible & registered)
    # Email identifies: the first visit on the device for people without an account, and
    # for anyone on a list (subscribers, buyers, CRM contacts) a share of later visits
    # that arrive from a tracked email link, logged in to an account or not.
    on_list = known_by_list(people)[person]
    clicked = on_list & identifies[pair] & (rng.random(len(person)) < REIDENTIFY_SHARE)
    capture = (first_eligible & ~registered) | clicked
    landing_referrer = weighted_choice(rng, len(person), [w for _, w in ref.REFERRERS])
    order = np.lexsort((start, person))
    first = order[run_starts(person[order])]
    facts = WebFacts(person[first], devices.anonymous_id[device[first]], start[first])

    visit, position = expand(1 + rng.poisson(2.0, len(person)))
    m = len(visit)
    gaps = np.where(position == 0, 0, 2 * MS_PER_SECOND + rng.exponential(45_000, m)).astype(
        np.int64
    )
    elapsed = np.cumsum(gaps)
    elapsed -= (elapsed - gaps)[np.flatnonzero(position == 0)][visit]
    track = devices.is_app[device[visit]] | ((position > 0) & (rng.random(m) < 0.45))
    event = np.where(track, weighted_choice(rng, m, BROWSE_EVENT_WEIGHTS), -1)
    product = rng.integers(0, len(catalog().sku), m)
    pages = page_table()
    on_product = track | (rng.random(m) < 0.4)
    page = np.where(
        on_product, pages.product_offset + product, rng.integers(0, len(ref.STATIC_PAGES), m)
    )
    page = np.where(event == CHECKOUT, pages.checkout, page)
    content = _events(
        m,
        person=person[visit],
        device=device[visit],
        at=start[visit] + elapsed,
        kind=np.where(track, TRACK, PAGE),
        event=event,
        page=page,
        referrer=np.where(position == 0, landing_referrer[visit], INTERNAL),
        product=np.where(track, product, -1),
        logged_in=logged_in[visit],
    )
    k = int(login.sum())
    identify = _events(
        k,
        person=person[login],
        device=device[login],
        at=start[login] + rng.integers(MS_PER_SECOND, 5 * MS_PER_SECOND, k),
        kind=IDENTIFY,
        page=pages.login,
        logged_in=True,
        account_traits=True,
        uses_second=people.addresses.account[person[login]],
    )
    c = int(capture.sum())
    landing_page = page[np.flatnonzero(position == 0)]
    captured = _events(
        c,
        person=person[capture],
        device=device[capture],
        at=start[capture] + rng.integers(5 * MS_PER_SECOND, 3 * MS_PER_MINUTE, c),
        kind=IDENTIFY,
        page=landing_page[capture],
        logged_in=logged_in[capture],
        uses_second=_capture_second(people, person[capture]),
    )
    late = _late_logins(world, rng, devices, identifies, pair, eligible)
    return _concat(content, identify, captured, late), facts, pair[first]


def _late_logins(
    world: World,
    rng: np.random.Generator,
    devices: Devices,
    identifies: BoolArray,
    visit_pair: IntArray,
    eligible: BoolArray,
) -> WebEvents:
    """A login (login page, identify) on devices a registered user browsed only before
    registering: they come back to it logged out and sign in once."""
    people, window = world.people, world.window
    used = np.zeros(len(identifies), dtype=bool)
    used[visit_pair] = True
    covered = np.zeros(len(identifies), dtype=bool)
    covered[visit_pair[eligible]] = True
    user = devices.user
    late = np.flatnonzero(identifies & used & ~covered & (people.user_id[user] != ""))
    k = len(late)
    person = user[late]
    at = uniform_between(rng, people.registered_ms[person] + 1, np.full(k, window.end_ms - 1))
    step = np.tile(np.arange(2), k)
    row = np.repeat(np.arange(k), 2)
    typing = step * rng.integers(3 * MS_PER_SECOND, 20 * MS_PER_SECOND, 2 * k)
    return _events(
        2 * k,
        person=person[row],
        device=devices.device[late][row],
        at=window.clip(at[row] + typing),
        kind=np.where(step == 0, PAGE, IDENTIFY),
        page=page_table().login,
        logged_in=step == 1,
        account_traits=step == 1,
        uses_second=people.addresses.account[person[row]],
    )


def _signups(
    world: World, rng: np.random.Generator, devices: Devices, identifies: BoolArray
) -> WebEvents:
    """Registration during the window: register page, Signed Up, identify."""
    people, window = world.people, world.window
    person = np.flatnonzero(
        (people.registered_ms >= window.start_ms)
        & (people.registered_ms < window.end_ms)
        & (devices.user_counts > 0)
    ).astype(np.int64)
    k = len(person)
    device = devices.device[_identifying_device(rng, devices, person, identifies)]
    step = np.tile(np.arange(3), k)
    row = np.repeat(np.arange(k), 3)
    return _events(
        3 * k,
        person=person[row],
        device=device[row],
        at=people.registered_ms[person][row] + (step - 1) * 20 * MS_PER_SECOND,
        kind=np.array([PAGE, TRACK, IDENTIFY])[step],
        event=np.where(step == 1, SIGNED_UP, -1),
        page=page_table().register,
        logged_in=step > 0,
        account_traits=step == 2,
        uses_second=people.addresses.account[person[row]],
    )


def _newsletter_signups(
    world: World,
    rng: np.random.Generator,
    devices: Devices,
    facts: WebFacts,
    first_pair: IntArray,
    identifies: BoolArray,
) -> WebEvents:
    """Unregistered subscribers who typed their email into the site's newsletter form."""
    people = world.people
    chosen = (
        people.membership.subscriber[facts.person]
        & (people.user_id[facts.person] == "")
        & (rng.random(len(facts.person)) < NEWSLETTER_SIGNUP_SHARE)
    )
    k = int(chosen.sum())
    pair = first_pair[chosen]
    pair = np.where(
        devices.borrowed(pair) & ~identifies[pair], devices.own_pair[facts.person[chosen]], pair
    )
    return _events(
        k,
        person=facts.person[chosen],
        device=devices.device[pair],
        at=world.window.clip(
            facts.first_seen_ms[chosen] + rng.integers(10 * MS_PER_SECOND, 5 * MS_PER_MINUTE, k)
        ),
        kind=IDENTIFY,
        page=0,
        uses_second=people.addresses.esp[facts.person[chosen]],
    )


def _checkouts(
    world: World,
    rng: np.random.Generator,
    devices: Devices,
    orders: Orders,
    identifies: BoolArray,
) -> WebEvents:
    """Checkout Started, an identify with the order's email (the checkout form), then
    Order Completed, for online orders of people we track."""
    people = world.people
    online = np.isin(orders.source, [SOURCE_NAMES.index(s) for s in ("web", "iphone", "android")])
    tracked = (
        online
        & (devices.user_counts[orders.person] > 0)
        & (rng.random(len(orders.person)) < TRACKED_ORDER_SHARE)
    )
    index = np.flatnonzero(tracked).astype(np.int64)
    k = len(index)
    person = orders.person[index]
    pair = _identifying_device(rng, devices, person, identifies)
    device = devices.device[pair]
    at = orders.created_ms[index]
    logged_in = (
        (at >= people.registered_ms[person])
        & ~orders.guest[index]
        & (people.user_id[person] != "")
        & identifies[pair]
    )
    step = np.tile(np.arange(3), k)
    row = np.repeat(np.arange(k), 3)
    started = rng.integers(MS_PER_MINUTE, 8 * MS_PER_MINUTE, k)[row]
    before = np.select([step == 0, step == 1], [started, started // 3], 0)
    return _events(
        3 * k,
        person=person[row],
        device=device[row],
        at=at[row] - before,
        kind=np.where(step == 1, IDENTIFY, TRACK),
        event=np.select([step == 0, step == 2], [CHECKOUT, COMPLETED], -1),
        page=page_table().checkout,
        order=np.where(step == 1, -1, index[row]),
        logged_in=logged_in[row],
        uses_second=orders.uses_second[index][row],
    )


@dataclass(frozen=True)
class Pages:
    path: TextArray
    title: TextArray
    product_offset: int
    checkout: int
    login: int
    register: int


def page_table() -> Pages:
    """Static pages, then one page per product, then checkout / login / register."""
    shop = catalog()
    special = [
        (ref.CHECKOUT_PATH, "Checkout | Onefold Shop"),
        (ref.LOGIN_PATH, "Log in | Onefold Shop"),
        (ref.REGISTER_PATH, "Create account | Onefold Shop"),
    ]
    paths = [p for p, _ in ref.STATIC_PAGES] + [str(p) for p in shop.path] + [p for p, _ in special]
    titles = (
        [t for _, t in ref.STATIC_PAGES]
        + [f"{name} | Onefold Shop" for name in shop.name]
        + [t for _, t in special]
    )
    offset = len(ref.STATIC_PAGES)
    checkout = offset + len(shop.sku)
    return Pages(text(paths), text(titles), offset, checkout, checkout + 1, checkout + 2)
