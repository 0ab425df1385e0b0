{#- Incremental per record, like int_identifier_observations. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    unique_key=['source', 'record_key', 'identifier_type', 'match_key'],
    on_schema_change='fail',
    pre_hook="{{ onefold.identity_records_delete() }}",
) }}
-- depends_on: {{ ref('int_identity_records_changed') }}
{%- set in_unit_test = model is mapping and model.get('resource_type') == 'unit_test' %}

with

normalized as (

    select * from {{ ref('int_identifiers_normalized') }}
    where
        rejection_reason is null
    {%- if not in_unit_test and onefold.identity_scoped() %}
            and {{ onefold.identity_record_changed() }}
        {%- endif %}

),

deduplicated as (

    -- One row per record, identifier and value; the latest sighting is kept.
    select
        source,
        record_key,
        identifier_type,
        normalized_value,
        match_key,
        is_prehashed,
        max(observed_at) as observed_at
    from normalized
    group by source, record_key, identifier_type, normalized_value, match_key, is_prehashed

)

select * from deduplicated
