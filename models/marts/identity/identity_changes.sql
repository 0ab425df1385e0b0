{#- An append-only log: kept across --full-refresh like the id history it describes. -#}
{{ config(
    materialized='incremental',
    unique_key='change_id',
    on_schema_change='fail',
    full_refresh=(none if var('onefold__reset_identity_history') else false),
) }}

with

detected as (

    select * from {{ ref('int_identity_changes_detected') }}

),

final as (

    select
        change_id,
        run_id,
        change_type,
        customer_id,
        previous_customer_id,
        cause,
        records_moved,
        changed_at
    from detected

)

select * from final
