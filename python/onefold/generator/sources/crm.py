"""CRM contacts (Salesforce/HubSpot style), re-exported whenever a contact changes.

Some people were entered twice (a sales rep and a web form), so one person can own two
contact_ids; lifecycle stages only move forward between versions. Every loyalty member is
a contact: the sign-up at the till creates it with the member's phone and card number
(`loyalty_card_id`, empty for everyone else).

A few people whose contact carries their birth date and postcode (noise rate
`fuzzy_contact`) also have a contact that shares no exact key with any of their other
records, which only a fuzzy match can link (noise log, column `record`):
- `fuzzy_signup`: a paper form typed in at the till: one of the names misspelt, the
  right birth date and postcode, no email, phone or card;
- `fuzzy_new_email`: a contact from a new email address (one nobody else uses) under a
  nickname (a misspelt first name when the name has none), with the right last name,
  birth date and postcode, no phone or card.
"""

from __future__ import annotations

import numpy as np

from onefold.generator import reference as ref
from onefold.generator.arrays import (
    ALNUM,
    TEXT,
    BoolArray,
    IntArray,
    concat,
    expand,
    null_where,
    pick,
    random_chars,
    run_starts,
    text,
    to_object,
    weighted_choice,
)
from onefold.generator.clock import date_text
from onefold.generator.emails import render_email_field
from onefold.generator.lookups import lookups
from onefold.generator.names import misspelt, nicknames, render_first_names, render_last_names
from onefold.generator.phones import render_phone_field
from onefold.generator.sources.common import RowClock, World, flags_text, versioned_rows
from onefold.generator.table import RawTable

STAGES = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
          "customer")  # fmt: skip
FIRST_STAGE_WEIGHTS = (30, 35, 15, 10, 5, 5)
SECOND_CONTACT_SHARE = 0.05
DELETED_SHARE = 0.04  # of contacts, flagged on their last version


def build_crm_contacts(world: World, rng: np.random.Generator) -> RawTable:
    """`crm_contacts`: 1-6 versions per contact."""
    people, window = world.people, world.window
    crm = np.flatnonzero(people.membership.crm).astype(np.int64)
    person = crm[expand(1 + (rng.random(len(crm)) < SECOND_CONTACT_SHARE))[0]]
    k = len(person)
    contact_id = concat("003", random_chars(rng, k, 15, ALNUM))
    rows = versioned_rows(rng, window, k, 0.5, 4 * 365, 1.0, 6)
    contact, updated = rows.entity, rows.updated_ms
    stage = _stages(rng, k, contact, rows.is_first)

    p = person[contact]
    keys = to_object(contact_id)[contact]
    noise = world.field_noise(rng, "crm_contacts", keys)
    clock = RowClock(rng, people, p)
    lk = lookups()
    has_email = (rng.random(k) < 0.92)[contact]
    # A loyalty card is registered with the member's phone number.
    member = people.membership.loyalty[person]
    has_phone = (member | (rng.random(k) < 0.6))[contact]
    # The sign-up at the till creates the member's contact with the card number on it; a
    # duplicate contact (entered again by hand) lacks it.
    card = (member & run_starts(person))[contact]
    has_company = (rng.random(k) < 0.35)[contact]
    has_birth = (rng.random(k) < 0.35)[contact]
    has_postcode = (rng.random(k) < 0.7)[contact]
    uses_second = people.addresses.crm[p]
    company = pick(text(ref.COMPANIES), rng.integers(0, len(ref.COMPANIES), k)[contact])
    deleted = (rng.random(k) < DELETED_SHARE)[contact] & rows.is_last
    columns = {
        "contact_id": keys,
        "email": render_email_field(noise, "email", people, p, uses_second, has_email),
        "phone": render_phone_field(noise, "phone", people, p, updated, 0.3, has_phone),
        "loyalty_card_id": null_where(~card, people.loyalty_card_id[p]),
        "first_name": render_first_names(noise, "first_name", people.first[p]),
        "last_name": render_last_names(noise, "last_name", people.last[p]),
        "company": to_object(company, ~has_company),
        "lifecycle_stage": np.array(STAGES, dtype=object)[stage],
        "birth_date": to_object(date_text(people.birth_day[p]), ~has_birth),
        "mailing_postal_code": to_object(people.postcode[p], ~has_postcode),
        "mailing_country": to_object(lk.country_codes[people.country[p]]),
        "created_at": clock.render(rows.created_ms[contact]),
        "updated_at": clock.render(updated),
        "is_deleted": flags_text(deleted),
    }
    fuzzy_columns, fuzzy_owner, fuzzy_updated = _fuzzy_contacts(
        world, rng, np.unique(p[has_birth & has_postcode])
    )
    columns = {
        name: np.concatenate([values, fuzzy_columns[name]]) for name, values in columns.items()
    }
    owner = np.concatenate([p, fuzzy_owner])
    return RawTable(
        "crm_contacts",
        "contact_id",
        "updated_at",
        columns,
        owner,
        np.concatenate([updated, fuzzy_updated]),
    )


