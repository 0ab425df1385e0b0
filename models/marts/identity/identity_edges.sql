{#-
    Incremental (docs/identity.md, "Incremental runs"): a pre-hook deletes the rows of
    the customers the run touched and of the values it computed again; the model
    inserts the edges of the scope's records and of those values.
-#}
{{ config(
    alias=onefold.mart_alias(),
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ onefold.identity_mart_delete() }}",
) }}
-- depends_on: {{ ref('int_identity_scope') }}
-- depends_on: {{ ref('int_customer_id_history') }}
{%- set scoped = onefold.identity_scoped() %}

with

edges as (

    select * from {{ ref('int_identity_edges_classified') }}
    {%- if scoped %}
        where
            {{ onefold.identity_in_scope('left_node_id', true) }}
            or (identifier_type, match_key) in (
                select identifier_type, match_key from ({{ onefold.identity_values_recomputed() }}) as recomputed
            )
    {%- endif %}

),

assigned as (

    select * from {{ ref('int_customer_ids_assigned') }}

),

identifier_values as (

    select * from {{ ref('int_identifier_values') }}

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
        edges.match_probability,
        case when edges.rule = 'probabilistic' then edges.right_node_id end as right_node_id,
        linked.source as linked_source,
        linked.record_key as linked_record_key,
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
    left join assigned as linked
        on
            edges.rule = 'probabilistic'
            and edges.right_node_id = linked.record_node_id
    where edges.rule != 'record'

)

select * from described
