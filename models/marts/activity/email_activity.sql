{#- One row per email platform event, incremental on load time with a lookback. -#}
{{ config(
    materialized='incremental',
    unique_key='email_event_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

events as (

    select * from {{ ref('stg_email__events') }}
    where {{ onefold.loaded_since_last_run() }}

),

final as (

    select
        email_event_id,
        'email_events' as source,
        email_event_id as record_key,
        campaign_id,
        event_type,
        occurred_at,
        loaded_at
    from events

)

select * from final
