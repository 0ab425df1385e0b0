{#-
    BI tools read the marts through one read-only role (onefold__bi_read_role). On
    PostgreSQL the role is created if missing (on-run-start) and, at the end of the run,
    gets usage on the marts schemas and select on every table in them (one statement
    per schema: grants from concurrent model threads collide in PostgreSQL's catalog).
    It gets nothing on raw, staging or intermediate schemas. DuckDB has no roles: both
    hooks are no-ops there. Set the var to null to manage grants yourself.
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


{% macro grant_marts_to_bi_role() %}
    {{ return(adapter.dispatch('grant_marts_to_bi_role', 'onefold')()) }}
{% endmacro %}

{% macro default__grant_marts_to_bi_role() %}
    select 1
{% endmacro %}

{% macro postgres__grant_marts_to_bi_role() %}
    {%- set role = var('onefold__bi_read_role') -%}
    {%- set schemas = [] -%}
    {%- if execute and role -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.fqn[1] == 'marts' and node.schema not in schemas -%}
            {#- A run that builds no marts (dbt seed) may come before the schema exists. -#}
            {%- if adapter.check_schema_exists(node.database, node.schema) -%}
                {%- do schemas.append(node.schema) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for schema in schemas %}
    grant usage on schema {{ adapter.quote(schema) }} to {{ adapter.quote(role) }};
    grant select on all tables in schema {{ adapter.quote(schema) }} to {{ adapter.quote(role) }};
    {%- endfor %}
    select 1
{% endmacro %}
