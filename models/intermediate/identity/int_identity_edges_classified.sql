{#-
    Every candidate edge with `drop_rule` set when conflict resolution cuts it:

    - weak_link: a probabilistic link the guard cut (int_identity_components_guarded):
      it joined a cluster that broke a guard below. The rules below then apply to the
      parts the guard left.
    - limit_<type>: a customer may hold at most max_per_customer values of <type>.
      Within a first-pass cluster the values of <type> are ranked by source priority
      (meta.onefold.priority of each source), then recency, then value; records carrying a value
      past the limit keep only that value and lose their other links.
    - oversized_cluster: with onefold__oversized_cluster_action = split, clusters holding
      more than onefold__max_cluster_size distinct identifier values keep only the links
      of limited (account-level) types. With `fail`, such a cluster stops the build with its id and top values.
-#}
{%- set identifier_types = var('onefold__identifier_types') -%}
{%- set limited_types = {} -%}
{%- for type_name, type_config in identifier_types.items() if type_config.get('max_per_customer') -%}
    {%- do limited_types.update({type_name: type_config.max_per_customer}) -%}
{%- endfor -%}
{%- set max_cluster_size = var('onefold__max_cluster_size') -%}
{%- set oversized_action = var('onefold__oversized_cluster_action') -%}
{%- if oversized_action not in ['fail', 'split'] -%}
    {{ exceptions.raise_compiler_error(
        "onefold__oversized_cluster_action must be 'fail' or 'split', got '" ~ oversized_action ~ "'") }}
{%- endif -%}
{%- if oversized_action == 'split' -%}
    {%- set oversized_rule -%}
        case
            when cluster_sizes.value_count > {{ max_cluster_size }}
                and clustered.rule != 'record'
                and coalesce(clustered.identifier_type, '') not in ('{{ limited_types.keys() | join("', '") }}')
                then 'oversized_cluster'
        end
    {%- endset -%}
{%- else -%}
    {%- set oversized_rule = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
{%- endif -%}
{%- set matching_enabled = onefold.match_enabled() -%}
{%- set in_unit_test = model is mapping and model.get('resource_type') == 'unit_test' -%}
{%- set scoped = not in_unit_test and onefold.identity_scoped() -%}
{%- if execute and oversized_action == 'fail' and not in_unit_test -%}
    {{ onefold.fail_on_oversized_clusters(
        ref('int_identity_edges_candidate'), ref('int_identity_components_initial'), max_cluster_size,
        onefold.identity_in_scope('edges.left_node_id', scoped), ref('int_identity_components_guarded')) }}
{%- endif %}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ onefold.identity_scope_delete('records', 'left_node_id') }}",
) }}
-- Incremental: only the edges of the run's scope (a union of whole components).
-- depends_on: {{ ref('int_identity_scope') }}

with

edges as (

    select * from {{ ref('int_identity_edges_candidate') }}
    where {{ onefold.identity_in_scope('left_node_id', scoped) }}

),

components as (

    -- The guard's parts where it reworked a component, the first-pass component elsewhere.
    select
        initial.node_id,
        initial.component_id as initial_component_id,
        coalesce(guarded.component_id, initial.component_id) as component_id
    from {{ ref('int_identity_components_initial') }} as initial
    left join {{ ref('int_identity_components_guarded') }} as guarded
        on initial.node_id = guarded.node_id

),

clustered as (

    select
        edges.*,
        components.initial_component_id,
        components.component_id,
        {%- if matching_enabled %}
            right_components.component_id as right_component_id
        {%- else %}
            cast(null as {{ dbt.type_bigint() }}) as right_component_id
        {%- endif %}
    from edges
    inner join components
        on edges.left_node_id = components.node_id
    {%- if matching_enabled %}
        left join components as right_components
            on
                edges.rule = 'probabilistic'
                and edges.right_node_id = right_components.node_id
    {%- endif %}

),

cluster_sizes as (

    -- Size in distinct identifier values: a heavy user has many events but few values.
    select
        component_id,
        count(distinct case when identifier_type is not null then right_node_id end) as value_count
    from clustered
    group by component_id

),

limited_values as (

    select
        component_id,
        identifier_type,
        match_key,
        min(
            {{ onefold.source_priority_rank('source') }}
        ) as source_rank,
        max(observed_at) as last_observed_at
    from clustered
    where identifier_type in ('{{ limited_types.keys() | join("', '") }}')
    group by component_id, identifier_type, match_key

),

ranked_values as (

    select
        *,
        row_number() over (
            partition by component_id, identifier_type
            order by source_rank asc, last_observed_at desc, match_key asc
        ) as value_rank,
        case identifier_type
            {%- for type_name, limit in limited_types.items() %}
                when '{{ type_name }}' then {{ limit }}
            {%- endfor %}
        end as max_per_customer
    from limited_values

),

over_limit_records as (

    select distinct
        clustered.left_node_id,
        clustered.identifier_type as limited_type,
        clustered.match_key as kept_value
    from clustered
    inner join ranked_values
        on
            clustered.component_id = ranked_values.component_id
            and clustered.identifier_type = ranked_values.identifier_type
            and clustered.match_key = ranked_values.match_key
    where ranked_values.value_rank > ranked_values.max_per_customer

),

limit_cuts as (

    select
        clustered.left_node_id,
        clustered.right_node_id,
        min('limit_' || over_limit_records.limited_type) as drop_rule
    from clustered
    inner join over_limit_records
        on clustered.left_node_id = over_limit_records.left_node_id
    where
        clustered.rule != 'record'
        and not (
            clustered.identifier_type = over_limit_records.limited_type
            and clustered.match_key = over_limit_records.kept_value
        )
    group by clustered.left_node_id, clustered.right_node_id

),

classified as (

    select
        clustered.left_node_id,
        clustered.right_node_id,
        clustered.source,
        clustered.record_key,
        clustered.identifier_type,
        clustered.match_key,
        clustered.rule,
        clustered.match_probability,
        clustered.observed_at,
        clustered.initial_component_id,
        case
            when clustered.rule = 'probabilistic' and clustered.right_component_id != clustered.component_id
                then 'weak_link'
            else coalesce(limit_cuts.drop_rule, {{ oversized_rule }})
        end as drop_rule
    from clustered
    inner join cluster_sizes
        on clustered.component_id = cluster_sizes.component_id
    left join limit_cuts
        on
            clustered.left_node_id = limit_cuts.left_node_id
            and clustered.right_node_id = limit_cuts.right_node_id

)

select * from classified
