{#-
    Incremental (docs/identity.md, "Incremental runs"): a pre-hook deletes the rows of
    the customers the run touched and of the values it computed again; the model
    inserts the values the scope's records link and the values computed again.
-#}
{{ config(
    alias=onefold.mart_alias(),
    materialized='incremental',
    incremental_strategy='append',
    unique_key=['identifier_type', 'match_key'],
    on_schema_change='fail',
    pre_hook="{{ onefold.identity_mart_delete() }}",
) }}
-- depends_on: {{ ref('int_identity_scope') }}
-- depends_on: {{ ref('int_customer_id_history') }}
{%- set scoped = onefold.identity_scoped() %}

with

edges as (

    select * from {{ ref('int_identity_edges_resolved') }}

),

components as (

    select * from {{ ref('int_identity_components') }}

),

assigned as (

    select * from {{ ref('int_customer_ids_assigned') }}

),

identifier_values as (

    select * from {{ ref('int_identifier_values') }}

),

-- noqa: disable=LT02
{%- if scoped %}

target_nodes as (

    -- The values of the scope's records, and the values computed again.
    select right_node_id as node_id
    from edges
    where {{ onefold.identity_in_scope('left_node_id', true) }}

    union

    select node_id from ({{ onefold.identity_values_recomputed() }}) as recomputed

),
{%- endif %}
-- noqa: enable=LT02

identifier_nodes as (

    select
        edges.right_node_id as node_id,
        edges.identifier_type,
        edges.match_key,
        count(distinct edges.source || '|' || edges.record_key) as record_count
    from edges
    {%- if scoped %}
        inner join target_nodes
            on edges.right_node_id = target_nodes.node_id
    {%- endif %}
    where edges.identifier_type is not null
    group by edges.right_node_id, edges.identifier_type, edges.match_key

),

component_customers as (

    select distinct
        component_id,
        customer_id
    from assigned

),

mapped as (

    select
        component_customers.customer_id,
        identifier_nodes.identifier_type,
        identifier_values.normalized_value,
        identifier_nodes.match_key,
        identifier_nodes.record_count,
        identifier_values.has_hashed_observations,
        identifier_values.first_observed_at,
        identifier_values.last_observed_at
    from identifier_nodes
    inner join components
        on identifier_nodes.node_id = components.node_id
    inner join component_customers
        on components.component_id = component_customers.component_id
    inner join identifier_values
        on
            identifier_nodes.identifier_type = identifier_values.identifier_type
            and identifier_nodes.match_key = identifier_values.match_key

)

select * from mapped
