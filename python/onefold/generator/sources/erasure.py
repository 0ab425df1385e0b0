"""Right-to-be-forgotten requests (GDPR in the EU and UK, CCPA in the US).

Requests name the person by the identifier they contacted us with: mostly an email
address, sometimes a phone number, rarely an account or customer id.
"""

from __future__ import annotations

import numpy as np

from onefold.generator.arrays import (
    ObjectArray,
    concat,
    int_text,
    to_object,
    weighted_choice,
)
from onefold.generator.clock import MS_PER_DAY, uniform_between
from onefold.generator.emails import render_email_field
from onefold.generator.phones import render_phone_field
from onefold.generator.sources.common import RowClock, World
from onefold.generator.sources.shop import Customers
from onefold.generator.table import RawTable

IDENTIFIER_TYPES = ("email", "phone", "user_id", "customer_id")
TYPE_WEIGHTS = (70, 20, 5, 5)


def build_erasure_requests(
    world: World, rng: np.random.Generator, customers: Customers
) -> RawTable:
    """`erasure_requests`: one request per person who asks, in the later part of the window."""
    people, window = world.people, world.window
    person = np.flatnonzero(people.membership.erasure).astype(np.int64)
    k = len(person)
    kind = weighted_choice(rng, k, TYPE_WEIGHTS)
    customer_index = np.searchsorted(customers.person, person)
    is_customer = people.membership.shop_customer[person]
    kind = np.where((kind == 2) & (people.user_id[person] == ""), 0, kind)
    kind = np.where((kind == 3) & ~is_customer, 0, kind)
    start = window.start_ms + window.days * MS_PER_DAY // 10
    at = uniform_between(rng, np.full(k, start), np.full(k, window.end_ms - 1))
    request_id = to_object(concat("ER-", int_text(world.unique_ints(rng, k, 10**9, 10**10))))
    noise = world.field_noise(rng, "erasure_requests", request_id)
    email = render_email_field(
        noise,
        "identifier_value",
        people,
        person,
        rng.random(k) < 0.5,
        kind == 0,
        allow_junk=False,
        allow_bad=False,
    )
    phone = render_phone_field(
        noise,
        "identifier_value",
        people,
        person,
        at,
        0.4,
        kind == 1,
        allow_junk=False,
        allow_impossible=False,
    )
    customer_id = np.full(k, None, dtype=object)
    known = kind == 3
    customer_id[known] = to_object(customers.customer_id[customer_index[known]])
    value: ObjectArray = np.select(
        [kind == 0, kind == 1, kind == 2],
        [email, phone, to_object(people.user_id[person])],
        customer_id,
    )
    columns = {
        "request_id": request_id,
        "identifier_type": np.array(IDENTIFIER_TYPES, dtype=object)[kind],
        "identifier_value": value.astype(object),
        "regulation": np.where(people.country[person] == 0, "CCPA", "GDPR").astype(object),
        "received_at": RowClock(rng, people, person).render(at),
    }
    return RawTable("erasure_requests", "request_id", "received_at", columns, person, at)
