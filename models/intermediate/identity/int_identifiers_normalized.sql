{#- Incremental per record, like int_identifier_observations. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ onefold.identity_records_delete() }}",
) }}
-- depends_on: {{ ref('int_identity_records_changed') }}
{%- set identifier_types = var('onefold__identifier_types') %}
{%- set in_unit_test = model is mapping and model.get('resource_type') == 'unit_test' %}

with

observations as (

    select * from {{ ref('int_identifier_observations') }}
    {%- if not in_unit_test and onefold.identity_scoped() %}
        where {{ onefold.identity_record_changed() }}
    {%- endif %}

),

calling_codes as (

    select * from {{ ref('country_calling_codes') }}

),

with_calling_code as (

    select
        observations.*,
        coalesce(
            calling_codes.calling_code, '{{ var("onefold__default_phone_calling_code") }}'
        ) as default_calling_code
    from observations
    left join calling_codes
        on upper(trim(observations.country_code)) = calling_codes.country_code

),

normalized as (

    select
        source,
        record_key,
        identifier_type,
        raw_value,
        observed_at,
        case identifier_type
            {%- for type_name in identifier_types %}
                when '{{ type_name }}'
                    then {{ onefold.normalized_identifier_value(type_name, 'raw_value', 'default_calling_code') }}
            {%- endfor %}
        end as normalized_value,
        case identifier_type
            {%- for type_name, type_config in identifier_types.items() if type_config.get('accepts_hashed') %}
                when '{{ type_name }}' then {{ onefold.is_sha256_hex('raw_value') }}
            {%- endfor %}
            else false
        end as is_prehashed
    from with_calling_code

),

keyed as (

    select
        *,
        case identifier_type
            {%- for type_name in identifier_types %}
                when '{{ type_name }}'
                    then {{ onefold.match_key_from_normalized(type_name, 'normalized_value', 'is_prehashed') }}
            {%- endfor %}
        end as match_key,
        case
            when normalized_value is null and (raw_value is null or trim(raw_value) = '') then 'blank'
            when normalized_value is null then 'invalid_' || identifier_type
        end as rejection_reason
    from normalized

)

select * from keyed
