{#-
    Incremental: a run flags again only the raw rows of the keys that new, back-dated
    or recent rows touch (onefold.event_rows_to_restage) and replaces those keys' rows,
    so the table holds what a full build over base_web__events would (docs/staging.md).
-#}
{{ config(
    materialized=onefold.keyed_incremental(),
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ onefold.delete_vanished_event_rows(onefold.input_relation('web', 'web_events'), 'message_id', 'event_id') }}",
) }}
{#- Resolved while dbt parses too (the incremental branch is not rendered then), so the
    DAG has what that branch reads: the raw input (a ref() behind an adapter or a
    relation var) and the seed the suppression screen reads. -#}
{%- set raw_events = onefold.input_relation('web', 'web_events') %}
-- depends_on: {{ ref('country_calling_codes') }}

with

{% if is_incremental() -%}
{{ onefold.event_rows_to_restage(raw_events, 'message_id', 'event_id') }},

{{ onefold.web_events_flags('changed_rows') }},
{% endif %}

base_events as (

    select * from {% if is_incremental() %}flagged{% else %}{{ ref('base_web__events') }}{% endif %}
    where quarantine_reason is null and not is_duplicate and not is_suppressed

),

renamed as (

    select
        trim(message_id) as event_id,
        nullif(trim(anonymous_id), '') as anonymous_id,
        nullif(trim(user_id), '') as user_id,
        {{ onefold.json_text('context_json', ['device', 'id']) }} as device_id,
        lower(trim(type)) as event_type,
        nullif(trim(event), '') as event_name,
        {{ onefold.json_text('context_json', ['ip']) }} as ip_address,
        {{ onefold.json_text('context_json', ['userAgent']) }} as user_agent,
        {{ onefold.json_text('context_json', ['library', 'name']) }} as library_name,
        {{ onefold.json_text('context_json', ['page', 'url']) }} as page_url,
        {{ onefold.json_text('context_json', ['page', 'path']) }} as page_path,
        {{ onefold.json_text('context_json', ['page', 'referrer']) }} as page_referrer,
        {{ onefold.json_text('properties_json', ['title']) }} as page_title,
        {{ onefold.json_text('properties_json', ['product_id']) }} as product_id,
        {{ onefold.json_text('properties_json', ['order_id']) }} as order_id,
        upper({{ onefold.json_text('properties_json', ['currency']) }}) as currency,
        {{ onefold.json_text('traits_json', ['email']) }} as trait_email,
        {{ onefold.json_text('traits_json', ['phone']) }} as trait_phone,
        {{ onefold.json_text('traits_json', ['first_name']) }} as trait_first_name,
        {{ onefold.json_text('traits_json', ['last_name']) }} as trait_last_name,
        {{ onefold.safe_cast_decimal(onefold.json_text('properties_json', ['price'])) }} as price,
        {{ onefold.safe_cast_decimal(onefold.json_text('properties_json', ['revenue'])) }} as revenue,
        {{ onefold.json_text('context_json', ['device', 'id']) }} is not null as is_app_event,
        parsed_original_at as original_at,
        parsed_sent_at as sent_at,
        parsed_received_at as received_at,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from base_events

),

clock_corrected as (

    -- Segment's own rule: a device clock can be wrong, so shift the device time by the
    -- gap between when the device says it sent the batch and when the collector got it.
    select
        *,
        case
            when sent_at is not null and received_at is not null
                then original_at + (received_at - sent_at)
            else original_at
        end as occurred_at
    from renamed

)

select * from clock_corrected
