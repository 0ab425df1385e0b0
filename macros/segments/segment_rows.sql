{#-
    When this run evaluated segments: onefold__now when set (reproducible runs and
    tests), else the time the dbt invocation started, UTC.
-#}
{% macro run_timestamp() -%}
    {%- if var('onefold__now') -%}
        cast('{{ var("onefold__now") }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}


{#- onefold__segments as rows: name, description, owner, predicate, purposes. -#}
{% macro segment_definition_rows() -%}
    {%- for name, segment in var('onefold__segments').items() %}
        select
            cast('{{ name }}' as {{ dbt.type_string() }}) as segment_name,
            cast({{ onefold.sql_text(segment.description) }} as {{ dbt.type_string() }}) as description,
            cast({{ onefold.sql_text(segment.owner) }} as {{ dbt.type_string() }}) as owner,
            cast({{ onefold.sql_text(segment.predicate) }} as {{ dbt.type_string() }}) as predicate,
            cast('{{ onefold.segment_purposes(name) | join(",") }}' as {{ dbt.type_string() }}) as required_purposes,
            cast('{{ onefold.segment_destinations(name) | join(",") }}' as {{ dbt.type_string() }}) as destinations
        {% if not loop.last %}union all{% endif %}
    {%- else %}
        {#- A project that declares no segments: no rows, the same columns. #}
        select
            cast(null as {{ dbt.type_string() }}) as segment_name,
            cast(null as {{ dbt.type_string() }}) as description,
            cast(null as {{ dbt.type_string() }}) as owner,
            cast(null as {{ dbt.type_string() }}) as predicate,
            cast(null as {{ dbt.type_string() }}) as required_purposes,
            cast(null as {{ dbt.type_string() }}) as destinations
        where false
    {%- endfor %}
{%- endmacro %}


{#- The spells still open in `history` (segment_membership_history's relation); none
    when it was never built. -#}
{% macro open_membership_spells(history) -%}
    {%- if history is not none -%}
        select
            segment_membership_spell_id,
            segment_name,
            customer_id,
            entered_at
        from {{ history }}
        where exited_at is null
    {%- else -%}
        select
            cast(null as {{ dbt.type_string() }}) as segment_membership_spell_id,
            cast(null as {{ dbt.type_string() }}) as segment_name,
            cast(null as {{ dbt.type_string() }}) as customer_id,
            cast(null as {{ dbt.type_timestamp() }}) as entered_at
        where false
    {%- endif -%}
{%- endmacro %}
