{#-
    The identity state the next run compares against (docs/identity.md, "Incremental
    runs"): one row per record in the graph with the fingerprint of its candidate edges,
    the configuration they were resolved under, and its first-pass component with that
    component's record count (so a component that loses records to `onefold erase`
    between builds is recomputed). Rewritten for the run's scope; written last, after
    the id history, so a run that fails earlier leaves the previous state in place.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ onefold.identity_scope_delete('records') }}",
) }}
-- depends_on: {{ ref('int_customer_id_history') }}

with

scope as (

    select * from {{ ref('int_identity_scope') }}
    where edge_count is not null

),

components as (

    select * from {{ ref('int_identity_components_initial') }}

),

scoped_components as (

    select
        scope.record_node_id,
        scope.edge_count,
        scope.edge_hash,
        components.component_id
    from scope
    inner join components
        on scope.record_node_id = components.node_id

),

sizes as (

    -- A component's records are all in scope together: the count is the component's.
    select
        component_id,
        count(*) as component_records
    from scoped_components
    group by component_id

),

fingerprinted as (

    select
        scoped_components.record_node_id,
        scoped_components.edge_count,
        scoped_components.edge_hash,
        {{ onefold.identity_config_fingerprint() }} as config_fingerprint,
        scoped_components.component_id as initial_component_id,
        sizes.component_records
    from scoped_components
    inner join sizes
        on scoped_components.component_id = sizes.component_id

)

select * from fingerprinted
