with

base_requests as (

    select * from {{ ref('base_privacy__erasure_requests') }}
    where quarantine_reason is null and not is_duplicate and not is_suppressed

),

renamed as (

    select
        trim(request_id) as erasure_request_id,
        lower(trim(identifier_type)) as identifier_type,
        trim(identifier_value) as identifier_value,
        upper(trim(regulation)) as regulation,
        parsed_received_at as received_at,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from base_requests

)

select * from renamed
