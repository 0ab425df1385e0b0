{{ config(alias=onefold.mart_alias()) }}
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

identifiers as (

    select * from {{ ref('int_identifiers') }}

),

identifier_nodes as (

    select
        right_node_id as node_id,
        identifier_type,
        match_key,
        count(distinct source || '|' || record_key) as record_count
    from edges
    where rule != 'record'
    group by right_node_id, identifier_type, match_key

),

component_customers as (

    select distinct
        component_id,
        customer_id
    from assigned

),

identifier_values as (

    select
        identifier_type,
        match_key,
        min(normalized_value) as normalized_value,
        max(case when is_prehashed then 1 else 0 end) = 1 as has_hashed_observations,
        min(observed_at) as first_observed_at,
        max(observed_at) as last_observed_at
    from identifiers
    group by identifier_type, match_key

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
