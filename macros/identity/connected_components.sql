{#-
    Connected components of an undirected graph, in SQL, exact and deterministic.

    Input: a relation with columns left_node_id, right_node_id (bigint). Edges are
    undirected and may come in both directions, repeated, or as self-loops (a, a): a
    self-loop is how an isolated node gets a component. A row with one null end keeps
    the other end as a node; a row of two nulls is ignored.
    Output: one row per distinct node, (node_id bigint, component_id bigint), where
    component_id is the smallest node_id of the node's component.

    Both methods contract the graph in rounds. A round hooks every group to its smallest
    neighbouring group, moves the groups whose hook lands on a root (a group hooked to
    itself) one or two steps away, rewrites the edges to the new groups, drops the ones
    inside a group and keeps each remaining pair once. Groups that still have a
    neighbour merge every round, the edge list shrinks geometrically, and the rounds
    stop when no edge crosses groups. A group moves at most once over all rounds, so
    where each node ended is resolved from the last round back to the first.
    Groups are ordered by a bijective mix of the node id (cc_priority), not by the id
    itself, so a chain whose ids increase along it contracts as fast as any other graph;
    the output still labels each component with its smallest node_id.

    Methods (var onefold__components_method, or the method argument):
      recursive  DuckDB only: one WITH RECURSIVE query, the rounds as a recursive CTE and
                 the back-resolution as a USING KEY CTE that reads recurring state
                 (connected_components_recursive.sql, the one macro sqlfluff cannot parse).
      rounds     any warehouse: the same rounds, one run_query call per round into
                 temporary work tables; the model selects from the last. The model must
                 be a table (or incremental), and its input a table or view.
      auto       recursive on DuckDB, rounds elsewhere.
    Var onefold__components_max_iterations bounds the rounds; reaching it fails the run
    naming the relation, the bound and the var.
-#}


{#- The SELECT for a model body: {{ onefold.connected_components(ref('edges')) }}. -#}
{% macro connected_components(edges_relation, method=none) %}
    {{ return(adapter.dispatch('connected_components', 'onefold')(edges_relation, method)) }}
{% endmacro %}

{% macro default__connected_components(edges_relation, method) %}
    {%- if model is defined and model is mapping and model.get('resource_type') == 'unit_test' -%}
        {#- A unit test feeds a fixture CTE: nothing can run ahead of the query. -#}
        {{ return(onefold.connected_components_select(edges_relation, none, method, in_unit_test=true)) }}
    {%- endif -%}
    {%- set work_name = this.identifier if this is defined and this else 'connected_components' -%}
    {{ return(onefold.connected_components_select(edges_relation, work_name, method)) }}
{% endmacro %}


{#-
    `dbt run-operation materialize_connected_components --args '{edges_relation:
    raw.edges, output_relation: scratch.components, method: rounds}'`: (re)creates
    output_relation from any edges table. Relations are "identifier", "schema.identifier"
    or "database.schema.identifier" (unquoted, as named in the warehouse).
-#}
{% macro materialize_connected_components(edges_relation, output_relation, method=none) %}
    {{ return(adapter.dispatch('materialize_connected_components', 'onefold')(edges_relation, output_relation, method)) }}
{% endmacro %}

{% macro default__materialize_connected_components(edges_relation, output_relation, method) %}
    {%- set edges = onefold.cc_relation(edges_relation) -%}
    {%- set output = onefold.cc_relation(output_relation) -%}
    {%- set started = modules.datetime.datetime.now() -%}
    {%- set select_sql = onefold.connected_components_select(edges, output.identifier, method) -%}
    {%- set staged = output.incorporate(path={'identifier': (output.identifier | lower)[:40] ~ '__cc_new'}) -%}
    {%- do run_query('create schema if not exists ' ~ adapter.quote(output.schema)) -%}
    {%- do run_query('drop table if exists ' ~ staged) -%}
    {#- Build beside the old output and swap, so a failed run leaves the old one. -#}
    {%- do run_query('create table ' ~ staged ~ ' as ' ~ select_sql) -%}
    {%- do run_query('drop table if exists ' ~ output) -%}
    {%- do run_query('alter table ' ~ staged ~ ' rename to ' ~ adapter.quote(output.identifier)) -%}
    {%- do onefold.cc_drop_work_tables(output.identifier) -%}
    {%- do onefold.cc_commit() -%}
    {%- set seconds = (modules.datetime.datetime.now() - started).total_seconds() -%}
    {%- do log('connected components of ' ~ edges ~ ' written to ' ~ output ~ ' in '
        ~ '%.3f' | format(seconds) ~ ' s', info=true) -%}
{% endmacro %}


{#-
    The shared core of both entry points. Returns the SELECT that produces
    (node_id, component_id). For the rounds method it first runs the rounds into
    temporary tables named after work_name (the calling model or the output table) and
    returns a select from the last one; that table lives in the session (dbt keeps one
    connection per thread, so the model's create-table-as sees it) and goes away with
    the session or at connected_components_cleanup.
-#}
{% macro connected_components_select(edges_relation, work_name, method=none, in_unit_test=false) %}
    {%- if not execute -%}
        {{ return(onefold.cc_placeholder_sql('parsing')) }}
    {%- endif -%}
    {%- set chosen = onefold.connected_components_method(method) -%}
    {%- set max_iterations = onefold.cc_max_iterations() -%}
    {%- set edges_sql = onefold.cc_edges_sql(edges_relation) -%}
    {%- set context = onefold.cc_context_label(edges_relation) -%}
    {%- if chosen == 'recursive' -%}
        {{ return(onefold.connected_components_recursive(edges_sql, max_iterations, context)) }}
    {%- elif in_unit_test -%}
        {{ return(onefold.connected_components_reachability(edges_sql)) }}
    {%- elif flags.WHICH not in ['run', 'build', 'run-operation', 'show', 'retry'] -%}
        {#- compile, docs generate, linters: do not run the rounds, show where they go. -#}
        {{ return(onefold.cc_placeholder_sql(flags.WHICH)) }}
    {%- endif -%}
    {%- set materialized = model.get('config', {}).get('materialized') if model is defined and model is mapping else none -%}
    {%- if model is defined and model is mapping and model.get('resource_type') == 'model'
        and materialized in ['view', 'ephemeral', 'materialized_view'] -%}
        {{ exceptions.raise_compiler_error(context ~ ": the rounds method reads session-scoped work tables, so "
            ~ "the model must be materialized as a table or incremental, not '" ~ materialized ~ "'.") }}
    {%- endif -%}
    {%- set components = onefold.connected_components_rounds(edges_sql, work_name, max_iterations, context) -%}
    {{ return('select node_id, component_id from ' ~ components) }}
{% endmacro %}


{#- 'recursive' or 'rounds' from the argument or var onefold__components_method. -#}
{% macro connected_components_method(method=none) %}
    {%- set requested = (method or var('onefold__components_method')) | string | lower -%}
    {%- if requested not in ['auto', 'recursive', 'rounds'] -%}
        {{ exceptions.raise_compiler_error(
            "onefold.connected_components: unknown method '" ~ requested ~ "' (var "
            ~ "onefold__components_method or the method argument); use auto, recursive or rounds.") }}
    {%- endif -%}
    {%- set recursive_ok = onefold.cc_supports_recursive() -%}
    {%- if requested == 'recursive' and not recursive_ok -%}
        {{ exceptions.raise_compiler_error(
            "onefold.connected_components: method 'recursive' needs DuckDB (WITH RECURSIVE ... "
            ~ "USING KEY); the " ~ target.type ~ " target must use 'rounds'. Set var "
            ~ "onefold__components_method to auto or rounds.") }}
    {%- endif -%}
    {%- if requested == 'auto' -%}
        {{ return('recursive' if recursive_ok else 'rounds') }}
    {%- endif -%}
    {{ return(requested) }}
{% endmacro %}

{% macro cc_supports_recursive() %}
    {{ return(adapter.dispatch('cc_supports_recursive', 'onefold')()) }}
{% endmacro %}

{% macro default__cc_supports_recursive() %}
    {{ return(false) }}
{% endmacro %}

{% macro duckdb__cc_supports_recursive() %}
    {{ return(true) }}
{% endmacro %}

{% macro cc_max_iterations() %}
    {%- set value = var('onefold__components_max_iterations') -%}
    {%- if value is not number and not (value is string and value.isdigit()) -%}
        {{ exceptions.raise_compiler_error(
            "var onefold__components_max_iterations must be a positive integer, got '" ~ value ~ "'") }}
    {%- endif -%}
    {%- if value | int < 1 -%}
        {{ exceptions.raise_compiler_error(
            "var onefold__components_max_iterations must be at least 1, got " ~ value) }}
    {%- endif -%}
    {{ return(value | int) }}
{% endmacro %}


{#- What the errors name: the model being built (if any) and the edges relation. -#}
{% macro cc_context_label(edges_relation) %}
    {%- set label = 'connected components of ' ~ edges_relation -%}
    {%- if model is defined and model is mapping and model.get('resource_type') == 'model' -%}
        {%- set label = label ~ ' (model ' ~ model.get('name') ~ ')' -%}
    {%- endif -%}
    {{ return(label) }}
{% endmacro %}

{% macro cc_non_convergence_message(context, method, max_iterations) %}
    {{ return(context ~ ': did not converge within ' ~ max_iterations ~ ' round(s) (method ' ~ method
        ~ '). Raise var onefold__components_max_iterations (now ' ~ max_iterations
        ~ '), e.g. --vars \'{onefold__components_max_iterations: ' ~ max_iterations * 2 ~ '}\'.') }}
{% endmacro %}


{#- Right columns and types, no rows: for parsing, compile and docs. -#}
{% macro cc_placeholder_sql(reason) %}
    {{ return('select cast(null as ' ~ dbt.type_bigint() ~ ') as node_id, cast(null as '
        ~ dbt.type_bigint() ~ ') as component_id where 1 = 0'
        ~ ' /* onefold.connected_components runs at execution time (' ~ reason ~ ') */') }}
{% endmacro %}


{#- "db.schema.name", "schema.name" or "name" (target schema), or a relation. -#}
{% macro cc_relation(name) %}
    {%- if name is not string -%}
        {{ return(name) }}
    {%- endif -%}
    {%- set parts = name.split('.') -%}
    {%- if parts | length == 3 -%}
        {{ return(api.Relation.create(database=parts[0], schema=parts[1], identifier=parts[2], type='table')) }}
    {%- elif parts | length == 2 -%}
        {{ return(api.Relation.create(database=target.get('database'), schema=parts[0], identifier=parts[1], type='table')) }}
    {%- elif parts | length == 1 -%}
        {{ return(api.Relation.create(database=target.get('database'), schema=target.schema, identifier=parts[0], type='table')) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("onefold.connected_components: cannot read relation name '" ~ name
        ~ "'; use identifier, schema.identifier or database.schema.identifier") }}
{% endmacro %}


{#-
    The input as a subquery with exactly the two columns, whatever the relation renders
    as (a table, or dbt's `--empty` / unit-test substitutes).
-#}
{% macro cc_edges_sql(edges_relation) %}
    {{ return('(select cast(left_node_id as ' ~ dbt.type_bigint() ~ ') as left_node_id, cast(right_node_id as '
        ~ dbt.type_bigint() ~ ') as right_node_id from ' ~ edges_relation ~ ')') }}
{% endmacro %}


{#-
    Drops the rounds method's work tables of a model (default: the current one). The
    method drops them all itself except the last, which the model's create-table-as
    reads and which goes away with the session at the end of the dbt invocation; a
    model that wants it gone sooner can add
    post_hook="{{ onefold.connected_components_cleanup() }}".
-#}
{% macro connected_components_cleanup(work_name=none) %}
    {%- if execute -%}
        {%- do onefold.cc_drop_work_tables(work_name or this.identifier) -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}

{#- run-operation leaves the transaction to the macro: Postgres needs the commit. -#}
{% macro cc_commit() %}
    {{ return(adapter.dispatch('cc_commit', 'onefold')()) }}
{% endmacro %}

{% macro default__cc_commit() %}
    {%- do run_query('commit') -%}
{% endmacro %}

{#- DuckDB statements autocommit here (no transaction is open); Spark has none. -#}
{% macro duckdb__cc_commit() %}
{% endmacro %}

{% macro spark__cc_commit() %}
{% endmacro %}
