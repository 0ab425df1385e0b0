with

base_events as (

    select * from {{ ref('base_email__events') }}
    where quarantine_reason is null and not is_duplicate and not is_suppressed

),

renamed as (

    select
        trim(event_id) as email_event_id,
        nullif(trim(campaign_id), '') as campaign_id,
        nullif(trim(email_address), '') as email,
        lower(trim(event_type)) as event_type,
        nullif(trim(url), '') as clicked_url,
        parsed_occurred_at as occurred_at,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from base_events

)

select * from renamed
