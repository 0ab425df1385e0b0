{#- One row per customer and purpose: the consent state in force now and why. -#}
{{ config(alias=onefold.mart_alias()) }}

with

consent_history as (

    select * from {{ ref('consent_history') }}

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
