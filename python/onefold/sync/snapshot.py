"""The sync's source as it should be at the destination, computed in the warehouse.

One row per record: its key (text), customer id, the payload as JSON text (fields
mapped, identifiers hashed, timestamps as ISO 8601 UTC) and the payload's SHA-256.
Rows of customers without every required consent are left out here, whatever the
model did, so a customer who withdraws consent drops out of the next plan.
"""

from __future__ import annotations

from onefold.sql import literal
from onefold.sync.config import HashKind, SyncConfig
from onefold.sync.dialect import Dialect
from onefold.sync.source import CUSTOMER_ID, Source
from onefold.warehouse import Warehouse, quote_ident

SHA256_HEX = "[0-9a-f]{64}"


def normalized(kind: HashKind, text: str) -> str:
    """The value an identifier is hashed from: emails trimmed and lower-cased, phones as
    the digits of their E.164 form, other text trimmed."""
    if kind == "email":
        return f"lower(trim({text}))"
    if kind == "phone":
        return f"regexp_replace({text}, '[^0-9]', '', 'g')"
    return f"trim({text})"


def hashed(dialect: Dialect, kind: HashKind, column: str) -> str:
    """SHA-256 hex of the normalized value; a value that already is one is kept."""
    text = f"cast({column} as varchar)"
    already = f"lower(trim({text}))"
    # An empty string is no identifier: it stays null rather than hashing to a constant.
    value = f"nullif({normalized(kind, text)}, '')"
    return (
        f"case when {dialect.matches(already, SHA256_HEX)} then {already} "
        f"else {dialect.sha256_hex(value)} end"
    )


def payload_json(dialect: Dialect, sync: SyncConfig, columns: dict[str, str]) -> str:
    kinds = sync.hash_kinds()
    pairs = []
    for field, column in sync.fields.items():
        expression = f"source.{quote_ident(column)}"
        data_type = columns[column]
        if field in kinds:
            expression = hashed(dialect, kinds[field], expression)
        elif data_type.startswith("timestamp"):
            expression = dialect.iso_timestamp(expression, with_time_zone="time zone" in data_type)
        pairs.append((field, expression))
    return dialect.json_object(pairs)


def consent_filter(sync: SyncConfig, consent_relation: str) -> str:
    """Keep rows whose customer has granted every required purpose."""
    purposes = ", ".join(literal(purpose) for purpose in sync.purposes)
    return (
        f"where cast(source.{quote_ident(CUSTOMER_ID)} as varchar) in ("
        f"select cast(consent.customer_id as varchar) from {consent_relation} as consent "
        f"where consent.purpose in ({purposes}) and consent.is_granted "
        f"group by 1 having count(distinct consent.purpose) = {len(sync.purposes)})"
    )


def build_snapshot(
    warehouse: Warehouse, dialect: Dialect, sync: SyncConfig, source: Source, name: str
) -> int:
    """Create the snapshot as temporary table `name`; return its row count."""
    customer = (
        f"cast(source.{quote_ident(CUSTOMER_ID)} as varchar)"
        if source.has_customer_id
        else "cast(null as varchar)"
    )
    where = consent_filter(sync, source.consent_relation) if source.consent_relation else ""
    table = dialect.temp_table(name)
    warehouse.execute(f"drop table if exists {table}")
    warehouse.execute(
        f"""
        create temporary table {quote_ident(name)} as
        select record_key, customer_id, payload_json,
            {dialect.sha256_hex("payload_json")} as payload_hash
        from (
            select
                cast(source.{quote_ident(sync.primary_key)} as varchar) as record_key,
                {customer} as customer_id,
                {payload_json(dialect, sync, source.columns)} as payload_json
            from ({source.query}) as source
            {where}
        ) as mapped
        """
    )
    return int(warehouse.query(f"select count(*) from {table}")[0][0])
