{#-
    Stops the build when a first-pass cluster holds more than `max_size` distinct
    identifier values,
    naming each such cluster and the values that hold it together, so the user can
    block the shared value, raise the limit, or switch to splitting.
-#}
{#- `edges_filter`: a condition on `edges` that limits the check to part of the graph
    (the run's scope on an incremental run; whole components). `guarded_relation`: the
    parts the probabilistic links' guard split components into, which replace them. -#}
{% macro fail_on_oversized_clusters(edges_relation, components_relation, max_size, edges_filter='1 = 1', guarded_relation=none) %}
    {#- Compiling without a build (sqlfluff, dbt compile on an empty warehouse): nothing to check. -#}
    {%- if load_relation(edges_relation) is none or load_relation(components_relation) is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- if guarded_relation is not none and load_relation(guarded_relation) is not none -%}
        {%- set components_relation = '(select initial.node_id, coalesce(guarded.component_id, initial.component_id) '
            ~ 'as component_id from ' ~ components_relation ~ ' as initial left join ' ~ guarded_relation
            ~ ' as guarded on initial.node_id = guarded.node_id)' -%}
    {%- endif -%}
    {%- set query -%}
        with sizes as (
            select components.component_id, count(distinct edges.right_node_id) as value_count
            from {{ edges_relation }} as edges
            inner join {{ components_relation }} as components
                on edges.left_node_id = components.node_id
            where edges.identifier_type is not null and {{ edges_filter }}
            group by components.component_id
            having count(distinct edges.right_node_id) > {{ max_size }}
        ),
        top_values as (
            select
                sizes.component_id,
                edges.identifier_type,
                edges.match_key,
                count(*) as records,
                row_number() over (
                    partition by sizes.component_id
                    order by count(*) desc, edges.identifier_type, edges.match_key
                ) as value_rank
            from sizes
            inner join {{ components_relation }} as components
                on sizes.component_id = components.component_id
            inner join {{ edges_relation }} as edges
                on components.node_id = edges.left_node_id
            where edges.identifier_type is not null
            group by sizes.component_id, edges.identifier_type, edges.match_key
        )
        select sizes.component_id, sizes.value_count, top_values.identifier_type,
            top_values.match_key, top_values.records
        from sizes
        inner join top_values on sizes.component_id = top_values.component_id
        where top_values.value_rank <= 3
        order by sizes.value_count desc, sizes.component_id, top_values.records desc
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- if rows | length > 0 -%}
        {%- set lines = [] -%}
        {%- for row in rows -%}
            {%- do lines.append("  cluster " ~ row[0] ~ " (" ~ row[1] ~ " values): " ~ row[2]
                ~ " " ~ (row[3][:16] ~ ('…' if row[3] | length > 16 else '')) ~ " on " ~ row[4] ~ " records") -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(
            "Identity clusters exceed onefold__max_cluster_size (" ~ max_size ~ " identifier values):\n"
            ~ (lines | join("\n"))
            ~ "\nBlock the shared value in seeds/identity_blocklist.csv, lower its type's "
            ~ "hub_thresholds, raise onefold__max_cluster_size, or set "
            ~ "onefold__oversized_cluster_action: split.") }}
    {%- endif -%}
{% endmacro %}
