{#-
    One row per segment and current member: every customer satisfying the segment's
    predicate (onefold__segments) at this run.
-#}
{{ config(alias=onefold.mart_alias()) }}

with

customers as (

    select * from {{ ref('customers') }}

),

memberships as (

    {%- if not var('onefold__segments') %}
        -- No segments declared: no members (and no dependency on the predicates).
        select
            cast(null as {{ dbt.type_string() }}) as segment_name,
            customer_id
        from customers
        where false
    {%- endif %}
    {%- for name, segment in var('onefold__segments').items() %}
        select
            cast('{{ name }}' as {{ dbt.type_string() }}) as segment_name,
            customer_id
        from customers
        where ({{ segment.predicate }})
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        cast(segment_name || ':' || customer_id as {{ dbt.type_string() }}) as segment_membership_id,
        segment_name,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        {{ onefold.run_timestamp() }} as evaluated_at
    from memberships

)

select * from final
