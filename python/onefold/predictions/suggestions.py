"""Product suggestions (`top_products`): item-to-item co-occurrence with a popularity
fallback (docs/predictions.md, "Product suggestions").

Two products are similar when the same customers buy both: cosine similarity of their
buyer sets, |A ∩ B| / sqrt(|A| |B|), kept for pairs at least MIN_SUPPORT customers
bought (so no stored number describes a handful of people) and, per product, its
NEIGHBOURS most similar. A customer's score for a product they have not bought is the
sum of its similarities to the products they have; the best SUGGESTIONS are
suggested, and where fewer products score, the most popular ones they have not
bought fill the list. customer_product_suggestions computes the same in SQL from the
stored parameters; `suggest` here is the reference it is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from onefold.errors import ConfigError

MODEL_NAME = "top_products"
ALGORITHM = "item_co_occurrence"
#: Products suggested per customer.
SUGGESTIONS = 5
#: Most similar products kept per product.
NEIGHBOURS = 20
#: Fewest customers behind a stored pair or popular product.
MIN_SUPPORT = 5
#: Popular products kept for the fallback (a customer who bought all of them gets fewer).
POPULAR = 4 * SUGGESTIONS
#: Similarities are stored as whole millionths, so a customer's score is a sum of
#: integers: exact in any order, and SQL ranks exactly as Python does.
SIMILARITY_SCALE = 1_000_000
#: Fewest customers with a new product bought in the horizon that evaluation needs.
MIN_EVALUATED = 20

CO_OCCURRENCE = "co_occurrence"
POPULARITY = "popularity"


@dataclass(frozen=True)
class SuggestionModel:
    #: (product, neighbour, similarity in millionths), most similar first per product
    neighbours: list[tuple[str, str, int]]
    #: (product, buyers), most bought first
    popularity: list[tuple[str, int]]
    suggestions: int = SUGGESTIONS

    def as_dict(self) -> dict[str, Any]:
        return {
            "suggestions": self.suggestions,
            "min_support": MIN_SUPPORT,
            "similarity_scale": SIMILARITY_SCALE,
            "neighbours": [list(row) for row in self.neighbours],
            "popularity": [list(row) for row in self.popularity],
        }

    @classmethod
    def from_dict(cls, parameters: dict[str, Any]) -> SuggestionModel:
        return cls(
            [(str(a), str(b), int(s)) for a, b, s in parameters["neighbours"]],
            [(str(sku), int(buyers)) for sku, buyers in parameters["popularity"]],
            int(parameters["suggestions"]),
        )

    def popular_only(self) -> SuggestionModel:
        """The baseline: the same popularity list, no co-occurrence."""
        return SuggestionModel([], self.popularity, self.suggestions)


def bought(lines: pd.DataFrame) -> pd.DataFrame:
    """Distinct (customer_id, sku) of order lines."""
    return lines[["customer_id", "sku"]].drop_duplicates().reset_index(drop=True)


def fit_suggestions(purchases: pd.DataFrame) -> SuggestionModel:
    """Similarities and popularity from distinct (customer_id, sku) rows."""
    customers, customer_index = np.unique(
        purchases["customer_id"].to_numpy(str), return_inverse=True
    )
    products, product_index = np.unique(purchases["sku"].to_numpy(str), return_inverse=True)
    if len(customers) < MIN_SUPPORT:
        raise ConfigError(
            f"{MODEL_NAME}: {len(customers)} customers bought a product before the cutoff; "
            f"suggestions need at least {MIN_SUPPORT}."
        )
    matrix = sparse.csr_matrix(
        (np.ones(len(purchases)), (customer_index, product_index)),
        shape=(len(customers), len(products)),
    )
    together = (matrix.T @ matrix).tocoo()
    buyers = np.asarray(matrix.sum(axis=0)).ravel()
    pairs = pd.DataFrame(
        {
            "product": products[together.row],
            "neighbour": products[together.col],
            "customers": together.data,
            "similarity": np.rint(
                SIMILARITY_SCALE
                * together.data
                / np.sqrt(buyers[together.row] * buyers[together.col])
            ).astype(np.int64),
        }
    )
    pairs = pairs[
        (pairs["product"] != pairs["neighbour"])
        & (pairs["customers"] >= MIN_SUPPORT)
        & (pairs["similarity"] > 0)
    ]
    pairs = pairs.sort_values(["product", "similarity", "neighbour"], ascending=[True, False, True])
    pairs = pairs.groupby("product", sort=False).head(NEIGHBOURS)
    popular = pd.DataFrame({"sku": products, "buyers": buyers.astype(np.int64)})
    popular = popular[popular["buyers"] >= MIN_SUPPORT]
    popular = popular.sort_values(["buyers", "sku"], ascending=[False, True]).head(POPULAR)
    return SuggestionModel(
        [
            (str(a), str(b), int(s))
            for a, b, s in zip(
                pairs["product"], pairs["neighbour"], pairs["similarity"], strict=True
            )
        ],
        [(str(sku), int(n)) for sku, n in zip(popular["sku"], popular["buyers"], strict=True)],
    )


def suggest(model: SuggestionModel, customers: pd.Series, purchases: pd.DataFrame) -> pd.DataFrame:
    """customer_id, suggestion_rank (1 = best), sku, score, basis for every customer in
    `customers`, from what they bought (distinct customer_id, sku)."""
    owned = purchases[purchases["customer_id"].isin(customers)]
    popularity = pd.DataFrame(model.popularity, columns=["sku", "buyers"])
    neighbours = pd.DataFrame(model.neighbours, columns=["sku", "candidate", "similarity"])
    pairs = owned.merge(neighbours, on="sku").drop(columns="sku")
    pairs.columns = pd.Index(["customer_id", "sku", "score"])
    scored = pd.DataFrame(pairs.groupby(["customer_id", "sku"], as_index=False)["score"].sum())
    scored["basis"] = CO_OCCURRENCE
    fallback = pd.DataFrame({"customer_id": pd.unique(customers)}).merge(
        popularity[["sku"]], how="cross"
    )
    fallback["score"] = 0
    fallback["basis"] = POPULARITY
    candidates: pd.DataFrame = pd.concat([scored, fallback], ignore_index=True)
    candidates = candidates.drop_duplicates(["customer_id", "sku"], keep="first")
    owned_keys = pd.MultiIndex.from_frame(owned[["customer_id", "sku"]])
    candidates = candidates[
        ~pd.MultiIndex.from_frame(candidates[["customer_id", "sku"]]).isin(owned_keys)
    ]
    candidates = candidates.merge(popularity, on="sku", how="left").fillna({"buyers": 0})
    candidates = candidates.sort_values(
        ["customer_id", "score", "buyers", "sku"], ascending=[True, False, False, True]
    )
    candidates["suggestion_rank"] = candidates.groupby("customer_id").cumcount() + 1
    top = candidates[candidates["suggestion_rank"] <= model.suggestions].copy()
    top["score"] = top["score"] / SIMILARITY_SCALE
    columns = ["customer_id", "suggestion_rank", "sku", "score", "basis"]
    return pd.DataFrame(top[columns]).reset_index(drop=True)


def hits(suggested: pd.DataFrame, customers: pd.Series, later: pd.DataFrame) -> np.ndarray:
    """Per customer (in order): 1 when a suggested product is among those bought later."""
    matched = suggested.merge(later, on=["customer_id", "sku"])
    hit = customers.isin(matched["customer_id"])
    return hit.to_numpy(dtype=np.float64)
