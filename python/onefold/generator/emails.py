"""Email addresses: who has which address, and how addresses get mangled in sources.

Addresses are kept as (local part, domain) until a row is rendered, so gmail-specific
variations (dots, +tags, googlemail.com) can be applied where they are realistic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from onefold.generator import reference as ref
from onefold.generator.arrays import (
    DIGITS,
    TEXT,
    BoolArray,
    IntArray,
    ObjectArray,
    TextArray,
    concat,
    duplicated,
    in_set,
    int_text,
    pick,
    random_chars,
    text,
    to_object,
    weighted_choice,
    where,
    zero_padded,
)
from onefold.generator.lookups import lookups
from onefold.generator.noise import FieldNoise

if TYPE_CHECKING:
    from onefold.generator.persons import Population

# Local-part patterns and how common they are.
PATTERN_WEIGHTS = (30, 14, 8, 6, 8, 6, 8, 8, 5, 7)


def local_parts(
    rng: np.random.Generator, first: IntArray, last: IntArray, birth_year: IntArray
) -> TextArray:
    """Local parts built the ways people pick them: john.smith, jsmith, smith.john84, ..."""
    lk = lookups()
    f = pick(lk.first_ascii, first)
    la = pick(lk.last_ascii, last)
    initial = np.strings.slice(f, 0, 1)
    yy = zero_padded(birth_year % 100, 2)
    yyyy = int_text(birth_year)
    digits = int_text(rng.integers(1, 999, len(first)))
    pattern = weighted_choice(rng, len(first), PATTERN_WEIGHTS)
    choices = (
        concat(f, ".", la),
        concat(f, la),
        concat(initial, ".", la),
        concat(f, "_", la),
        concat(f, ".", la, yy),
        concat(f, np.strings.slice(la, 0, 1), yy),
        concat(initial, la),
        concat(f, digits),
        concat(la, ".", f),
        concat(f, ".", la, yyyy),
    )
    out = choices[0].copy()
    for index, candidate in enumerate(choices[1:], start=1):
        rows = pattern == index
        out[rows] = candidate[rows]
    return out


def free_domains(rng: np.random.Generator, country: IntArray) -> TextArray:
    """Consumer mail providers, weighted by the person's country."""
    out = np.empty(len(country), dtype=np.dtypes.StringDType())
    for index, spec in enumerate(ref.COUNTRIES):
        rows = country == index
        names, weights = zip(*ref.FREE_EMAIL_DOMAINS[spec.code], strict=True)
        out[rows] = pick(text(names), weighted_choice(rng, int(rows.sum()), weights))
    return out


def company_domains(rng: np.random.Generator, n: int) -> TextArray:
    return pick(text(ref.COMPANY_EMAIL_DOMAINS), rng.integers(0, len(ref.COMPANY_EMAIL_DOMAINS), n))


def canonical(local: TextArray, domain: TextArray) -> TextArray:
    """The mailbox an address reaches: gmail ignores dots and +tags in the local part."""
    gmail = (domain == "gmail.com") | (domain == "googlemail.com")
    plus = np.strings.find(local, "+")
    base = where(plus >= 0, np.strings.slice(local, 0, np.maximum(plus, 0)), local)
    stripped = where(gmail, np.strings.replace(base, ".", ""), base)
    return concat(stripped, "@", where(gmail, "gmail.com", domain))


def make_unique(
    rng: np.random.Generator, local: TextArray, domain: TextArray, taken: set[str] | None = None
) -> TextArray:
    """Append digits to later holders of an already-taken mailbox until all are distinct.

    Two different people must never share a real mailbox, or the ground truth itself
    would merge them. `taken` holds the mailboxes of earlier shards (none clash with
    them) and receives these.
    """
    local = local.copy()
    taken = set() if taken is None else taken
    while True:
        mailbox = canonical(local, domain)
        clash = duplicated(mailbox) | in_set(mailbox, taken)
        if not clash.any():
            taken.update(mailbox.tolist())
            return local
        local[clash] = concat(local[clash], random_chars(rng, int(clash.sum()), 2, DIGITS))


