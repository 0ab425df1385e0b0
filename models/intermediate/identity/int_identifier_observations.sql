{#-
    Incremental per record (docs/identity.md, "Incremental runs"): a pre-hook deletes
    the rows of the records int_identity_records_changed lists, the model reads those
    records again from staging.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ onefold.identity_records_delete() }}",
) }}
{{ onefold.identity_model_dependencies() }}
-- depends_on: {{ ref('int_identity_records_changed') }}
{%- set declarations = onefold.identifier_declarations() -%}
{%- set composite_config = var('onefold__composite_keys') %}
{%- set scoped = onefold.identity_scoped() %}

with

observations as (

    {%- for declaration in declarations %}
        {%- for identifier in declaration.identifiers %}

            select
                '{{ declaration.source }}' as source,
                cast({{ declaration.record_key }} as {{ dbt.type_string() }}) as record_key,
                '{{ identifier.type }}' as identifier_type,
                cast({{ identifier.column }} as {{ dbt.type_string() }}) as raw_value,
                {%- if identifier.country_column is defined %}
                    cast({{ identifier.country_column }} as {{ dbt.type_string() }}) as country_code,
                {%- else %}
                    cast(null as {{ dbt.type_string() }}) as country_code,
                {%- endif %}
                cast({{ declaration.observed_at }} as {{ dbt.type_timestamp() }}) as observed_at
            from {{ declaration.relation }}
            where
                {{ identifier.column }} is not null
            {%- if scoped %}
                    and {{ onefold.identity_record_changed(
                        "'" ~ declaration.source ~ "'",
                        'cast(' ~ declaration.record_key ~ ' as ' ~ dbt.type_string() ~ ')') }}
                {%- endif %}

            union all
        {%- endfor %}
        {%- for composite in declaration.composite_keys %}
            {%- set parts = composite_config[composite.type].parts %}

            select
                '{{ declaration.source }}' as source,
                cast({{ declaration.record_key }} as {{ dbt.type_string() }}) as record_key,
                '{{ composite.type }}' as identifier_type,
                {{ onefold.composite_key_raw_value(parts, composite.columns) }} as raw_value,
                cast(null as {{ dbt.type_string() }}) as country_code,
                cast({{ declaration.observed_at }} as {{ dbt.type_timestamp() }}) as observed_at
            from {{ declaration.relation }}
            where
                {%- for part in parts %}
                    {{ composite.columns[part.name] }} is not null{% if not loop.last %} and{% endif %}
                {%- endfor %}
            {%- if scoped %}
                    and {{ onefold.identity_record_changed(
                        "'" ~ declaration.source ~ "'",
                        'cast(' ~ declaration.record_key ~ ' as ' ~ dbt.type_string() ~ ')') }}
                {%- endif %}

            union all
        {%- endfor %}
    {%- endfor %}

    -- Keeps the union well-formed (and typed while dbt parses); contributes no rows.
    select
        cast(null as {{ dbt.type_string() }}) as source,
        cast(null as {{ dbt.type_string() }}) as record_key,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as raw_value,
        cast(null as {{ dbt.type_string() }}) as country_code,
        cast(null as {{ dbt.type_timestamp() }}) as observed_at
    where 1 = 0

)

select * from observations
