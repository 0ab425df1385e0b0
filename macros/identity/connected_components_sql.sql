{#-
    The SQL pieces of onefold.connected_components (see connected_components.sql),
    shared by the recursive and the rounds methods. Each returns a SELECT over the named
    inputs. Groups are named by priority (cc_priority of a node id); a group that has
    not moved yet is named after the node it started as.
-#}

{#-
    A bijection of bigint onto bigint that scatters neighbouring ids: a 4-round Feistel
    network on the two 32-bit halves, with every product below 2^63 so no warehouse
    overflows. Only the order it induces matters (who hooks to whom); being a bijection,
    distinct nodes never share a priority, and cc_node_of_priority inverts it.
-#}
{% macro cc_priority_multipliers() %}
    {{ return(['1640531527', '1013904223', '1779033703', '2027178881']) }}
{% endmacro %}

{% macro cc_feistel_round(value, multiplier) %}
    {{ return('(((' ~ value ~ ') * ' ~ multiplier ~ ' >> 13) & 4294967295)') }}
{% endmacro %}

{% macro cc_priority(column) %}
    {%- set ns = namespace(left='((' ~ column ~ ' >> 32) & 4294967295)', right='(' ~ column ~ ' & 4294967295)') -%}
    {%- for multiplier in onefold.cc_priority_multipliers() -%}
        {%- set new_right = onefold.cc_bitwise_xor(ns.left, onefold.cc_feistel_round(ns.right, multiplier)) -%}
        {%- set ns.left = ns.right -%}
        {%- set ns.right = new_right -%}
    {%- endfor -%}
    {{ return('cast((' ~ ns.left ~ ' - 2147483648) * 4294967296 + ' ~ ns.right ~ ' as ' ~ dbt.type_bigint() ~ ')') }}
{% endmacro %}

{% macro cc_node_of_priority(column) %}
    {%- set ns = namespace(left='((' ~ column ~ ' >> 32) + 2147483648)', right='(' ~ column ~ ' & 4294967295)') -%}
    {%- for multiplier in onefold.cc_priority_multipliers() | reverse -%}
        {%- set old_left = onefold.cc_bitwise_xor(ns.right, onefold.cc_feistel_round(ns.left, multiplier)) -%}
        {%- set ns.right = ns.left -%}
        {%- set ns.left = old_left -%}
    {%- endfor -%}
    {#- The high half back to signed: ((h + 2^31) mod 2^32) - 2^31. -#}
    {{ return('cast((((' ~ ns.left ~ ' + 2147483648) & 4294967295) - 2147483648) * 4294967296 + ' ~ ns.right
        ~ ' as ' ~ dbt.type_bigint() ~ ')') }}
{% endmacro %}

{% macro cc_bitwise_xor(left, right) %}
    {{ return(adapter.dispatch('cc_bitwise_xor', 'onefold')(left, right)) }}
{% endmacro %}

{% macro default__cc_bitwise_xor(left, right) %}
    {{ return('(' ~ left ~ ' # ' ~ right ~ ')') }}
{% endmacro %}

{% macro spark__cc_bitwise_xor(left, right) %}
    {{ return('(' ~ left ~ ' ^ ' ~ right ~ ')') }}
{% endmacro %}

{% macro duckdb__cc_bitwise_xor(left, right) %}
    {{ return('xor(' ~ left ~ ', ' ~ right ~ ')') }}
{% endmacro %}


{#-
    The input in priority space, one row per usable input row: undirected, in either
    direction, duplicates allowed. A self-loop (or a row with one null end) keeps its
    node, so every node is a group of the first round.
-#}
{% macro cc_initial_edges_sql(edges_sql) %}
    {{ return('select ' ~ onefold.cc_priority('coalesce(left_node_id, right_node_id)') ~ ' as left_group, '
        ~ onefold.cc_priority('coalesce(right_node_id, left_node_id)') ~ ' as right_group'
        ~ ' from ' ~ edges_sql ~ ' as edges where left_node_id is not null or right_node_id is not null') }}
{% endmacro %}

{#- Each group hooks to its smallest neighbour (either direction), or to itself. -#}
{% macro cc_hooks_sql(edges) %}
    {{ return('select group_id, least(group_id, min(neighbour_id)) as hook_id from ('
        ~ ' select left_group as group_id, right_group as neighbour_id from ' ~ edges
        ~ ' union all select right_group, left_group from ' ~ edges
        ~ ') as directed group by group_id') }}
{% endmacro %}

{#-
    Where each group goes this round: to the first root (a group hooked to itself) one or
    two hooks away, else nowhere (itself). Landing only on roots means a group that
    moves is never the destination of another, so every group moves at most once over
    all rounds and the moves form a forest.
-#}
{% macro cc_moves_sql(hooks) %}
    {{ return('select h0.group_id, case when h1.hook_id = h0.hook_id then h0.hook_id'
        ~ ' when h2.hook_id = h1.hook_id then h1.hook_id else h0.group_id end as moved_to'
        ~ ' from ' ~ hooks ~ ' as h0'
        ~ ' inner join ' ~ hooks ~ ' as h1 on h1.group_id = h0.hook_id'
        ~ ' inner join ' ~ hooks ~ ' as h2 on h2.group_id = h1.hook_id') }}
{% endmacro %}

{#-
    The next round's edges: endpoints rewritten to their groups, inner ones dropped,
    each remaining pair once (smaller group first).
-#}
{% macro cc_contract_sql(edges, moves) %}
    {{ return('select distinct least(left_moves.moved_to, right_moves.moved_to) as left_group,'
        ~ ' greatest(left_moves.moved_to, right_moves.moved_to) as right_group'
        ~ ' from ' ~ edges ~ ' as edges'
        ~ ' inner join ' ~ moves ~ ' as left_moves on left_moves.group_id = edges.left_group'
        ~ ' inner join ' ~ moves ~ ' as right_moves on right_moves.group_id = edges.right_group'
        ~ ' where left_moves.moved_to <> right_moves.moved_to') }}
{% endmacro %}

{#-
    The answer, from the first round's moves (one row per node) and the roots of the
    groups that moved in later rounds: a node's final group is its first-round group's
    root, or that group itself; the component id is the smallest node id in the group.
-#}
{% macro cc_components_sql(first_moves, resolved) %}
    {{ return('select node_id, min(node_id) over (partition by final_group) as component_id from ('
        ~ ' select ' ~ onefold.cc_node_of_priority('first_moves.group_id') ~ ' as node_id,'
        ~ ' coalesce(resolved.root_id, first_moves.moved_to) as final_group'
        ~ ' from ' ~ first_moves ~ ' as first_moves'
        ~ ' left join ' ~ resolved ~ ' as resolved on resolved.group_id = first_moves.moved_to'
        ~ ') as grouped') }}
{% endmacro %}


{#-
    Inside a dbt unit test the input is a fixture CTE, so the rounds cannot run ahead of
    the query. This plain recursive CTE is exact and portable but lists every
    (node, reachable node) pair: fine for fixtures, never for real data.
-#}
{% macro connected_components_reachability(edges_sql) %}
    {{ return('with recursive cc_directed as ('
        ~ ' select left_node_id as node_id, right_node_id as neighbour_id from ' ~ edges_sql ~ ' as edges'
        ~ ' where left_node_id is not null and right_node_id is not null'
        ~ ' union select right_node_id, left_node_id from ' ~ edges_sql ~ ' as edges'
        ~ ' where left_node_id is not null and right_node_id is not null'
        ~ ' union select left_node_id, left_node_id from ' ~ edges_sql ~ ' as edges where left_node_id is not null'
        ~ ' union select right_node_id, right_node_id from ' ~ edges_sql ~ ' as edges where right_node_id is not null'
        ~ '), cc_reachable (node_id, reached_id) as ('
        ~ ' select node_id, neighbour_id from cc_directed'
        ~ ' union select cc_reachable.node_id, cc_directed.neighbour_id from cc_reachable'
        ~ ' inner join cc_directed on cc_directed.node_id = cc_reachable.reached_id'
        ~ ') select node_id, min(reached_id) as component_id from cc_reachable group by node_id') }}
{% endmacro %}
