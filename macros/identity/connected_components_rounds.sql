{#-
    The rounds method of onefold.connected_components (see connected_components.sql):
    any warehouse. One run_statements call per round (hook, move, contract, count what is left)
    into work tables named after the calling model or output table; returns the name of
    the last one, which holds (node_id, component_id).
-#}
{% macro connected_components_rounds(edges_sql, work_name, max_iterations, context) %}
    {%- set resolved = onefold.cc_work_table(work_name, 'resolved') -%}
    {%- set components = onefold.cc_work_table(work_name, 'components') -%}
    {%- set state = namespace(rounds=0, done=false) -%}
    {%- do onefold.run_statements(onefold.cc_work_schema_sql()
        + onefold.cc_work_table_sql(onefold.cc_work_table(work_name, 'edges_0'), onefold.cc_initial_edges_sql(edges_sql))) -%}
    {#- One round per call: hook, move, contract, drop the inputs, count what is left. -#}
    {%- for round in range(1, max_iterations + 1) -%}
    {%- if not state.done -%}
        {%- set edges = onefold.cc_work_table(work_name, 'edges_' ~ (round - 1)) -%}
        {%- set hooks = onefold.cc_work_table(work_name, 'hooks') -%}
        {%- set moves = onefold.cc_work_table(work_name, 'moves_' ~ round) -%}
        {%- set next_edges = onefold.cc_work_table(work_name, 'edges_' ~ round) -%}
        {%- set statements = onefold.cc_work_table_sql(hooks, onefold.cc_hooks_sql(edges))
            + onefold.cc_work_table_sql(moves, onefold.cc_moves_sql(hooks))
            + onefold.cc_work_table_sql(next_edges, onefold.cc_contract_sql(edges, moves))
            + ['drop table ' ~ hooks, 'drop table ' ~ edges, 'select count(*) from ' ~ next_edges] -%}
        {%- set remaining = onefold.run_statements(statements).columns[0].values()[0] -%}
        {%- set state.rounds = round -%}
        {%- if remaining == 0 -%}
            {%- set state.done = true -%}
        {%- endif -%}
    {%- endif -%}
    {%- endfor -%}
    {%- if not state.done -%}
        {%- do onefold.cc_drop_work_tables(work_name, max_iterations) -%}
        {{ exceptions.raise_compiler_error(onefold.cc_non_convergence_message(context, 'rounds', max_iterations)) }}
    {%- endif -%}
    {#-
        Back from the last round to the second: a group that moved in round r ends where
        its destination ends, which moved later (already resolved) or never.
    -#}
    {%- set statements = onefold.cc_work_table_sql(resolved,
        'select group_id, moved_to as root_id from ' ~ onefold.cc_work_table(work_name, 'moves_' ~ state.rounds)
        ~ ' where moved_to <> group_id and ' ~ state.rounds ~ ' > 1') -%}
    {%- for round in range(state.rounds - 1, 1, -1) -%}
        {%- set moves = onefold.cc_work_table(work_name, 'moves_' ~ round) -%}
        {%- do statements.append('insert into ' ~ resolved ~ ' (group_id, root_id) select moves.group_id,'
            ~ ' coalesce(later.root_id, moves.moved_to) from ' ~ moves ~ ' as moves'
            ~ ' left join ' ~ resolved ~ ' as later on later.group_id = moves.moved_to'
            ~ ' where moves.moved_to <> moves.group_id') -%}
        {%- do statements.append(onefold.cc_analyze_sql(resolved)) -%}
    {%- endfor -%}
    {%- set statements = statements + onefold.cc_work_table_sql(components,
        onefold.cc_components_sql(onefold.cc_work_table(work_name, 'moves_1'), resolved)) -%}
    {%- do onefold.run_statements(statements) -%}
    {%- do onefold.cc_drop_work_tables(work_name, state.rounds, keep_components=true) -%}
    {%- do log(context ~ ': ' ~ state.rounds ~ ' round(s) (method rounds)') -%}
    {{ return(components) }}
{% endmacro %}


{#-
    Work tables are temporary: private to the session (no clash with a concurrent run of
    the same model, nothing left behind by a crash), and named in the session's temporary
    schema so that a drop can never reach a real table of the same name.
-#}
{% macro cc_work_table(work_name, suffix) %}
    {%- set name = adapter.quote((work_name | lower)[:40] ~ '__cc_' ~ suffix) -%}
    {%- set schema = onefold.cc_temporary_schema() -%}
    {{ return(schema ~ '.' ~ name if schema else name) }}
{% endmacro %}

{% macro cc_temporary_schema() %}
    {{ return(adapter.dispatch('cc_temporary_schema', 'onefold')()) }}
{% endmacro %}

{% macro default__cc_temporary_schema() %}
    {{ return('') }}
{% endmacro %}

{#- Spark has no temporary tables: its work tables are parquet tables in a schema of
    their own beside the target's (two concurrent runs of one model would share them). -#}
{% macro spark__cc_temporary_schema() %}
    {{ return(target.schema ~ '_cc_work') }}
{% endmacro %}

{% macro postgres__cc_temporary_schema() %}
    {{ return('pg_temp') }}
{% endmacro %}

{% macro duckdb__cc_temporary_schema() %}
    {{ return('temp.main') }}
{% endmacro %}

{#- Statements that (re)create a work table from a SELECT. -#}
{% macro cc_work_table_sql(name, select_sql) %}
    {{ return(adapter.dispatch('cc_work_table_sql', 'onefold')(name, select_sql)) }}
{% endmacro %}

{% macro default__cc_work_table_sql(name, select_sql) %}
    {{ return(['drop table if exists ' ~ name, 'create temporary table ' ~ name ~ ' as ' ~ select_sql,
        onefold.cc_analyze_sql(name)]) }}
{% endmacro %}

{% macro spark__cc_work_table_sql(name, select_sql) %}
    {{ return(['drop table if exists ' ~ name, 'create table ' ~ name ~ ' using parquet as ' ~ select_sql]) }}
{% endmacro %}

{#- Statements that make sure the work tables' schema exists, once before a run's first
    work table (Spark's is a real schema; a statement per table cost a metastore call
    each, 90 of them in a match training). -#}
{% macro cc_work_schema_sql() %}
    {{ return(adapter.dispatch('cc_work_schema_sql', 'onefold')()) }}
{% endmacro %}

{% macro default__cc_work_schema_sql() %}
    {{ return([]) }}
{% endmacro %}

{% macro spark__cc_work_schema_sql() %}
    {{ return(['create schema if not exists ' ~ onefold.cc_temporary_schema()]) }}
{% endmacro %}

{#- Postgres does not analyze temporary tables by itself; the planner needs row counts. -#}
{% macro cc_analyze_sql(name) %}
    {{ return(adapter.dispatch('cc_analyze_sql', 'onefold')(name)) }}
{% endmacro %}

{% macro default__cc_analyze_sql(name) %}
    {{ return('') }}
{% endmacro %}

{% macro postgres__cc_analyze_sql(name) %}
    {{ return('analyze ' ~ name) }}
{% endmacro %}

{#- Drops a run's work tables; rounds bounds the per-round tables to look for. -#}
{% macro cc_drop_work_tables(work_name, rounds=none, keep_components=false) %}
    {%- set rounds = rounds if rounds is not none else onefold.cc_max_iterations() -%}
    {%- set names = ['resolved', 'hooks'] -%}
    {%- if not keep_components -%}
        {%- do names.append('components') -%}
    {%- endif -%}
    {%- for round in range(0, rounds + 1) -%}
        {%- do names.append('edges_' ~ round) -%}
        {%- do names.append('moves_' ~ round) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for name in names -%}
        {%- do statements.append('drop table if exists ' ~ onefold.cc_work_table(work_name, name)) -%}
    {%- endfor -%}
    {%- do onefold.run_statements(statements) -%}
    {{ return('') }}
{% endmacro %}
