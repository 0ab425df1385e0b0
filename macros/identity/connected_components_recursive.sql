{#-
    The recursive method of onefold.connected_components (see connected_components.sql):
    one WITH RECURSIVE query. sqlfluff's dialects cannot parse USING KEY, so this is the
    only macro that writes it; keep it alone in this file.

    cc_first_*: the first round, over the whole input, as plain CTEs.
    cc_rounds (recursive CTE): each step reads the edges the previous step emitted (the
      working table), hooks, moves and contracts with the shared pieces, and emits this
      round's moves (kind 1) and the contracted edges (kind 0). It stops when a round
      leaves no edge, or after onefold__components_max_iterations rounds.
    cc_resolved (USING KEY on group_id): walks the rounds back from the last; each step
      looks the destinations of round r's moves up in the accumulated state,
      recurring.cc_resolved, to take their root (the root of my destination).
    cc_guard: the rounds hit the bound with edges left: DuckDB's error() fails the query
      with the message the rounds method raises.
-#}
{% macro connected_components_recursive(edges_sql, max_iterations, context) %}
    {{ return(adapter.dispatch('connected_components_recursive', 'onefold')(edges_sql, max_iterations, context)) }}
{% endmacro %}

{% macro default__connected_components_recursive(edges_sql, max_iterations, context) %}
    {{ exceptions.raise_compiler_error(context ~ ": method 'recursive' needs DuckDB; use 'rounds' on "
        ~ target.type ~ " (var onefold__components_method).") }}
{% endmacro %}

{% macro duckdb__connected_components_recursive(edges_sql, max_iterations, context) %}
    {%- set message = onefold.cc_non_convergence_message(context, 'recursive', max_iterations) -%}
    {%- set sql -%}
with recursive
cc_initial_edges as materialized (
    {{ onefold.cc_initial_edges_sql(edges_sql) }}
),

cc_first_hooks as materialized (
    {{ onefold.cc_hooks_sql('cc_initial_edges') }}
),

cc_first_moves as materialized (
    {{ onefold.cc_moves_sql('cc_first_hooks') }}
),

cc_rounds (kind, left_group, right_group, round) as (
    select 0, contracted.left_group, contracted.right_group, 1
    from ({{ onefold.cc_contract_sql('cc_initial_edges', 'cc_first_moves') }}) as contracted
    union all
    (
        with
        cc_edges as (
            select left_group, right_group, round from cc_rounds
            where kind = 0 and round < {{ max_iterations }}
        ),
        cc_round as (select max(round) + 1 as round from cc_edges),
        cc_hooks as materialized ({{ onefold.cc_hooks_sql('cc_edges') }}),
        cc_moves as materialized ({{ onefold.cc_moves_sql('cc_hooks') }}),
        cc_next_edges as ({{ onefold.cc_contract_sql('cc_edges', 'cc_moves') }})
        select 1, cc_moves.group_id, cc_moves.moved_to, cc_round.round
        from cc_moves cross join cc_round
        where cc_moves.moved_to <> cc_moves.group_id
        union all
        select 0, cc_next_edges.left_group, cc_next_edges.right_group, cc_round.round
        from cc_next_edges cross join cc_round
    )
),

cc_later_moves as materialized (
    select left_group as group_id, right_group as moved_to, round from cc_rounds where kind = 1
),

cc_resolved (group_id, root_id, round) using key (group_id) as (
    select group_id, moved_to, round from cc_later_moves
    where round = (select max(round) from cc_later_moves)
    union
    (
        select moves.group_id, coalesce(later.root_id, moves.moved_to), moves.round
        from cc_later_moves as moves
        left join recurring.cc_resolved as later on later.group_id = moves.moved_to
        where moves.round = (select max(round) from cc_resolved) - 1
    )
),

cc_guard as (
    select case when count(*) > 0 then error('{{ message | replace("'", "''") }}') else true end as converged
    from cc_rounds where kind = 0 and round >= {{ max_iterations }}
),

cc_components as (
    {{ onefold.cc_components_sql('cc_first_moves', 'cc_resolved') }}
)

select cc_components.node_id, cc_components.component_id
from cc_components cross join cc_guard
where cc_guard.converged
    {%- endset -%}
    {{ return(sql) }}
{% endmacro %}
