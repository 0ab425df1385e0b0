"""Ground truth for evaluation (`raw_truth`): who owns each record, who each person is,
what noise went where, and how the run was configured. No model reads these tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from onefold.generator.arrays import concat, to_object, zero_padded
from onefold.generator.clock import date_text
from onefold.generator.config import GENERATOR_VERSION, GeneratorConfig
from onefold.generator.lookups import lookups
from onefold.generator.noise import NoiseLog
from onefold.generator.persons import Population
from onefold.generator.phones import e164
from onefold.generator.sources.shop import PurchaseBehaviour
from onefold.generator.table import LandedTable


def record_owners(table: LandedTable, people: Population) -> pd.DataFrame:
    """One row per distinct record key of one raw table: the person it belongs to.

    Versions and duplicate copies share a key and always the same owner, so the first
    occurrence stands for all.
    """
    keys = table.frame[table.key_column].to_numpy(dtype=object)
    first = ~pd.Series(keys).duplicated().to_numpy()
    columns = {
        "source_table": np.full(int(first.sum()), table.name, dtype=object),
        "record_key": keys[first],
        "person_id": to_object(people.person_id)[table.owner[first]],
    }
    return pd.DataFrame({name: pd.Series(values, dtype="str") for name, values in columns.items()})


def persons(people: Population) -> pd.DataFrame:
    """Each person as they really are: true name, clean primary email and phone."""
    lk = lookups()
    width = people.id_width
    second = concat(people.second_local, "@", people.second_domain)
    old_phone = e164(people.country, people.old_phone)
    columns = {
        "person_id": to_object(people.person_id),
        "first_name": to_object(lk.first_names.values[people.first]),
        "last_name": to_object(lk.last_names.values[people.last]),
        "birth_date": to_object(date_text(people.birth_day)),
        "country": to_object(lk.country_codes[people.country]),
        "jurisdiction": to_object(lk.region_jurisdiction[people.region]),
        "email": to_object(concat(people.email_local, "@", people.email_domain)),
        "phone": to_object(e164(people.country, people.phone)),
        "household_id": to_object(
            concat("H", zero_padded(people.first_person + people.household + 1, width))
        ),
        "second_email": to_object(second, ~people.has_second_email),
        "previous_phone": to_object(old_phone, ~people.has_old_phone),
    }
    return pd.DataFrame({name: pd.Series(values, dtype="str") for name, values in columns.items()})


def log_person_noise(log: NoiseLog, people: Population) -> None:
    """Person-level noise: second addresses, changed numbers, shared households."""
    log.add("persons", people.person_id[people.has_second_email], "email", "second_email")
    log.add("persons", people.person_id[people.has_old_phone], "phone", "changed_phone")
    shared = people.household != np.arange(people.size)
    heads = np.unique(people.household[shared])
    members = np.union1d(np.flatnonzero(shared), heads)
    log.add("persons", people.person_id[members], "address1", "household")


def purchase_behaviour(people: Population, behaviour: PurchaseBehaviour) -> pd.DataFrame:
    """Each shop account holder's latent purchasing: daily rate, chance of dropping out
    after an order, mean items per order beyond the first, when they dropped out
    (null: still buying at the end of the window) and the category most of their items
    come from."""
    dropped = behaviour.dropped_out_ms
    at = pd.to_datetime(np.where(dropped >= 0, dropped, 0), unit="ms").strftime(
        "%Y-%m-%dT%H:%M:%S.%f"
    )
    return pd.DataFrame(
        {
            "person_id": pd.Series(to_object(people.person_id)[behaviour.person], dtype="str"),
            "purchase_rate_per_day": pd.Series(behaviour.rate_per_day, dtype="float64"),
            "dropout_probability": pd.Series(behaviour.dropout_probability, dtype="float64"),
            "extra_items_mean": pd.Series(behaviour.extra_items_mean, dtype="float64"),
            "dropped_out_at": pd.Series(
                to_object(at.to_numpy(dtype=str), dropped < 0), dtype="str"
            ),
            "favourite_category": pd.Series(behaviour.favourite_category, dtype="str"),
        }
    )


def generation_run(config: GeneratorConfig, row_counts: dict[str, int]) -> pd.DataFrame:
    """The inputs that reproduce this data exactly (no wall-clock: reruns are identical)."""
    return pd.DataFrame(
        {
            "seed": pd.Series([config.seed], dtype="int64"),
            "persons": pd.Series([config.persons], dtype="int64"),
            "end_date": pd.Series([config.end_date.isoformat()], dtype="str"),
            "days": pd.Series([config.days], dtype="int64"),
            "shard_persons": pd.Series([config.shard_persons], dtype="int64"),
            "generator_version": pd.Series([GENERATOR_VERSION], dtype="str"),
            "noise_rates": pd.Series([config.noise.as_json()], dtype="str"),
            "row_counts": pd.Series([json.dumps(row_counts, sort_keys=True)], dtype="str"),
        }
    )
