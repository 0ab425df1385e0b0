{#-
    The first-pass components after the probabilistic links' guard
    (macros/identity/guard_probabilistic_links.sql): one row per node of each component
    the guard reworked, with the part it ended in. Components the guard left alone have
    no rows here; their first-pass component stands (int_identity_edges_classified reads
    the two together). Empty while probabilistic matching is disabled.

    Incremental like int_identity_components_initial: only the run's scope.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ onefold.identity_scope_delete('components') }}",
) }}
-- depends_on: {{ ref('int_identity_scope') }}
-- depends_on: {{ ref('int_identity_edges_candidate') }}
-- depends_on: {{ ref('int_identity_components_initial') }}
{%- set guarded = onefold.guard_probabilistic_links(
    ref('int_identity_edges_candidate'), ref('int_identity_components_initial'),
    onefold.identity_in_scope('edges.left_node_id', onefold.identity_scoped()), this.identifier) %}

with

guarded as (

    {%- if guarded %}
        select
            node_id,
            component_id
        from {{ guarded }}
    {%- else %}
        select
            cast(null as {{ dbt.type_bigint() }}) as node_id,
            cast(null as {{ dbt.type_bigint() }}) as component_id
        where 1 = 0
    {%- endif %}

)

select * from guarded
