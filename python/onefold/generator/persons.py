"""The simulated people: who they are, where they live, how to reach them.

Every source draws its records from this population, so the ground truth of "which
records belong to one person" exists by construction.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from onefold.generator import reference as ref
from onefold.generator.arrays import (
    LOWER_ALNUM,
    BoolArray,
    IntArray,
    ObjectArray,
    TextArray,
    choose_in_groups,
    concat,
    filled,
    int_text,
    pick,
    random_chars,
    run_starts,
    sharded_unique_ints,
    to_object,
    weighted_choice,
    where,
    zero_padded,
)
from onefold.generator.clock import MS_PER_DAY, Window, uniform_between
from onefold.generator.config import GeneratorConfig, Participation
from onefold.generator.emails import company_domains, free_domains, local_parts, make_unique
from onefold.generator.lookups import lookups
from onefold.generator.phones import national_numbers
from onefold.generator.shards import Shard, Taken

COMPANY_SHARE = 0.08  # primary addresses at a workplace domain
WORK_SECOND_EMAIL_SHARE = 0.5  # of second addresses
# Which address each system holds, for people with two: each system the person signed up
# to independently holds the second one half of the time...
SYSTEM_SECOND_SHARE = 0.5
# ...except that the CRM of a shop buyer is mostly fed by the shop integration (same
# address), and the email platform's list is fed by the checkout opt-in, the account
# sign-up or the CRM, so it holds an address one of those systems has, except for a few
# old subscriptions made with an address used nowhere else.
CRM_SYNCED_FROM_SHOP_SHARE = 0.8
ESP_UNRELATED_ADDRESS_SHARE = 0.03


@dataclass(frozen=True)
class Membership:
    """Which sources each person appears in (drawn once, used by every source)."""

    web: BoolArray
    registered: BoolArray
    shop_customer: BoolArray
    guest_buyer: BoolArray
    crm: BoolArray
    loyalty: BoolArray
    walk_in: BoolArray
    subscriber: BoolArray
    consent: BoolArray
    erasure: BoolArray


def draw_membership(rng: np.random.Generator, n: int, shares: Participation) -> Membership:
    """Independent draws per source, except where one presupposes another.

    Signing up for the loyalty card at the till creates a CRM contact (the member's name,
    email and phone), so every loyalty member is also in the CRM.
    """
    web = rng.random(n) < shares.web
    shop = rng.random(n) < shares.shop_customer
    loyalty = rng.random(n) < shares.pos_loyalty
    return Membership(
        web=web,
        registered=web & (rng.random(n) < shares.registered),
        shop_customer=shop,
        guest_buyer=~shop & (rng.random(n) < shares.guest_buyer),
        crm=(rng.random(n) < shares.crm) | loyalty,
        loyalty=loyalty,
        walk_in=~loyalty & (rng.random(n) < shares.pos_walk_in),
        subscriber=rng.random(n) < shares.email_subscriber,
        consent=rng.random(n) < shares.consent,
        erasure=rng.random(n) < shares.erasure,
    )


@dataclass(frozen=True)
class AddressChoices:
    """Per person: does each system hold the second address (False without one)?"""

    account: BoolArray  # the website/app account (identify traits on login)
    shop: BoolArray  # Shopify customer and guest checkouts
    crm: BoolArray
    esp: BoolArray  # the email platform's subscriber list


def draw_address_choices(
    rng: np.random.Generator, has_second: BoolArray, membership: Membership
) -> AddressChoices:
    """Which of a person's two addresses each system holds.

    The email platform copies the address from a system the person is in (checkout
    opt-in, account sign-up, CRM form), so its address is nearly always also seen in
    another source; and a second address used by the shop usually reaches the CRM too.
    """
    n = len(has_second)
    account = has_second & (rng.random(n) < SYSTEM_SECOND_SHARE)
    shop = has_second & (rng.random(n) < SYSTEM_SECOND_SHARE)
    buyer = membership.shop_customer | membership.guest_buyer
    synced = buyer & (rng.random(n) < CRM_SYNCED_FROM_SHOP_SHARE)
    crm = np.where(synced, shop, has_second & (rng.random(n) < SYSTEM_SECOND_SHARE))
    feeds = np.stack([buyer, membership.crm, membership.registered])
    held = np.stack([shop, crm, account])
    count = feeds.sum(axis=0)
    nth = np.floor(rng.random(n) * count).astype(np.int64)  # which feeding system
    rank = np.cumsum(feeds, axis=0) - 1
    chosen = (feeds & (rank == nth) & held).any(axis=0)
    own = (count == 0) | (rng.random(n) < ESP_UNRELATED_ADDRESS_SHARE)
    esp = np.where(own, has_second & (rng.random(n) < SYSTEM_SECOND_SHARE), chosen)
    return AddressChoices(account=account, shop=shop, crm=crm, esp=esp)


@dataclass(frozen=True)
class Population:
    """One entry per person in every array (index = person number - 1)."""

    person_id: TextArray
    region: IntArray
    country: IntArray
    first: IntArray  # index into lookups().first_names.values
    last: IntArray  # index into lookups().last_names.values
    birth_day: IntArray  # days since 1970-01-01
    email_local: TextArray
    email_domain: TextArray
    has_second_email: BoolArray
    second_local: TextArray  # '' where none
    second_domain: TextArray
    email_address: ObjectArray  # clean primary address, as Python strings for fast gathers
    second_address: ObjectArray  # '' where none
    email_is_gmail: BoolArray
    second_is_gmail: BoolArray
    phone: TextArray  # current national number
    has_old_phone: BoolArray
    old_phone: TextArray  # national number used before `phone_changed_ms`
    phone_changed_ms: IntArray
    city: IntArray  # index into lookups().city_names
    postcode: TextArray
    address1: TextArray
    household: IntArray  # index of the household's first person
    user_id: TextArray  # '' unless registered on the website/app
    registered_ms: IntArray  # window end for people who never register
    loyalty_card_id: ObjectArray  # '' unless a loyalty member
    membership: Membership
    addresses: AddressChoices
    first_person: int = 0  # global index of the first person (the shard's offset)
    id_width: int = 7  # digits in person and household ids (of the whole run)

    @property
    def size(self) -> int:
        return len(self.person_id)

    @property
    def utc_offset_minutes(self) -> IntArray:
        """Standard-time offset of where each person lives."""
        return lookups().region_offset_minutes[self.region]

    def phone_at(self, person: IntArray, instants: IntArray) -> TextArray:
        """The number a person had at each instant (5% changed number mid-window)."""
        before = self.has_old_phone[person] & (instants < self.phone_changed_ms[person])
        return where(before, self.old_phone[person], self.phone[person])

    def email_parts(self, person: IntArray, use_second: BoolArray) -> tuple[TextArray, TextArray]:
        """(local, domain) of the address a person gave; `use_second` picks the other one."""
        second = use_second & self.has_second_email[person]
        local = where(second, self.second_local[person], self.email_local[person])
        domain = where(second, self.second_domain[person], self.email_domain[person])
        return local, domain


def build_population(
    rng: np.random.Generator,
    config: GeneratorConfig,
    window: Window,
    shard: Shard | None = None,
    taken: Taken | None = None,
) -> Population:
    """Draw every person's stable attributes (names, address, contact points).

    `shard`: which people (all of them if None); `taken`: mailboxes and numbers earlier
    shards hold, which these people never get.
    """
    shard = shard or Shard(0, 1, 0, config.persons)
    taken = taken or Taken()
    n = shard.size
    rates = config.noise
    lk = lookups()
    # Households first: members live with (and mostly share a surname with) the head.
    household = np.arange(n, dtype=np.int64)
    members, heads = _households(rng, n, rates.household)
    household[members] = heads
    region = weighted_choice(rng, n, lk.region_weight)
    region[members] = region[heads]
    country = lk.region_country[region]
    first, last = _names(rng, country, members, heads)
    birth_day = _birth_days(rng, n, window)
    birth_year = birth_day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    city, postcode, address1 = _addresses(rng, region)
    city[members] = city[heads]
    postcode[members] = postcode[heads]
    address1[members] = address1[heads]
    local, domain, has_second, second_local, second_domain = _emails(
        rng, first, last, birth_year, country, rates.second_email, taken.mailboxes
    )
    phone, has_old_phone, old_phone, changed = _phones(
        rng, region, rates.changed_phone, window, taken.phones
    )
    membership = draw_membership(rng, n, config.participation)
    user_id, registered_ms = _registrations(rng, membership.registered, window)
    addresses = draw_address_choices(rng, has_second, membership)
    loyalty_card_id = _loyalty_cards(rng, membership.loyalty, shard)
    width = max(7, len(str(config.persons)))
    number = shard.first_person + np.arange(1, n + 1)
    return Population(
        person_id=concat("P", zero_padded(number, width)),
        region=region,
        country=country,
        first=first,
        last=last,
        birth_day=birth_day,
        email_local=local,
        email_domain=domain,
        has_second_email=has_second,
        second_local=second_local,
        second_domain=second_domain,
        email_address=to_object(concat(local, "@", domain)),
        second_address=to_object(where(has_second, concat(second_local, "@", second_domain), "")),
        email_is_gmail=domain == "gmail.com",
        second_is_gmail=has_second & (second_domain == "gmail.com"),
        phone=phone,
        has_old_phone=has_old_phone,
        old_phone=old_phone,
        phone_changed_ms=changed,
        city=city,
        postcode=postcode,
        address1=address1,
        household=household,
        user_id=user_id,
        registered_ms=registered_ms,
        loyalty_card_id=loyalty_card_id,
        membership=membership,
        addresses=addresses,
        first_person=shard.first_person,
        id_width=width,
    )


def _names(
    rng: np.random.Generator, country: IntArray, members: IntArray, heads: IntArray
) -> tuple[IntArray, IntArray]:
    """First and last names from the lists of the person's country; 70% of household
    members take the head's surname."""
    lk = lookups()
    group = lk.country_name_group[country]
    gender = rng.integers(0, 2, len(country))
    first = choose_in_groups(rng, group * 2 + gender, lk.first_names.offsets, lk.first_names.counts)
    last = choose_in_groups(rng, group, lk.last_names.offsets, lk.last_names.counts)
    same_name = rng.random(len(members)) < 0.7
    last[members[same_name]] = last[heads[same_name]]
    return first, last


