{#-
    The records probabilistic matching compares (docs/identity.md, "Probabilistic
    matching"): one row per staged identity record with at least `min_fields` of the
    declared fields, each normalized. Attribute fields come from the columns the
    identity models map in meta.onefold.attributes, identifier fields from the record's
    usable, plain (not pre-hashed) values of that type (the smallest when it has several).
    Rebuilt whole every run; empty while matching is disabled.
-#}
{{ onefold.identity_model_dependencies() }}
{%- set matching = onefold.match_config() %}
{%- set fields = matching.fields.values() | list %}

with

-- noqa: disable=LT02
{%- if matching.enabled %}

field_values as (

    {%- for declaration in onefold.identifier_declarations() %}
        {%- set mapped = [] %}
        {%- for field in fields if field.attribute and declaration.attributes.get(field.attribute) %}
            {%- do mapped.append(field) %}
        {%- endfor %}
        {%- for field in mapped %}

            select
                '{{ declaration.source }}' as source,
                cast({{ declaration.record_key }} as {{ dbt.type_string() }}) as record_key,
                '{{ field.name }}' as field_name,
                {{ onefold.match_field_value(field, declaration.attributes[field.attribute]) }} as field_value,
                cast({{ declaration.observed_at }} as {{ dbt.type_timestamp() }}) as observed_at
            from {{ declaration.relation }}

            union all
        {%- endfor %}
    {%- endfor %}
    {%- for field in fields if field.identifier %}

        select
            source,
            record_key,
            '{{ field.name }}' as field_name,
            normalized_value as field_value,
            observed_at
        from {{ ref('int_identifiers_usable') }}
        where identifier_type = '{{ field.identifier }}' and not is_prehashed

        union all
    {%- endfor %}

    -- Keeps the union well-formed; contributes no rows.
    select
        cast(null as {{ dbt.type_string() }}) as source,
        cast(null as {{ dbt.type_string() }}) as record_key,
        cast(null as {{ dbt.type_string() }}) as field_name,
        cast(null as {{ dbt.type_string() }}) as field_value,
        cast(null as {{ dbt.type_timestamp() }}) as observed_at
    where 1 = 0

),

records as (

    select
        source,
        record_key,
        {%- for field in fields %}
            min(case when field_name = '{{ field.name }}' then field_value end) as {{ field.name }},
        {%- endfor %}
        max(observed_at) as observed_at
    from field_values
    where field_value is not null
    group by source, record_key

),

matchable as (

    select
        {{ onefold.node_id("'r|' || source || '|' || record_key") }} as record_node_id,
        source,
        record_key,
        {%- for field in fields %}
            {{ field.name }},
        {%- endfor %}
        (
            {%- for field in fields %}
                case when {{ field.name }} is not null then 1 else 0 end{% if not loop.last %} +{% endif %}
            {%- endfor %}
        ) as field_count,
        observed_at
    from records

)

{%- else %}

matchable as (

    -- Matching is disabled: no records, and nothing read.
    select
        cast(null as {{ dbt.type_bigint() }}) as record_node_id,
        cast(null as {{ dbt.type_string() }}) as source,
        cast(null as {{ dbt.type_string() }}) as record_key,
        {%- for field in fields %}
            cast(null as {{ dbt.type_string() }}) as {{ field.name }},
        {%- endfor %}
        cast(null as {{ dbt.type_int() }}) as field_count,
        cast(null as {{ dbt.type_timestamp() }}) as observed_at
    where 1 = 0

)
{%- endif %}
-- noqa: enable=LT02

select * from matchable
where field_count >= {{ matching.min_fields }}
