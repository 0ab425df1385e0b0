{#- One row per customer and purpose: the consent state in force now and why. -#}
{#- Replaced per customer: the pre-hook deletes the affected customers' rows, the
    model inserts them recomputed (docs/profiles.md, "Incremental runs"). -#}
{{ config(
    alias=onefold.mart_alias(),
    materialized='incremental',
    unique_key='customer_id',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ onefold.delete_affected_customers() }}",
) }}
-- depends_on: {{ ref('int_customers_affected') }}

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
