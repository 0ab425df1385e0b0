with

base_events as (

    select * from {{ ref('base_consent__events') }}
    where quarantine_reason is null and not is_duplicate and not is_suppressed

),

renamed as (

    select
        trim(consent_event_id) as consent_event_id,
        lower(trim(identifier_type)) as identifier_type,
        trim(identifier_value) as identifier_value,
        lower(trim(purpose)) as purpose,
        lower(nullif(trim(source), '')) as consent_source,
        upper(nullif(trim(jurisdiction), '')) as jurisdiction,
        lower(trim(status)) = 'granted' as is_granted,
        coalesce({{ onefold.safe_cast_boolean('gpc') }}, false) as is_gpc,
        parsed_occurred_at as occurred_at,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from base_events

)

select * from renamed