def _birth_days(rng: np.random.Generator, n: int, window: Window) -> IntArray:
    """Adults aged 18 to 88 at the end of the window, mostly 25 to 55."""
    age_days = (np.clip(rng.normal(41, 14, n), 18, 88) * 365.25).astype(np.int64)
    end_day = window.end_ms // MS_PER_DAY
    return np.asarray(end_day - age_days - rng.integers(0, 365, n), dtype=np.int64)


def _phones(
    rng: np.random.Generator,
    region: IntArray,
    changed_rate: float,
    window: Window,
    taken: set[str],
) -> tuple[TextArray, BoolArray, TextArray, IntArray]:
    """Current number, whether it changed, the old number and when it changed.

    Old and new numbers are drawn together so that no two people ever share one.
    """
    n = len(region)
    has_old = rng.random(n) < changed_rate
    numbers = national_numbers(rng, np.concatenate([region, region[has_old]]), taken)
    old = filled(n, "")
    old[has_old] = numbers[n:]
    changed = uniform_between(
        rng,
        np.full(n, window.start_ms + 30 * MS_PER_DAY),
        np.full(n, window.end_ms - 30 * MS_PER_DAY),
    )
    return numbers[:n], has_old, old, changed


def _addresses(rng: np.random.Generator, region: IntArray) -> tuple[IntArray, TextArray, TextArray]:
    """City, postcode and street line, formatted the way each country writes them."""
    lk = lookups()
    n = len(region)
    city = np.zeros(n, dtype=np.int64)
    for index in range(len(lk.region_country)):
        rows = region == index
        start, count = lk.cities.offsets[index], lk.cities.counts[index]
        weights = lk.city_weight[start : start + count]
        city[rows] = start + weighted_choice(rng, int(rows.sum()), weights)
    country = lk.region_country[region]
    stem = pick(
        lk.postcode_stems.values,
        choose_in_groups(rng, city, lk.postcode_stems.offsets, lk.postcode_stems.counts),
    )
    postcode = stem.copy()
    for index, tail_kind in enumerate(lk.postcode_tail):
        rows = country == index
        postcode[rows] = concat(stem[rows], _postcode_tail(rng, tail_kind, int(rows.sum())))

    street = pick(
        lk.streets.values, choose_in_groups(rng, country, lk.streets.offsets, lk.streets.counts)
    )
    number = int_text(np.where(country == 0, rng.integers(100, 9999, n), rng.integers(1, 180, n)))
    after = lk.number_after_street[country]
    address1 = where(after, concat(street, " ", number), concat(number, " ", street))
    flat = (rng.random(n) < 0.12) & (country <= 1)
    unit = int_text(rng.integers(1, 40, n))
    address1 = where(flat & (country == 0), concat(address1, " Apt ", unit), address1)
    address1 = where(flat & (country == 1), concat("Flat ", unit, ", ", address1), address1)
    return city, postcode, address1