FUZZY_EMAIL_DOMAINS = ("fastmail.com", "proton.me", "mail.com", "zoho.com")


def _fuzzy_contacts(
    world: World, rng: np.random.Generator, evidence: IntArray
) -> tuple[dict[str, np.ndarray], IntArray, IntArray]:
    """The contacts only a fuzzy match links to their person (module docstring): one
    version each, logged as `fuzzy_signup` or `fuzzy_new_email`."""
    people, window = world.people, world.window
    lk = lookups()
    # Customers already known with their birth date and postcode (a CRM contact that
    # has both): the fuzzy contact repeats them under another spelling of the name.
    known = np.zeros(len(people.first), dtype=bool)
    known[evidence] = True
    person = np.flatnonzero(known & (rng.random(len(known)) < world.config.noise.fuzzy_contact))
    k = len(person)
    keys = to_object(concat("003", random_chars(rng, k, 15, ALNUM)))
    rows = versioned_rows(rng, window, k, 0.0, 2, 0.0, 1)
    signup = rng.random(k) < 0.5
    first_index = people.first[person]
    first = lk.first_name_objects[first_index]
    true_last = lk.last_name_objects[people.last[person]]
    last = true_last.copy()
    # A signup misspells one of the names; a new-email contact goes by a nickname.
    misspell_first = signup & (rng.random(k) < 0.5)
    first[misspell_first] = misspelt(rng, first[misspell_first])
    last[signup & ~misspell_first] = misspelt(rng, last[signup & ~misspell_first])
    nicknamed = ~signup & (lk.nicknames.counts[first_index] > 0)
    first[nicknamed] = nicknames(rng, first_index[nicknamed])
    typed = ~signup & ~nicknamed
    first[typed] = misspelt(rng, first[typed])
    email = concat(
        np.strings.lower(np.asarray(first.astype(TEXT))),
        ".",
        np.strings.lower(np.asarray(true_last.astype(TEXT))),
        random_chars(rng, k, 4, ALNUM),
        "@",
        pick(text(FUZZY_EMAIL_DOMAINS), rng.integers(0, len(FUZZY_EMAIL_DOMAINS), k)),
    )
    clock = RowClock(rng, people, person)
    updated = rows.updated_ms
    world.log.add("crm_contacts", keys[signup], "record", "fuzzy_signup")
    world.log.add("crm_contacts", keys[~signup], "record", "fuzzy_new_email")
    # The name changes are name noise like any other, logged as such too.
    world.log.add("crm_contacts", keys[misspell_first | typed], "first_name", "name_typo")
    world.log.add("crm_contacts", keys[signup & ~misspell_first], "last_name", "name_typo")
    world.log.add("crm_contacts", keys[nicknamed], "first_name", "nickname")
    columns = {
        "contact_id": keys,
        "email": to_object(np.strings.lower(email), signup),
        "phone": np.full(k, None, dtype=object),
        "loyalty_card_id": np.full(k, None, dtype=object),
        "first_name": first,
        "last_name": last,
        "company": np.full(k, None, dtype=object),
        "lifecycle_stage": np.full(k, STAGES[0], dtype=object),
        "birth_date": to_object(date_text(people.birth_day[person])),
        "mailing_postal_code": to_object(people.postcode[person]),
        "mailing_country": to_object(lk.country_codes[people.country[person]]),
        "created_at": clock.render(rows.created_ms),
        "updated_at": clock.render(updated),
        "is_deleted": flags_text(np.zeros(k, dtype=bool)),
    }
    return columns, person.astype(np.int64), updated


def _stages(
    rng: np.random.Generator, contacts: int, contact: IntArray, is_first: BoolArray
) -> IntArray:
    """Lifecycle stage per version: a starting stage, then half the updates move it on."""
    advance = (~is_first & (rng.random(len(contact)) < 0.5)).astype(np.int64)
    start = weighted_choice(rng, contacts, FIRST_STAGE_WEIGHTS)
    advanced = np.cumsum(advance)
    gained = advanced - advanced[np.flatnonzero(is_first)][contact]
    return np.minimum(start[contact] + gained, len(STAGES) - 1)
