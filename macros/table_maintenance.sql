{#-
    After a model is built (a post-hook of every Onefold model, dbt_project.yml): on
    PostgreSQL, fresh statistics and an index on an incremental model's unique key.

    - ANALYZE: PostgreSQL plans the next model's joins from table statistics, and a
      table that CREATE TABLE AS or an incremental run just wrote has none (autovacuum
      gets to it a minute or more later, mid-build or never): the planner then guesses
      a few hundred rows, and picks nested loops over millions. ANALYZE samples a
      fixed number of rows (300 x default_statistics_target), about a second at any size.
    - An index on the unique key of an incremental model: each later run deletes the
      rows it replaces by that key (delete+insert) and the models that read it look up
      what changed; without an index every run scans the whole table. Created once
      (`if not exists`); a full refresh recreates the table, and the index with it.

    Var onefold__postgres_table_maintenance: false switches both off (to compare build
    times, or where a DBA manages statistics). Views and ephemeral models get nothing; DuckDB needs neither (it keeps statistics as
    it writes, and its hash joins do not use indexes).
-#}
{% macro table_maintenance() %}
    {{ return(adapter.dispatch('table_maintenance', 'onefold')()) }}
{% endmacro %}

{% macro default__table_maintenance() %}
    {{ return('') }}
{% endmacro %}

{% macro postgres__table_maintenance() %}
    {%- if not execute or model is not mapping or not var('onefold__postgres_table_maintenance') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set materialized = model.get('config', {}).get('materialized') -%}
    {%- if materialized not in ['table', 'incremental'] -%}
        {{ return('') }}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- set unique_key = model.get('config', {}).get('unique_key') -%}
    {%- if materialized == 'incremental' and unique_key -%}
        {%- set columns = [unique_key] if unique_key is string else unique_key -%}
        {%- set quoted = [] -%}
        {%- for column in columns -%}
            {#- A unique_key string may list columns: 'customer_id, attribute'. -#}
            {%- for name in column.split(',') -%}
                {%- do quoted.append(adapter.quote(name | trim)) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- do statements.append('create index if not exists '
            ~ adapter.quote((this.identifier | lower)[:40] ~ '__unique_key')
            ~ ' on ' ~ this ~ ' (' ~ (quoted | join(', ')) ~ ')') -%}
    {%- endif -%}
    {%- do statements.append('analyze ' ~ this) -%}
    {{ return(statements | join(';\n')) }}
{% endmacro %}


{#-
    Before a model is built (a pre-hook of every Onefold model, dbt_project.yml): on
    PostgreSQL, `set` each of var onefold__postgres_session_settings on dbt's session.
    dbt opens a connection per node and closes it after, so a model's settings end with
    it; data tests have no hooks: the package's own tests that read the staging views
    (reconciles_with_source) `set` them while they compile, on the connection they then
    run on. dbt's built-in tests run with the server's settings.

    The default turns JIT compilation off: the staging views' plans carry PL/pgSQL
    safe casts and the suppression subplans, whose estimated costs pass
    jit_above_cost even on small tables, and JIT then compiles hundreds of expressions
    for one statement: int_identifier_observations at 10k persons took 41.5 s with JIT
    and 9.9 s without (docs/benchmarks.md). `{}` leaves the server's settings alone.
-#}
{% macro session_settings() %}
    {{ return(adapter.dispatch('session_settings', 'onefold')()) }}
{% endmacro %}

{% macro default__session_settings() %}
    {{ return('') }}
{% endmacro %}

{% macro postgres__session_settings() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- for name, value in var('onefold__postgres_session_settings').items() -%}
        {%- do statements.append('set ' ~ name ~ " = '" ~ (value | string | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
{% endmacro %}


{#-
    SQL that deletes the rows of `table` for which `condition` holds (every row without
    one); `alias` names the table in the condition. For a model's pre-hook: dbt renders
    a hook when it runs it and skips one that renders empty.
-#}
{% macro delete_rows(table, condition=none, alias=none) %}
    {{ return(adapter.dispatch('delete_rows', 'onefold')(table, condition, alias)) }}
{% endmacro %}

{% macro default__delete_rows(table, condition, alias) %}
    {{ return('delete from ' ~ table ~ (' as ' ~ alias if alias else '')
        ~ (' where ' ~ condition if condition else '')) }}
{% endmacro %}

{#-
    Spark deletes no rows from a parquet table: copy on write, as data lakes delete.
    The rows to keep go to a work table, which then overwrites the table (Spark refuses
    to overwrite a table the same statement reads); run here, so the hook renders empty.
    A row whose condition is unknown (null) stays, as DELETE keeps it: `x in (subquery)`
    is unknown for every x the subquery lacks once it returns a null.
-#}
{% macro spark__delete_rows(table, condition, alias) %}
    {%- if not condition -%}
        {{ return('truncate table ' ~ table) }}
    {%- endif -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set kept = onefold.cc_work_table((table | string).replace('`', '').split('.')[-1], 'kept') -%}
    {%- set statements = onefold.cc_work_schema_sql() + onefold.cc_work_table_sql(kept, 'select * from ' ~ table ~ (' as ' ~ alias if alias else '')
        ~ ' where (' ~ condition ~ ') is not true') -%}
    {%- do statements.append('insert overwrite table ' ~ table ~ ' select * from ' ~ kept) -%}
    {%- do statements.append('drop table if exists ' ~ kept) -%}
    {%- do onefold.run_statements(statements) -%}
    {{ return('') }}
{% endmacro %}


{#- SQL that sets columns (`assignments`: {column: SQL}) of the rows of `table` for
    which `condition` holds; run and rendered empty on Spark, like delete_rows. -#}
{% macro update_rows(table, assignments, condition) %}
    {{ return(adapter.dispatch('update_rows', 'onefold')(table, assignments, condition)) }}
{% endmacro %}

{% macro default__update_rows(table, assignments, condition) %}
    {%- set settings = [] -%}
    {%- for column, value in assignments.items() -%}
        {%- do settings.append(column ~ ' = ' ~ value) -%}
    {%- endfor -%}
    {{ return('update ' ~ table ~ ' set ' ~ settings | join(', ') ~ ' where ' ~ condition) }}
{% endmacro %}

{#- Spark: copy on write. The changed rows and the others are two filters (a subquery
    may stand in a filter there, not in a select list's CASE); a row whose condition is
    unknown stays unchanged, as in spark__delete_rows. -#}
{% macro spark__update_rows(table, assignments, condition) %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set columns = run_query('select * from ' ~ table ~ ' limit 0').column_names -%}
    {%- set changed = [] -%}
    {%- for column in columns -%}
        {%- do changed.append(assignments[column] ~ ' as ' ~ column if column in assignments else column) -%}
    {%- endfor -%}
    {%- set kept = onefold.cc_work_table((table | string).replace('`', '').split('.')[-1], 'updated') -%}
    {%- set statements = onefold.cc_work_schema_sql() + onefold.cc_work_table_sql(kept, 'select ' ~ changed | join(', ') ~ ' from ' ~ table
        ~ ' where ' ~ condition ~ ' union all select * from ' ~ table ~ ' where (' ~ condition ~ ') is not true') -%}
    {%- do statements.append('insert overwrite table ' ~ table ~ ' select * from ' ~ kept) -%}
    {%- do statements.append('drop table if exists ' ~ kept) -%}
    {%- do onefold.run_statements(statements) -%}
    {{ return('') }}
{% endmacro %}
