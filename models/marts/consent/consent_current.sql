{#- One row per customer and purpose: the consent state in force now and why. -#}
{#- Replaced per customer: the pre-hook deletes the affected customers' rows, the
    model inserts them recomputed (docs/profiles.md, "Incremental runs"). -#}
{{ onefold.per_customer_incremental(alias=onefold.mart_alias()) }}

with

consent_history as (

    select * from {{ ref('consent_history') }}
    where {{ onefold.affected_customers_only('customer_id') }}

),

current_state as (

    select
        customer_id,
        purpose,
        basis,
        signal_type,
        source_signal_id,
        source_identifier_type,
        consent_source,
        jurisdiction,
        regime,
        is_granted,
        valid_from
    from consent_history
    where is_current

)

select * from current_state
