{#-
    Incremental like stg_web__events: only the keys new, back-dated or recent raw rows
    touch are flagged again and replaced (docs/staging.md).
-#}
{{ config(
    materialized=onefold.keyed_incremental(),
    unique_key='email_event_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ onefold.delete_vanished_event_rows(onefold.input_relation('email', 'email_events'), 'event_id', 'email_event_id') }}",
) }}
{#- Resolved while dbt parses too (the incremental branch is not rendered then), so the
    DAG has what that branch reads: the raw input (a ref() behind an adapter or a
    relation var) and the seed the suppression screen reads. -#}
{%- set raw_events = onefold.input_relation('email', 'email_events') %}
-- depends_on: {{ ref('country_calling_codes') }}

with

{% if is_incremental() -%}
{{ onefold.event_rows_to_restage(raw_events, 'event_id', 'email_event_id') }},

{{ onefold.email_events_flags('changed_rows') }},
{% endif %}

base_events as (

    select * from {% if is_incremental() %}flagged{% else %}{{ ref('base_email__events') }}{% endif %}
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