def _postcode_tail(rng: np.random.Generator, kind: str, n: int) -> TextArray:
    if kind == "digits2":
        return zero_padded(rng.integers(1, 100, n), 2)
    if kind == "digits3":
        return zero_padded(rng.integers(0, 1000, n), 3)
    if kind == "nl_letters":
        return concat(" ", _letters(rng, n, ref.NL_LETTERS), _letters(rng, n, ref.NL_LETTERS))
    if kind == "uk_inward":
        return concat(
            " ",
            int_text(rng.integers(0, 10, n)),
            _letters(rng, n, ref.UK_INWARD_LETTERS),
            _letters(rng, n, ref.UK_INWARD_LETTERS),
        )
    return filled(n, "")


def _letters(rng: np.random.Generator, n: int, alphabet: str) -> TextArray:
    return random_chars(rng, n, 1, alphabet.encode())


def _households(rng: np.random.Generator, n: int, rate: float) -> tuple[IntArray, IntArray]:
    """Members (non-first people of shared households) and each member's household head.

    The chosen people are shuffled and cut into households of 2-4; a lone leftover
    joins the previous household.
    """
    chosen = rng.permutation(np.flatnonzero(rng.random(n) < rate)).astype(np.int64)
    if len(chosen) < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    sizes = rng.choice(np.array([2, 3, 4]), size=len(chosen) // 2 + 1, p=[0.6, 0.3, 0.1])
    ends = np.cumsum(sizes)
    group = np.searchsorted(ends, np.arange(len(chosen)), side="right")
    counts = np.bincount(group)
    if counts[group[-1]] == 1:
        group[-1] -= 1
    first_of_group = run_starts(group)
    head_of_group = chosen[first_of_group]
    heads = head_of_group[np.cumsum(first_of_group) - 1]
    members = ~first_of_group
    return chosen[members], heads[members]


def _emails(
    rng: np.random.Generator,
    first: IntArray,
    last: IntArray,
    birth_year: IntArray,
    country: IntArray,
    second_rate: float,
    taken: set[str],
) -> tuple[TextArray, TextArray, BoolArray, TextArray, TextArray]:
    """Primary and (for some) second addresses, all distinct mailboxes."""
    n = len(first)
    local = local_parts(rng, first, last, birth_year)
    domain = where(
        rng.random(n) < COMPANY_SHARE, company_domains(rng, n), free_domains(rng, country)
    )
    has_second = rng.random(n) < second_rate
    k = int(has_second.sum())
    second_local = local_parts(rng, first[has_second], last[has_second], birth_year[has_second])
    second_domain = where(
        rng.random(k) < WORK_SECOND_EMAIL_SHARE,
        company_domains(rng, k),
        free_domains(rng, country[has_second]),
    )
    locals_all = make_unique(
        rng, np.concatenate([local, second_local]), np.concatenate([domain, second_domain]), taken
    )
    local = locals_all[:n]
    out_second_local = filled(n, "")
    out_second_domain = filled(n, "")
    out_second_local[has_second] = locals_all[n:]
    out_second_domain[has_second] = second_domain
    return local, domain, has_second, out_second_local, out_second_domain


def _registrations(
    rng: np.random.Generator, registered: BoolArray, window: Window
) -> tuple[TextArray, IntArray]:
    """user_id and registration instant of registered web/app users.

    40% registered before the window opened; the rest sign up during it. People who
    never register get '' and the window end.
    """
    n = len(registered)
    user_id = filled(n, "")
    user_id[registered] = concat("usr_", random_chars(rng, int(registered.sum()), 12, LOWER_ALNUM))
    before = rng.random(n) < 0.4
    during = uniform_between(rng, np.full(n, window.start_ms), np.full(n, window.end_ms - 1))
    registered_ms = np.where(before, window.start_ms - 1, during)
    return user_id, np.where(registered, registered_ms, window.end_ms).astype(np.int64)


def _loyalty_cards(rng: np.random.Generator, loyalty: BoolArray, shard: Shard) -> ObjectArray:
    """Card numbers of loyalty members ('LC' and ten digits); '' for everyone else."""
    members = np.flatnonzero(loyalty)
    card = np.full(len(loyalty), "", dtype=object)
    number = sharded_unique_ints(rng, len(members), 0, 10_000_000_000, shard.index, shard.count)
    card[members] = concat("LC", zero_padded(number, 10)).astype(object)
    return card


def concat_populations(parts: list[Population]) -> Population:
    """The shards' populations as one, in shard order (household indexes made global)."""
    if len(parts) == 1:
        return parts[0]
    households = [part.household + part.first_person for part in parts]
    values: dict[str, object] = {}
    for item in dataclasses.fields(Population):
        if item.name == "household":
            values[item.name] = np.concatenate(households)
        elif item.name == "first_person":
            values[item.name] = 0
        elif item.name == "id_width":
            values[item.name] = parts[0].id_width
        elif item.name in ("membership", "addresses"):
            kind = type(getattr(parts[0], item.name))
            values[item.name] = kind(
                **{
                    inner.name: np.concatenate(
                        [getattr(getattr(p, item.name), inner.name) for p in parts]
                    )
                    for inner in dataclasses.fields(kind)
                }
            )
        else:
            values[item.name] = np.concatenate([getattr(part, item.name) for part in parts])
    return Population(**values)  # type: ignore[arg-type]
