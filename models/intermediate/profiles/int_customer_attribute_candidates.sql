{#-
    Every value any record offers for a golden attribute, with its customer. Columns
    come from `meta.onefold.attributes` of the identity staging models; attributes with
    `from_identifier` take the normalized, unblocked, plain (not pre-hashed) identifier
    values of that type instead, so the golden email is one the resolver also trusts.
-#}
{%- set attributes = var('onefold__golden_attributes') -%}
{#- Attributes some identity model maps a column to (their values come from
    int_downstream_records, the one read of the staging models). -#}
{%- set mapped = [] %}
{%- for declaration in onefold.identifier_declarations() %}
    {%- for attribute in declaration.attributes if attribute not in mapped %}
        {%- do mapped.append(attribute) %}
    {%- endfor %}
{%- endfor %}
{#- Replaced per customer: the pre-hook deletes the affected customers' rows, the
    model inserts them recomputed (docs/profiles.md, "Incremental runs"). -#}
{{ onefold.per_customer_incremental() }}

with

customer_records as (

    select * from {{ ref('customer_records') }}
    where {{ onefold.affected_customers_only('customer_id') }}

),

identifiers as (

    select * from {{ ref('int_identifiers_usable') }}

),

records as (

    select * from {{ ref('int_downstream_records') }}

),

declared as (

    {%- for attribute in attributes if attribute in mapped %}

        select
            source,
            record_key,
            '{{ attribute }}' as attribute,
            {{ attribute }} as attribute_value,
            observed_at
        from records
        where {{ attribute }} is not null

        union all
    {%- endfor %}

    {%- for attribute, config in attributes.items() if config.get('from_identifier') %}

        select
            identifiers.source,
            identifiers.record_key,
            '{{ attribute }}' as attribute,
            identifiers.normalized_value as attribute_value,
            identifiers.observed_at
        from identifiers
        where
            identifiers.identifier_type = '{{ config.from_identifier }}'
            and not identifiers.is_prehashed

        union all
    {%- endfor %}

    -- Keeps the union well-formed while dbt parses; contributes no rows.
    select
        cast(null as {{ dbt.type_string() }}) as source,
        cast(null as {{ dbt.type_string() }}) as record_key,
        cast(null as {{ dbt.type_string() }}) as attribute,
        cast(null as {{ dbt.type_string() }}) as attribute_value,
        cast(null as {{ dbt.type_timestamp() }}) as observed_at
    where 1 = 0

),

attributed as (

    select
        customer_records.customer_id,
        declared.attribute,
        declared.attribute_value,
        declared.source,
        declared.record_key,
        declared.observed_at
    from declared
    inner join customer_records
        on
            declared.source = customer_records.source
            and declared.record_key = customer_records.record_key

)

select * from attributed