def render_email_field(
    noise: FieldNoise,
    column: str,
    people: Population,
    person: IntArray,
    use_second: BoolArray,
    present: BoolArray | None = None,
    *,
    allow_junk: bool = True,
    allow_bad: bool = True,
) -> ObjectArray:
    """One email column of a raw table, with every kind of email noise, logged.

    Clean addresses are gathered from the population; only the rows that get noise are
    re-assembled from their (local, domain) parts.
    """
    n = len(person)
    rates = noise.rates
    present = np.ones(n, dtype=bool) if present is None else present
    second = use_second & people.has_second_email[person]
    values = np.where(second, people.second_address[person], people.email_address[person])
    junk, bad, genuine = noise.split(
        present, rates.junk_value if allow_junk else 0.0, rates.bad_email if allow_bad else 0.0
    )
    is_gmail = genuine & np.where(
        second, people.second_is_gmail[person], people.email_is_gmail[person]
    )
    dotted = is_gmail & (noise.rng.random(n) < rates.gmail_dots_tag)
    googlemail = is_gmail & (noise.rng.random(n) < rates.googlemail)
    cased = genuine & (noise.rng.random(n) < rates.email_case_whitespace)

    varied = dotted | googlemail
    local, domain = people.email_parts(person[varied], second[varied])
    local = where(dotted[varied], gmail_variant(noise.rng, local), local)
    domain = where(googlemail[varied], "googlemail.com", domain)
    values[varied] = to_object(concat(local, "@", domain))
    values[cased] = to_object(case_variant(noise.rng, np.asarray(values[cased].astype(TEXT))))
    local, domain = people.email_parts(person[bad], second[bad])
    values[bad] = to_object(bad_variant(noise.rng, local, domain))
    values[junk] = noise.choose(ref.JUNK_EMAILS, junk)
    values[~present] = None

    noise.logged(column, "gmail_dots_tag", dotted)
    noise.logged(column, "googlemail", googlemail)
    noise.logged(column, "email_case_whitespace", cased)
    noise.logged(column, "bad_email", bad)
    noise.logged(column, "junk_value", junk)
    return np.asarray(values, dtype=object)


def gmail_variant(rng: np.random.Generator, local: TextArray) -> TextArray:
    """Same gmail mailbox, different text: a +tag, or dots removed or added."""
    n = len(local)
    tag = concat(local, "+", pick(text(ref.GMAIL_TAGS), rng.integers(0, len(ref.GMAIL_TAGS), n)))
    has_dot = np.strings.find(local, ".") >= 0
    middle = np.strings.str_len(local) // 2
    dotted = concat(np.strings.slice(local, 0, middle), ".", np.strings.slice(local, middle, None))
    moved = where(has_dot, np.strings.replace(local, ".", ""), dotted)
    use_tag = (rng.random(n) < 0.5) | (np.strings.str_len(local) < 2)
    return where(use_tag, tag, moved)


def case_variant(rng: np.random.Generator, email: TextArray) -> TextArray:
    """Upper case, a capital first letter, or stray whitespace around the address."""
    n = len(email)
    style = rng.integers(0, 4, n)
    out = np.strings.upper(email)
    out = where(style == 1, np.strings.capitalize(email), out)
    out = where(style == 2, concat(" ", email), out)
    return where(style == 3, concat(email, "  "), out)


def bad_variant(rng: np.random.Generator, local: TextArray, domain: TextArray) -> TextArray:
    """Addresses no mail server accepts: no domain, double @, no @, comma for dot."""
    style = rng.integers(0, 4, len(local))
    out = concat(local, "@")
    out = where(style == 1, concat(local, "@@", domain), out)
    out = where(style == 2, concat(local, domain), out)
    return where(style == 3, concat(local, "@", np.strings.replace(domain, ".", ",")), out)
