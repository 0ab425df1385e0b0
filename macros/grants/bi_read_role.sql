{#-
    BI tools read the marts through one read-only role (onefold__bi_read_role) that
    never sees PII; a second role (onefold__pii_read_role) reads the marts themselves,
    PII included. On PostgreSQL both roles are created if missing (on-run-start, nologin:
    grant them to your users) and, at the end of the run:
    - every marts schema `<schema>` gets a companion `<schema>_bi` holding one view per
      mart without the columns its YAML marks `meta: {pii: true}`;
    - the BI role gets usage on the `_bi` schemas and select on their views, and
      nothing on the marts schemas themselves (grants from earlier versions revoked);
    - the PII role gets usage and select on both.
    One statement per schema (grants from concurrent model threads collide in
    PostgreSQL's catalog). Neither role gets anything on raw, staging or intermediate
    schemas. DuckDB has no roles: both hooks are no-ops there. Set a role var to null to
    manage that role's grants yourself.
-#}
{% macro create_bi_read_role() %}
    {{ return(adapter.dispatch('create_bi_read_role', 'onefold')()) }}
{% endmacro %}

{% macro default__create_bi_read_role() %}
    select 1
{% endmacro %}

{% macro postgres__create_bi_read_role() %}
    {%- set roles = [var('onefold__bi_read_role'), var('onefold__pii_read_role')] | select | list -%}
    {%- for role in roles %}
    do $$
    begin
        if not exists (select 1 from pg_roles where rolname = '{{ role }}') then
            create role {{ adapter.quote(role) }} nologin;
        end if;
    end
    $$;
    {%- endfor %}
    select 1
{% endmacro %}


{% macro grant_marts_to_bi_role() %}
    {{ return(adapter.dispatch('grant_marts_to_bi_role', 'onefold')()) }}
{% endmacro %}

{% macro default__grant_marts_to_bi_role() %}
    select 1
{% endmacro %}

{#- The mart models of one schema, by relation name, with their PII column names. -#}
{% macro marts_by_schema() %}
    {%- set schemas = {} -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.package_name == onefold.package_name()
            and node.fqn[1] == 'marts' -%}
        {%- set pii = [] -%}
        {%- for column in node.columns.values() -%}
            {%- if column.meta.get('pii') or (column.config is defined and column.config.meta.get('pii')) -%}
                {%- do pii.append(column.name | lower) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do schemas.setdefault(node.schema, {}).update(
            {node.alias: {'database': node.database, 'pii': pii}}) -%}
    {%- endfor -%}
    {{ return(schemas) }}
{% endmacro %}


{% macro postgres__grant_marts_to_bi_role() %}
    {%- set bi_role = var('onefold__bi_read_role') -%}
    {%- set pii_role = var('onefold__pii_read_role') -%}
    {%- set statements = [] -%}
    {%- if execute and (bi_role or pii_role) -%}
        {%- for schema, marts in onefold.marts_by_schema().items() -%}
            {%- set database = (marts.values() | first).database -%}
            {#- A run that builds no marts (dbt seed) may come before the schema exists. -#}
            {%- if adapter.check_schema_exists(database, schema) -%}
                {%- set bi_schema = schema ~ '_bi' -%}
                {%- set columns = run_query(
                    "select table_name, column_name from information_schema.columns"
                    ~ " where table_schema = '" ~ schema ~ "' order by table_name, ordinal_position") -%}
                {%- do statements.append('create schema if not exists ' ~ adapter.quote(bi_schema)) -%}
                {%- for mart, declared in marts.items() -%}
                    {%- set kept = [] -%}
                    {%- for row in columns.rows
                        if row[0] == mart and (row[1] | lower) not in declared.pii -%}
                        {%- do kept.append(adapter.quote(row[1])) -%}
                    {%- endfor -%}
                    {%- set view = adapter.quote(bi_schema) ~ '.' ~ adapter.quote(mart) -%}
                    {%- do statements.append('drop view if exists ' ~ view) -%}
                    {%- if kept -%}
                        {%- do statements.append(
                            'create view ' ~ view ~ ' as select ' ~ (kept | join(', '))
                            ~ ' from ' ~ adapter.quote(schema) ~ '.' ~ adapter.quote(mart)) -%}
                    {%- endif -%}
                {%- endfor -%}
                {%- for role, granted, revoked in [
                        (bi_role, [bi_schema], [schema]),
                        (pii_role, [schema, bi_schema], [])] if role -%}
                    {%- for target_schema in revoked -%}
                        {%- do statements.append('revoke select on all tables in schema '
                            ~ adapter.quote(target_schema) ~ ' from ' ~ adapter.quote(role)) -%}
                        {%- do statements.append('revoke usage on schema '
                            ~ adapter.quote(target_schema) ~ ' from ' ~ adapter.quote(role)) -%}
                    {%- endfor -%}
                    {%- for target_schema in granted -%}
                        {%- do statements.append('grant usage on schema '
                            ~ adapter.quote(target_schema) ~ ' to ' ~ adapter.quote(role)) -%}
                        {%- do statements.append('grant select on all tables in schema '
                            ~ adapter.quote(target_schema) ~ ' to ' ~ adapter.quote(role)) -%}
                    {%- endfor -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for statement in statements %}
    {{ statement }};
    {%- endfor %}
    select 1
{% endmacro %}
