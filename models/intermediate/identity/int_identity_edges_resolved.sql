-- The kept edges: a view over int_identity_edges_classified, which is incremental.
{{ config(materialized='view') }}
with

classified as (

    select * from {{ ref('int_identity_edges_classified') }}

),

kept as (

    select
        left_node_id,
        right_node_id,
        source,
        record_key,
        identifier_type,
        match_key,
        rule,
        observed_at
    from classified
    where drop_rule is null

)

select * from kept
