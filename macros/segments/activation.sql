{#-
    One row per (segment, destination, purpose) a member must have granted to be
    activated there: the segment's purposes and the destination's (purpose null for a
    pair that needs none).
-#}
{% macro activation_requirement_rows() -%}
    {%- set rows = [] -%}
    {%- for name in var('onefold__segments') -%}
        {%- for destination in onefold.segment_destinations(name) -%}
            {%- set purposes = [] -%}
            {%- for purpose in onefold.segment_purposes(name) + var('onefold__destinations')[destination].get('purposes', []) if purpose not in purposes -%}
                {%- do purposes.append(purpose) -%}
            {%- endfor -%}
            {#- A pair that needs no purpose still gets a row (purpose null). -#}
            {%- for purpose in purposes or [none] -%}
                {%- do rows.append("select cast('" ~ name ~ "' as " ~ dbt.type_string() ~ ") as segment_name, cast('"
                    ~ destination ~ "' as " ~ dbt.type_string() ~ ") as destination_name, cast("
                    ~ ("'" ~ purpose ~ "'" if purpose else "null") ~ " as " ~ dbt.type_string() ~ ") as purpose") -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if rows -%}
        {{ rows | join('\n        union all\n        ') }}
    {%- else -%}
        select
            cast(null as {{ dbt.type_string() }}) as segment_name,
            cast(null as {{ dbt.type_string() }}) as destination_name,
            cast(null as {{ dbt.type_string() }}) as purpose
        where false
    {%- endif -%}
{%- endmacro %}


{#-
    The identifier a destination matches on, in the form it expects (onefold__destinations
    identifiers: plain or sha256), for rows whose destination takes it in that form;
    null for the others.
-#}
{% macro destination_identifier(destination_column, identifier_column, identifier, form) -%}
    {%- set destinations = [] -%}
    {%- for destination, settings in var('onefold__destinations').items() if settings.identifiers.get(identifier) == form -%}
        {%- do destinations.append(destination) -%}
    {%- endfor -%}
    {%- if not destinations -%}
        cast(null as {{ dbt.type_string() }})
    {%- elif form == 'sha256' -%}
        case when {{ destination_column }} in ({{ onefold.sql_text_list(destinations) }}) then {{ onefold.sha256_hex(identifier_column) }} end
    {%- else -%}
        case when {{ destination_column }} in ({{ onefold.sql_text_list(destinations) }}) then {{ identifier_column }} end
    {%- endif -%}
{%- endmacro %}


{#-
    The customers whose activation_audiences rows a run recomputes (docs/
    consent-and-segments.md, "Incremental runs"), as a query of customer_id: those
    whose segment membership changed (int_segment_changes), those whose golden email
    or phone or consent was recomputed (int_customers_affected), and those under an
    erasure request.
-#}
{% macro audience_customers() -%}
    select changes.customer_id from {{ ref('int_segment_changes') }} as changes
    union
    select affected.customer_id from {{ ref('int_customers_affected') }} as affected
    {%- if onefold.source_enabled('privacy') %}
    union
    select requested.customer_id from {{ ref('int_erasure_request_customers') }} as requested
    {%- endif %}
{%- endmacro %}
