{#-
    Probabilistic links may chain records that are not one person (A like B, B like C,
    A nothing like C). Every cluster they join must stay within the guards the exact
    graph has: at most onefold__max_cluster_size distinct identifier values, and at most
    max_per_customer values of each limited type. In a first-pass component that breaks
    a guard and holds probabilistic links, each round cuts the component's weakest links
    (the lowest match probability) and recomputes its parts, until no part that still
    holds a link breaks a guard (docs/identity.md, "Probabilistic matching").
    After guard_max_rounds rounds, the links left in breaking parts are all cut. A
    cluster that breaks a guard on its exact links alone keeps none of its
    probabilistic links; the limit rules then cut its exact links as before.

    Runs as run_query calls into session work tables; returns the table holding
    (node_id, component_id) for the nodes of the components it reworked, or none when
    no component needed it.
-#}
{% macro guard_probabilistic_links(edges_relation, components_relation, scope_filter, work_name) %}
    {%- if not execute or flags.WHICH not in ['run', 'build', 'run-operation'] or not onefold.match_enabled() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set guard_edges = onefold.cc_work_table(work_name, 'guard_edges') -%}
    {%- set guard_parts = onefold.cc_work_table(work_name, 'guard_parts') -%}
    {%- set breaking = onefold.cc_work_table(work_name, 'guard_breaking') -%}
    {%- set max_rounds = onefold.match_config().guard_max_rounds -%}
    {%- set clustered_sql -%}
        select edges.left_node_id, edges.right_node_id, edges.rule, edges.identifier_type, edges.match_key,
            edges.match_probability, components.component_id
        from {{ edges_relation }} as edges
        inner join {{ components_relation }} as components on edges.left_node_id = components.node_id
        where {{ scope_filter }}
    {%- endset -%}
    {%- set statements = onefold.cc_work_schema_sql() + onefold.cc_work_table_sql(guard_edges,
            'with clustered as (' ~ clustered_sql ~ '), breaking as (' ~ onefold.guard_breaking_components('clustered')
            ~ ') select clustered.left_node_id, clustered.right_node_id, clustered.rule, clustered.identifier_type, '
            ~ 'clustered.match_key, clustered.match_probability, false as is_cut from clustered '
            ~ 'inner join breaking on clustered.component_id = breaking.component_id')
        + ['select count(*) from ' ~ guard_edges] -%}
    {%- if (onefold.run_statements(statements).columns[0].values()[0] | int) == 0 -%}
        {%- do run_query('drop table if exists ' ~ guard_edges) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set state = namespace(rounds=0, done=false) -%}
    {#- Rounds 1..max_rounds cut the weakest links; round max_rounds + 1 cuts what is left
        in breaking parts, and the round after it computes the parts that leaves. -#}
    {%- for round in range(1, max_rounds + 3) if not state.done -%}
        {%- set components_sql = onefold.connected_components_select(
            '(select left_node_id, right_node_id from ' ~ guard_edges ~ ' where not is_cut) as guarded_edges',
            work_name ~ '_guard') -%}
        {%- set statements = onefold.cc_work_table_sql(guard_parts, components_sql)
            + onefold.cc_work_table_sql(breaking,
                'with clustered as (select guard_edges.*, guard_parts.component_id from ' ~ guard_edges ~ ' as guard_edges '
                ~ 'inner join ' ~ guard_parts ~ ' as guard_parts on guard_edges.left_node_id = guard_parts.node_id '
                ~ 'where not guard_edges.is_cut) ' ~ onefold.guard_breaking_components('clustered', weakest=true))
            + ['select count(*) from ' ~ breaking] -%}
        {%- set breaking_count = onefold.run_statements(statements).columns[0].values()[0] | int -%}
        {%- set state.rounds = round -%}
        {%- if breaking_count == 0 -%}
            {%- set state.done = true -%}
        {%- else -%}
            {#- The weakest links of each breaking part; past the bound, all of its links. -#}
            {%- set cut_all = round > max_rounds -%}
            {%- set cut_condition -%}
                    rule = 'probabilistic'
                    and not is_cut
                    {%- if cut_all %}
                        and left_node_id in (
                            select guard_parts.node_id from {{ guard_parts }} as guard_parts
                            inner join {{ breaking }} as breaking on guard_parts.component_id = breaking.component_id
                        )
                    {%- else %}
                        and (left_node_id, match_probability) in (
                            select guard_parts.node_id, breaking.weakest from {{ guard_parts }} as guard_parts
                            inner join {{ breaking }} as breaking on guard_parts.component_id = breaking.component_id
                        )
                    {%- endif %}
            {%- endset -%}
            {%- set update = onefold.update_rows(guard_edges, {"is_cut": "true"}, cut_condition) -%}
            {%- if update -%}{%- do run_query(update) -%}{%- endif -%}
            {%- if cut_all -%}
                {%- do log('identity guard: ' ~ breaking_count ~ ' cluster(s) still broke a guard after '
                    ~ max_rounds ~ ' rounds; all their probabilistic links are cut '
                    ~ '(onefold__probabilistic_matching.guard_max_rounds)', info=true) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do onefold.run_statements(['drop table if exists ' ~ breaking, 'drop table if exists ' ~ guard_edges]) -%}
    {%- do onefold.cc_drop_work_tables(work_name ~ '_guard') -%}
    {%- do log('identity guard: ' ~ state.rounds ~ ' round(s)', info=true) -%}
    {{ return(guard_parts) }}
{% endmacro %}


{#- The components of `clustered` (edges with component_id) that hold a probabilistic
    link and break a guard; `weakest` adds each one's lowest link probability. -#}
{% macro guard_breaking_components(clustered, weakest=false) %}
    {%- set limited = {} -%}
    {%- for type_name, type_config in var('onefold__identifier_types').items() if type_config.get('max_per_customer') -%}
        {%- do limited.update({type_name: type_config.max_per_customer}) -%}
    {%- endfor -%}
    {%- set query -%}
        select component_id
            {%- if weakest %}, min(case when rule = 'probabilistic' then match_probability end) as weakest{% endif %}
        from {{ clustered }}
        group by component_id
        having
            sum(case when rule = 'probabilistic' then 1 else 0 end) > 0
            and (
                count(distinct case when identifier_type is not null then right_node_id end)
                    > {{ var('onefold__max_cluster_size') }}
                {%- for type_name, limit in limited.items() %}
                    or count(distinct case when identifier_type = '{{ type_name }}' then match_key end) > {{ limit }}
                {%- endfor %}
            )
    {%- endset -%}
    {{ return(query) }}
{% endmacro %}


{#-
    `dbt run-operation materialize_probabilistic_guard --args '{edges_relation: s.edges,
    components_relation: s.components, output_relation: s.guarded}'`: runs the guard on
    any candidate edges (the columns of int_identity_edges_candidate) and first-pass
    components (node_id, component_id), and (re)creates output_relation with the nodes
    of the components it reworked and the part each ended in (none: nothing to rework).
-#}
{% macro materialize_probabilistic_guard(edges_relation, components_relation, output_relation) %}
    {%- set output = onefold.cc_relation(output_relation) -%}
    {%- set parts = onefold.guard_probabilistic_links(
        onefold.cc_relation(edges_relation), onefold.cc_relation(components_relation), '1 = 1', output.identifier) -%}
    {%- set select_sql = 'select node_id, component_id from ' ~ parts if parts
        else 'select cast(null as ' ~ dbt.type_bigint() ~ ') as node_id, cast(null as ' ~ dbt.type_bigint()
            ~ ') as component_id where 1 = 0' -%}
    {%- do run_query('drop table if exists ' ~ output) -%}
    {%- do run_query('create table ' ~ output ~ ' as ' ~ select_sql) -%}
    {%- do onefold.cc_commit() -%}
{% endmacro %}
