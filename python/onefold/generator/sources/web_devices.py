"""Browsers and app installs: each has an anonymous_id; some are shared by two people.

A shared family tablet or laptop is how real identity graphs over-merge: both people
identify on the same anonymous_id (the borrower does so on a share of borrowed devices,
see `web_visits`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from onefold.generator import reference as ref
from onefold.generator.arrays import (
    TEXT,
    BoolArray,
    IntArray,
    ObjectArray,
    choose_in_groups,
    concat,
    expand,
    int_text,
    pick,
    text,
    to_object,
    uuid4_objects,
    weighted_choice,
    where,
)
from onefold.generator.json_text import json_string
from onefold.generator.sources.common import World

DEVICE_COUNT_WEIGHTS = (55, 33, 12)  # 1, 2 or 3 devices
APP_SHARE = 0.30


@dataclass(frozen=True)
class Devices:
    """Physical devices (browsers, app installs) and who uses each one."""

    owner: IntArray
    anonymous_id: ObjectArray
    is_app: BoolArray
    context_prefix: ObjectArray  # '{' and the members for device, ip, library, userAgent
    user: IntArray  # (user, device) pairs sorted by user; shared devices add pairs
    device: IntArray
    user_offsets: IntArray  # per person: their slice of the pairs
    user_counts: IntArray
    own_pair: IntArray  # per person: the pair of their first own device (-1 if none)

    def pick_for(self, rng: np.random.Generator, person: IntArray) -> IntArray:
        """A device each person uses, uniformly among theirs."""
        return self.device[self.pick_pair_for(rng, person)]

    def pick_pair_for(self, rng: np.random.Generator, person: IntArray) -> IntArray:
        """A (user, device) pair of each person, uniformly among theirs (index into `user`)."""
        return choose_in_groups(rng, person, self.user_offsets, self.user_counts)

    def borrowed(self, pair: IntArray) -> BoolArray:
        """Whether each pair is a person using someone else's device."""
        return np.asarray(self.owner[self.device[pair]] != self.user[pair])


def build_devices(world: World, rng: np.random.Generator) -> Devices:
    """Each web person's browsers and app installs, plus shared family devices."""
    people = world.people
    web = np.flatnonzero(people.membership.web).astype(np.int64)
    owner = web[expand(weighted_choice(rng, len(web), DEVICE_COUNT_WEIGHTS) + 1)[0]]
    n = len(owner)
    is_app = rng.random(n) < APP_SHARE
    user, device = _device_users(world, rng, owner)
    order = np.lexsort((device, user))
    user, device = user[order], device[order]
    counts = np.bincount(user, minlength=people.size).astype(np.int64)
    own = np.flatnonzero(owner[device] == user)
    own_pair = np.full(people.size, -1, dtype=np.int64)
    own_pair[user[own][::-1]] = own[::-1]
    return Devices(
        owner=owner,
        anonymous_id=uuid4_objects(rng, n),
        is_app=is_app,
        context_prefix=_context_prefixes(rng, is_app),
        user=user,
        device=device,
        user_offsets=np.cumsum(counts) - counts,
        user_counts=counts,
        own_pair=own_pair,
    )


def _context_prefixes(rng: np.random.Generator, is_app: BoolArray) -> ObjectArray:
    """The device-specific members of `context`: ip, library, userAgent (and device.id)."""
    n = len(is_app)
    first_octet = np.array(ref.PUBLIC_IP_FIRST_OCTETS)[
        rng.integers(0, len(ref.PUBLIC_IP_FIRST_OCTETS), n)
    ]
    ip = concat(
        int_text(first_octet),
        ".",
        int_text(rng.integers(0, 256, n)),
        ".",
        int_text(rng.integers(0, 256, n)),
        ".",
        int_text(rng.integers(1, 255, n)),
    )
    browser = weighted_choice(rng, n, [w for _, w in ref.BROWSER_USER_AGENTS])
    app = weighted_choice(rng, n, [w for _, _, w in ref.APP_PLATFORMS])
    agents = text([ua for ua, _ in ref.BROWSER_USER_AGENTS])
    app_agents = text([ua for _, ua, _ in ref.APP_PLATFORMS])
    libraries = pick(text([lib for lib, _, _ in ref.APP_PLATFORMS]), app)
    device_id = np.asarray(uuid4_objects(rng, n).astype(TEXT), dtype=TEXT)
    device_id = where(libraries == "analytics-ios", np.strings.upper(device_id), device_id)
    browser_prefix = concat(
        '{"ip":"',
        ip,
        '","library":{"name":"analytics.js","version":"4.15.3"}',
        ',"userAgent":',
        json_string(pick(agents, browser)),
    )
    app_prefix = concat(
        '{"device":{"id":"',
        device_id,
        '"},"ip":"',
        ip,
        '","library":{"name":"',
        libraries,
        '","version":"4.1.9"},"userAgent":',
        json_string(pick(app_agents, app)),
    )
    return to_object(where(is_app, app_prefix, browser_prefix))


def _device_users(
    world: World, rng: np.random.Generator, owner: IntArray
) -> tuple[IntArray, IntArray]:
    """Owner pairs plus, for the shared-device share, a housemate or friend on one device."""
    people = world.people
    first_device = np.full(people.size, -1, dtype=np.int64)
    first_device[owner[::-1]] = np.arange(len(owner) - 1, -1, -1)  # first device per owner
    web = np.flatnonzero(first_device >= 0)
    if len(web) < 2:
        return owner, np.arange(len(owner), dtype=np.int64)
    sharer = web[rng.random(len(web)) < world.config.noise.shared_device]
    # Housemates first: the household head, or for a head another member.
    partner = people.household[sharer]
    partner = np.where(partner == sharer, _other_member(people.household)[sharer], partner)
    random_partner = web[rng.integers(0, len(web), len(sharer))]
    unusable = (partner < 0) | (partner == sharer)
    unusable |= first_device[np.maximum(partner, 0)] < 0
    partner = np.where(unusable, random_partner, partner)
    keep = partner != sharer
    sharer, partner = sharer[keep], partner[keep]
    world.log.add("persons", people.person_id[sharer], "anonymous_id", "shared_device")
    user = np.concatenate([owner, sharer])
    device = np.concatenate([np.arange(len(owner), dtype=np.int64), first_device[partner]])
    return user, device


def _other_member(household: IntArray) -> IntArray:
    """For each household head, another member of the household (-1 if alone)."""
    result = np.full(len(household), -1, dtype=np.int64)
    members = np.flatnonzero(household != np.arange(len(household)))
    result[household[members[::-1]]] = members[::-1]
    return result
