{#-
    The probabilistic links (docs/identity.md, "Probabilistic matching"): every scored
    pair at or above the declared match_probability, in both directions (an edge from
    each record to the other, as the identity graph keeps them per record), with the
    record the edge starts from. int_identity_edges_candidate adds them to the graph.
-#}
{{ config(materialized='view') }}
{%- set matching = onefold.match_config() %}

with

linked as (

    select * from {{ ref('int_match_pairs_scored') }}
    where match_probability >= {{ matching.match_probability }}

),

directed as (

    select
        left_node_id,
        right_node_id,
        match_probability
    from linked

    union all

    select
        right_node_id as left_node_id,
        left_node_id as right_node_id,
        match_probability
    from linked

),

records as (

    select * from {{ ref('int_match_records') }}

),

described as (

    select
        directed.left_node_id,
        directed.right_node_id,
        records.source,
        records.record_key,
        directed.match_probability,
        records.observed_at
    from directed
    inner join records
        on directed.left_node_id = records.record_node_id

)

select * from described
