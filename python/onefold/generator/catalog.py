"""The shop's products and prices per currency, as arrays."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np

from onefold.generator import reference as ref
from onefold.generator.arrays import IntArray, TextArray, text

CURRENCIES = ("USD", "EUR", "GBP")


@dataclass(frozen=True)
class Catalog:
    sku: TextArray
    name: TextArray
    category: TextArray
    path: TextArray  # /products/<slug>
    price_cents: IntArray  # shape (currency, product); local prices end in .99 or .00

    def currency_index(self, currency: TextArray) -> IntArray:
        index = np.zeros(len(currency), dtype=np.int64)
        for position, code in enumerate(CURRENCIES):
            index[currency == code] = position
        return index


def _local_price(usd_cents: int, currency: str) -> int:
    """Converted and rounded to a shelf price ending in .99 (gift cards stay round)."""
    converted = usd_cents * ref.CURRENCY_RATES[currency]
    if usd_cents % 100 == 0 and usd_cents % 1000 == 0:
        return round(converted / 500) * 500
    return round(converted / 100) * 100 - 1 if converted >= 100 else int(converted)


@cache
def catalog() -> Catalog:
    products = ref.PRODUCTS
    slugs = [re.sub(r"[^a-z0-9]+", "-", p.name.lower()).strip("-") for p in products]
    prices = np.array(
        [[_local_price(p.price_usd_cents, c) for p in products] for c in CURRENCIES],
        dtype=np.int64,
    )
    return Catalog(
        sku=text([p.sku for p in products]),
        name=text([p.name for p in products]),
        category=text([p.category for p in products]),
        path=text([f"/products/{slug}" for slug in slugs]),
        price_cents=prices,
    )
