{{ config(alias=onefold.mart_alias()) }}
with

edges as (

    select * from {{ ref('int_identity_edges_classified') }}

),

assigned as (

    select * from {{ ref('int_customer_ids_assigned') }}

),

identifier_values as (

    select
        identifier_type,
        match_key,
        min(normalized_value) as normalized_value
    from {{ ref('int_identifiers') }}
    group by identifier_type, match_key

),

described as (

    select
        assigned.customer_id,
        edges.source,
        edges.record_key,
        edges.identifier_type,
        identifier_values.normalized_value,
        edges.match_key,
        edges.rule,
        edges.drop_rule,
        edges.drop_rule is null as is_active,
        edges.observed_at
    from edges
    inner join assigned
        on edges.left_node_id = assigned.record_node_id
    left join identifier_values
        on
            edges.identifier_type = identifier_values.identifier_type
            and edges.match_key = identifier_values.match_key
    where edges.rule != 'record'

)

select * from described
