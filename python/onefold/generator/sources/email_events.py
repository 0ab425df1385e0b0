"""Email service provider webhooks (Klaviyo/SendGrid style): sends and engagement.

Subscribers receive a share of the weekly campaigns sent after they subscribed; each
send yields sent + delivered (or bounce), and some opens, clicks, unsubscribes and
spam reports. Nobody is mailed again after unsubscribing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from onefold.generator import reference as ref
from onefold.generator.arrays import (
    LOWER_ALNUM,
    BoolArray,
    IntArray,
    ObjectArray,
    TextArray,
    concat,
    expand,
    pick,
    random_chars,
    run_starts,
    text,
    to_object,
    uuid4_objects,
)
from onefold.generator.catalog import catalog
from onefold.generator.clock import (
    MS_PER_DAY,
    MS_PER_HOUR,
    MS_PER_MINUTE,
    MS_PER_SECOND,
    Window,
)
from onefold.generator.emails import render_email_field
from onefold.generator.sources.common import RowClock, World
from onefold.generator.table import RawTable

EVENT_TYPES = ("sent", "delivered", "open", "click", "bounce", "unsubscribe", "spam_report")
SENT, DELIVERED, OPEN, CLICK, BOUNCE, UNSUBSCRIBE, SPAM = range(7)
CAMPAIGN_INTERVAL_DAYS = 7
BOUNCE_SHARE = 0.03
CLICK_SHARE = 0.2  # of opens
UNSUBSCRIBE_SHARE = 0.015  # of opens
SPAM_SHARE = 0.001  # of deliveries


@dataclass(frozen=True)
class Unsubscribes:
    """Who unsubscribed, when, and with which of their addresses (for consent)."""

    person: IntArray
    at: IntArray
    uses_second: BoolArray


Campaigns = tuple[IntArray, TextArray, IntArray]  # send instant, campaign_id, theme


def draw_campaigns(rng: np.random.Generator, window: Window) -> Campaigns:
    """One campaign every CAMPAIGN_INTERVAL_DAYS, each sent to the whole list."""
    campaigns = max(1, window.days // CAMPAIGN_INTERVAL_DAYS)
    campaign_at = (
        window.start_ms
        + (np.arange(campaigns) * CAMPAIGN_INTERVAL_DAYS + 3) * MS_PER_DAY
        + 15 * MS_PER_HOUR
    )
    campaign_at = np.minimum(campaign_at, window.end_ms - 2 * MS_PER_HOUR)
    campaign_id = concat("cmp_", random_chars(rng, campaigns, 10, LOWER_ALNUM))
    theme = rng.integers(0, len(ref.CAMPAIGN_THEMES), campaigns)
    return np.asarray(campaign_at, dtype=np.int64), campaign_id, theme


def build_email_events(world: World, rng: np.random.Generator) -> tuple[RawTable, Unsubscribes]:
    """`email_events`: one row per webhook event."""
    people, window = world.people, world.window
    subscriber = np.flatnonzero(people.membership.subscriber).astype(np.int64)
    s = len(subscriber)
    drawn = draw_campaigns(rng, window)  # drawn in every shard: the stream stays the same
    campaign_at, campaign_id, theme = world.campaigns or drawn
    campaigns = len(campaign_at)
    subscribed = np.where(
        rng.random(s) < 0.5,
        window.start_ms - 1,
        window.start_ms + rng.integers(0, window.days * MS_PER_DAY, s),
    )
    first_campaign = np.searchsorted(campaign_at, subscribed)
    targeting = rng.beta(2.0, 6.0, s)  # share of campaigns each subscriber is sent
    engagement = rng.beta(2.0, 4.0, s)  # open probability

    sub, position = expand(campaigns - first_campaign)
    sent = rng.random(len(sub)) < targeting[sub]
    sub, campaign = sub[sent], (first_campaign[sub] + position)[sent]
    delivered = rng.random(len(sub)) >= BOUNCE_SHARE
    opened = delivered & (rng.random(len(sub)) < engagement[sub])
    unsubscribed = opened & (rng.random(len(sub)) < UNSUBSCRIBE_SHARE)
    earlier: IntArray = np.cumsum(unsubscribed) - unsubscribed.astype(np.int64)
    group_start = run_starts(sub)
    prior: IntArray = earlier - earlier[np.flatnonzero(group_start)][np.cumsum(group_start) - 1]
    keep: BoolArray = prior == 0  # sends after an unsubscribe never happen
    sub, campaign = sub[keep], campaign[keep]
    delivered, opened, unsubscribed = delivered[keep], opened[keep], unsubscribed[keep]

    m = len(sub)
    sent_at = campaign_at[campaign] + rng.integers(0, 40 * MS_PER_MINUTE, m)
    open_at = sent_at + (rng.exponential(6 * MS_PER_HOUR, m)).astype(np.int64) + MS_PER_MINUTE
    clicked = opened & (rng.random(m) < CLICK_SHARE)
    spam = delivered & (rng.random(m) < SPAM_SHARE)
    kinds = [
        (SENT, np.ones(m, dtype=bool), sent_at),
        (DELIVERED, delivered, sent_at + rng.integers(MS_PER_SECOND, 30 * MS_PER_SECOND, m)),
        (BOUNCE, ~delivered, sent_at + rng.integers(MS_PER_SECOND, 60 * MS_PER_SECOND, m)),
        (OPEN, opened, open_at),
        (CLICK, clicked, open_at + rng.integers(5 * MS_PER_SECOND, 5 * MS_PER_MINUTE, m)),
        (
            UNSUBSCRIBE,
            unsubscribed,
            open_at + rng.integers(20 * MS_PER_SECOND, 3 * MS_PER_MINUTE, m),
        ),
        (SPAM, spam, open_at + MS_PER_HOUR),
    ]
    send = np.concatenate([np.flatnonzero(mask) for _, mask, _ in kinds])
    kind = np.concatenate([np.full(int(mask.sum()), k) for k, mask, _ in kinds])
    at = np.concatenate([times[mask] for _, mask, times in kinds])
    at = np.minimum(at, window.end_ms - 1)

    person = subscriber[sub[send]]
    uses_second = people.addresses.esp
    event_id = uuid4_objects(rng, len(send))
    noise = world.field_noise(rng, "email_events", event_id)
    columns = {
        "event_id": event_id,
        "email_address": render_email_field(
            noise, "email_address", people, person, uses_second[person]
        ),
        "campaign_id": to_object(campaign_id)[campaign[send]],
        "event_type": np.array(EVENT_TYPES, dtype=object)[kind],
        "url": _click_urls(rng, campaign_id[campaign[send]], theme[campaign[send]], kind == CLICK),
        "occurred_at": RowClock(rng, people, person).render(at),
    }
    table = RawTable(
        "email_events", "event_id", "occurred_at", columns, person, at, duplicable=True
    )
    unsub_rows = kind == UNSUBSCRIBE
    facts = Unsubscribes(person[unsub_rows], at[unsub_rows], uses_second[person[unsub_rows]])
    return table, facts


def _click_urls(
    rng: np.random.Generator, campaign_id: TextArray, theme: IntArray, clicked: BoolArray
) -> ObjectArray:
    """Landing pages with the UTM parameters an ESP appends; NULL except on clicks."""
    shop = catalog()
    product = rng.integers(0, len(shop.path), int(clicked.sum()))
    urls = concat(
        ref.SITE_URL,
        pick(shop.path, product),
        "?utm_source=newsletter&utm_medium=email&utm_campaign=",
        pick(text(ref.CAMPAIGN_THEMES), theme[clicked]),
        "&utm_id=",
        campaign_id[clicked],
    )
    out = np.full(len(campaign_id), None, dtype=object)
    out[clicked] = to_object(urls)
    return out
