{#- An append-only log: kept across --full-refresh like the id history it describes. -#}
{{ config(
    alias=onefold.mart_alias(),
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

    -- Explicit types: what later runs append must match the contract's column types.
    select
        cast(change_id as {{ dbt.type_string() }}) as change_id,
        cast(run_id as {{ dbt.type_string() }}) as run_id,
        cast(change_type as {{ dbt.type_string() }}) as change_type,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(previous_customer_id as {{ dbt.type_string() }}) as previous_customer_id,
        cast(cause as {{ dbt.type_string() }}) as cause,
        cast(records_moved as {{ dbt.type_bigint() }}) as records_moved,
        cast(changed_at as {{ dbt.type_timestamp() }}) as changed_at
    from detected

)

select * from final
