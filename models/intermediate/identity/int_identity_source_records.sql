{#-
    One row per staged record of every identity source (the models that declare
    identifiers), whether or not it carries a usable identifier: the population the
    identity graph is responsible for. Records without any usable identifier (a walk-in
    sale, a junk-only event) are here but get no customer.
-#}
{{ onefold.identity_model_dependencies() }}
{%- set declarations = onefold.identifier_declarations() %}

with

source_records as (

    {%- for declaration in declarations %}

        select
            '{{ declaration.source }}' as source,
            cast({{ declaration.record_key }} as {{ dbt.type_string() }}) as record_key,
            cast({{ declaration.observed_at }} as {{ dbt.type_timestamp() }}) as observed_at
        from {{ declaration.relation }}

        union all
    {%- endfor %}

    -- Keeps the union well-formed while dbt parses; contributes no rows.
    select
        cast(null as {{ dbt.type_string() }}) as source,
        cast(null as {{ dbt.type_string() }}) as record_key,
        cast(null as {{ dbt.type_timestamp() }}) as observed_at
    where 1 = 0

)

select * from source_records
