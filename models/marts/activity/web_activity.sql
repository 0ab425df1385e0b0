{#- One row per web or app event, incremental: rows loaded late are picked up
    (onefold.unprocessed_rows). -#}
{{ config(
    alias=onefold.mart_alias(),
    materialized=onefold.keyed_incremental(),
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

events as (

    {{ onefold.unprocessed_rows(ref('stg_web__events'), 'event_id', 'web_events') }}

),

final as (

    select
        event_id,
        'web_events' as source,
        event_id as record_key,
        anonymous_id,
        event_type,
        event_name,
        page_path,
        product_id,
        order_id,
        is_app_event,
        occurred_at,
        loaded_at
    from events

)

select * from final
