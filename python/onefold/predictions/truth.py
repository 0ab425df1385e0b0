"""The truth-based optimum on generated data: how well a classifier could do that knew
each shop account holder's latent purchase rate and whether they had dropped out
(`raw_truth.purchase_behaviour`, generator 1.4.0 and later).

At a cutoff, an account holder who has not dropped out orders within d days with
probability 1 - exp(-d * rate); one who has, never again online. That is the optimum for
the shop channel; guest checkouts and till visits, which the generator spreads evenly,
are outside it, so customers who buy there too can beat it by chance. Compared on the
holdout customers that have a shop account, with the model's and the baseline's AUC on
the same customers. Real warehouses have no such truth: this runs only where the
generator's tables are.

For product suggestions (generator 1.5.0 and later) the optimum knows each account
holder's favourite category, so the chance of each product in their next basket: it
suggests the k likeliest they have not bought.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from onefold.generator.sources.shop import product_shares
from onefold.predictions.suggestions import SuggestionModel, hits
from onefold.project import DbtProject
from onefold.warehouse import Warehouse, column_names

BEHAVIOUR_TABLE = "purchase_behaviour"
OWNERS_TABLE = "record_owners"
#: Days ahead each classifier's label looks.
LABEL_DAYS = {"purchase_30d": 30, "churn_90d": 90}


def load_purchase_truth(warehouse: Warehouse, project: DbtProject) -> pd.DataFrame | None:
    """customer_id, purchase_rate_per_day, dropped_out_at (and favourite_category from
    generator 1.5.0) of every customer with a shop account in the generator's truth;
    None without that truth."""
    schema = project.truth_schema
    if not (
        warehouse.table_exists(schema, BEHAVIOUR_TABLE)
        and warehouse.table_exists(schema, OWNERS_TABLE)
    ):
        return None
    records = project.relation("customer_records")
    favourite = (
        "max(behaviour.favourite_category)"
        if "favourite_category" in column_names(warehouse, schema, BEHAVIOUR_TABLE)
        else "cast(null as varchar)"
    )
    frame = warehouse.query_df(
        f"""
        select
            records.customer_id,
            max(behaviour.purchase_rate_per_day) as purchase_rate_per_day,
            max(behaviour.dropped_out_at) as dropped_out_at,
            {favourite} as favourite_category
        from {records} as records
        inner join {schema}.{OWNERS_TABLE} as owners
            on owners.source_table = records.source and owners.record_key = records.record_key
        inner join {schema}.{BEHAVIOUR_TABLE} as behaviour
            on behaviour.person_id = owners.person_id
        where records.source = 'shop_customers'
        group by records.customer_id
        """
    )
    frame["dropped_out_at"] = pd.to_datetime(frame["dropped_out_at"], errors="coerce")
    return frame


def oracle_probabilities(model_name: str, truth: pd.DataFrame, cutoff: dt.date) -> pd.Series:
    """Per customer_id: the probability of the model's label given the truth."""
    days = LABEL_DAYS[model_name]
    active = truth["dropped_out_at"].isna() | (truth["dropped_out_at"] >= pd.Timestamp(cutoff))
    buys = active.to_numpy() * (1 - np.exp(-days * truth["purchase_rate_per_day"].to_numpy(float)))
    probability = buys if model_name == "purchase_30d" else 1 - buys
    return pd.Series(probability, index=truth["customer_id"].to_numpy())


def truth_optimum(
    model_name: str,
    truth: pd.DataFrame,
    cutoff: dt.date,
    holdout: pd.DataFrame,
    labels: np.ndarray,
    model: np.ndarray,
    baseline: np.ndarray,
) -> dict[str, Any] | None:
    """AUC of the truth-based optimum, the model and the baseline on the holdout
    customers with a shop account; None when too few have one."""
    oracle = oracle_probabilities(model_name, truth, cutoff)
    known = holdout["customer_id"].isin(oracle.index).to_numpy()
    if known.sum() < 20 or labels[known].min() == labels[known].max():
        return None
    optimum = oracle.loc[holdout["customer_id"][known]].to_numpy(float)
    return {
        "rows": int(known.sum()),
        "optimum_auc": float(roc_auc_score(labels[known], optimum)),
        "model_auc": float(roc_auc_score(labels[known], model[known])),
        "baseline_auc": float(roc_auc_score(labels[known], baseline[known])),
    }


def suggestions_optimum(
    truth: pd.DataFrame,
    model: SuggestionModel,
    evaluated: pd.Series,
    before: pd.DataFrame,
    new: pd.DataFrame,
    suggested: pd.DataFrame,
    popular: pd.DataFrame,
) -> dict[str, Any] | None:
    """Hit rate at k of suggesting each customer's likeliest products (by the truth),
    beside the model's and popularity's, on the evaluated customers with a shop
    account; None when too few have one or the truth has no favourite categories."""
    known = truth.dropna(subset=["favourite_category"])
    customers = evaluated[evaluated.isin(known["customer_id"])].reset_index(drop=True)
    if len(customers) < 20:
        return None
    shares = product_shares()  # favourite category -> sku -> chance of an item
    favourite = known.set_index("customer_id")["favourite_category"]
    rows = [
        (customer, sku, share)
        for customer in customers
        for sku, share in shares[favourite[customer]].items()
    ]
    likely = pd.DataFrame(rows, columns=["customer_id", "sku", "share"])
    likely = likely.merge(before, on=["customer_id", "sku"], how="left", indicator=True)
    likely = likely[likely["_merge"] == "left_only"].sort_values(
        ["customer_id", "share", "sku"], ascending=[True, False, True]
    )
    optimum = likely.groupby("customer_id").head(model.suggestions)
    return {
        "rows": len(customers),
        "optimum_hit_rate": float(hits(optimum, customers, new).mean()),
        "model_hit_rate": float(hits(suggested, customers, new).mean()),
        "baseline_hit_rate": float(hits(popular, customers, new).mean()),
    }
