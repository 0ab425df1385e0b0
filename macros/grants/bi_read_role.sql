{#-
    BI tools read the marts through one read-only role (onefold__bi_read_role). On
    PostgreSQL the role is created if missing (on-run-start) and every mart grants it
    usage on its schema and select on itself (post-hook); it gets nothing on raw,
    staging or intermediate schemas. DuckDB has no roles: both are no-ops there.
    Set the var to null to manage grants yourself.
-#}
{% macro create_bi_read_role() %}
    {{ return(adapter.dispatch('create_bi_read_role', 'onefold')()) }}
{% endmacro %}

{% macro default__create_bi_read_role() %}
    select 1
{% endmacro %}

{% macro postgres__create_bi_read_role() %}
    {%- set role = var('onefold__bi_read_role') -%}
    {%- if role %}
    do $$
    begin
        if not exists (select 1 from pg_roles where rolname = '{{ role }}') then
            create role {{ adapter.quote(role) }} nologin;
        end if;
    end
    $$
    {%- else %}
    select 1
    {%- endif %}
{% endmacro %}


{% macro grant_read_to_bi_role() %}
    {{ return(adapter.dispatch('grant_read_to_bi_role', 'onefold')()) }}
{% endmacro %}

{% macro default__grant_read_to_bi_role() %}
    select 1
{% endmacro %}

{% macro postgres__grant_read_to_bi_role() %}
    {%- set role = var('onefold__bi_read_role') -%}
    {%- if role %}
    grant usage on schema {{ adapter.quote(this.schema) }} to {{ adapter.quote(role) }};
    grant select on {{ this }} to {{ adapter.quote(role) }}
    {%- else %}
    select 1
    {%- endif %}
{% endmacro %}
