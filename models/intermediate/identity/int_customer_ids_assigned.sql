{#-
    Gives every component a customer_id, carried forward from the previous run by
    overlap of records (int_customer_id_history, read through
    customer_id_history_rows() because this model feeds it):
      - merge: a component holding records of several previous ids keeps the oldest;
      - split: a previous id stays with the component holding most of its records;
        the other parts get new ids;
      - new ids are 'cus_' + 24 hex chars of SHA-256 of the component's smallest record
        key, so a first build or a deliberate reset gives the same ids for the same
        data; if that id was ever used before, the run's start time is mixed in.
    Incremental: the records of the run's scope are assigned again (the claims of a
    previous id involve only the components its records are in, all in scope); the
    others keep their id, and their previous_customer_id becomes that id.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=[
        "{{ onefold.identity_assigned_settle() }}",
        "{{ onefold.identity_scope_delete('records') }}",
    ],
) }}
-- depends_on: {{ ref('int_identity_scope') }}
{%- set run_started = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as " ~ dbt.type_timestamp() ~ ")" %}

with

components as (

    select * from {{ ref('int_identity_components') }}

),

records as (

    select distinct
        left_node_id as record_node_id,
        source,
        record_key
    from {{ ref('int_identity_edges_resolved') }}
    where
        rule = 'record'
        and {{ onefold.identity_in_scope('left_node_id') }}

),

current_clusters as (

    select
        records.record_node_id,
        records.source,
        records.record_key,
        components.component_id
    from records
    inner join components
        on records.record_node_id = components.node_id

),

history as (

    {{ onefold.customer_id_history_rows() }}

),

previous as (

    select
        record_node_id,
        customer_id,
        customer_created_at
    from history
    where valid_to is null

),


overlap as (

    select
        current_clusters.component_id,
        previous.customer_id,
        previous.customer_created_at,
        count(*) as shared_records
    from current_clusters
    inner join previous
        on current_clusters.record_node_id = previous.record_node_id
    group by current_clusters.component_id, previous.customer_id, previous.customer_created_at

),

claims as (

    -- A previous id stays with the component that holds most of its records.
    select
        *,
        row_number() over (
            partition by customer_id
            order by shared_records desc, component_id asc
        ) as claim_rank
    from overlap

),

survivors as (

    -- A component that claimed several previous ids keeps the oldest.
    select
        component_id,
        customer_id,
        customer_created_at,
        row_number() over (
            partition by component_id
            order by customer_created_at, customer_id
        ) as survivor_rank
    from claims
    where claim_rank = 1

),

component_anchors as (

    select
        component_id,
        min(source || '|' || record_key) as anchor_key
    from current_clusters
    group by component_id

),

minted as (

    select
        component_anchors.component_id,
        'cus_' || substr({{ onefold.sha256_hex('component_anchors.anchor_key') }}, 1, 24) as natural_id,
        'cus_' || substr(
            {{ onefold.sha256_hex("component_anchors.anchor_key || '|' || cast(" ~ run_started ~ " as " ~ dbt.type_string() ~ ")") }},
            1, 24
        ) as fallback_id
    from component_anchors
    left join survivors
        on
            component_anchors.component_id = survivors.component_id
            and survivors.survivor_rank = 1
    where survivors.customer_id is null

),

ids_ever_used as (

    -- The natural ids minted now that the history already knows.
    select distinct history.customer_id
    from history
    inner join minted
        on history.customer_id = minted.natural_id

),

new_ids as (

    select
        minted.component_id,
        case when ids_ever_used.customer_id is null then minted.natural_id else minted.fallback_id end as customer_id,
        {{ run_started }} as customer_created_at
    from minted
    left join ids_ever_used
        on minted.natural_id = ids_ever_used.customer_id

),

component_ids as (

    select
        component_id,
        customer_id,
        customer_created_at
    from survivors
    where survivor_rank = 1

    union all

    select
        component_id,
        customer_id,
        customer_created_at
    from new_ids

),

assigned as (

    select
        current_clusters.record_node_id,
        current_clusters.source,
        current_clusters.record_key,
        current_clusters.component_id,
        component_ids.customer_id,
        component_ids.customer_created_at,
        previous.customer_id as previous_customer_id
    from current_clusters
    inner join component_ids
        on current_clusters.component_id = component_ids.component_id
    left join previous
        on current_clusters.record_node_id = previous.record_node_id

)

select * from assigned
