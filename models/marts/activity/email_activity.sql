{#- One row per email platform event, incremental: rows loaded late are picked up
    (onefold.unprocessed_rows). -#}
{{ config(
    alias=onefold.mart_alias(),
    materialized=onefold.keyed_incremental(),
    unique_key='email_event_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

events as (

    {{ onefold.unprocessed_rows(ref('stg_email__events'), 'email_event_id', 'email_events') }}

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
