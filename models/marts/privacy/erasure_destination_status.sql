{#- A view like erasure_requests_status: live between dbt runs. -#}
{{ config(materialized='view', alias=onefold.mart_alias()) }}

with

destinations as (

    select * from {{ source('onefold_privacy', 'erasure_destinations') }}

),

final as (

    select
        cast(erasure_request_id as {{ dbt.type_string() }}) as erasure_request_id,
        cast(sync_name as {{ dbt.type_string() }}) as sync_name,
        cast(destination_name as {{ dbt.type_string() }}) as destination_name,
        cast(destination_type as {{ dbt.type_string() }}) as destination_type,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(last_error as {{ dbt.type_string() }}) as last_error,
        cast(records_count as {{ dbt.type_bigint() }}) as records_count,
        cast(attempts as {{ dbt.type_bigint() }}) as attempts,
        cast(first_attempted_at as {{ dbt.type_timestamp() }}) as first_attempted_at,
        cast(last_attempted_at as {{ dbt.type_timestamp() }}) as last_attempted_at,
        cast(completed_at as {{ dbt.type_timestamp() }}) as completed_at
    from destinations

)

select * from final
