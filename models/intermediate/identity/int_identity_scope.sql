{#-
    The records this run recomputes the identity graph for (docs/identity.md,
    "Incremental runs"): one row per record node.

    Seeds are the records whose candidate edges differ from the last run's (new,
    changed, gone, or touched by a value that became blocked or unblocked: the edge
    fingerprint covers the linked values, the rule and observed_at) and, when the
    identity configuration changed, every record. The scope is the seeds plus every
    record of each previous first-pass component that holds a seed, a record sharing a
    value with a seed, or lost records to an erasure. Those components' edges form a
    closed part of the graph, so recomputing components, cuts and ids on them gives the
    full rebuild's answer there; everything else is unchanged.

    On a whole rebuild (first build, --full-refresh) every current record is in scope.
    edge_count and edge_hash are null for records that are gone.
-#}
-- depends_on: {{ ref('int_identity_records_relinked') }}
{%- set previous = onefold.identity_state_relation() %}
{%- set scoped = not onefold.identity_full_rebuild() %}

with

candidate as (

    select * from {{ ref('int_identity_edges_candidate') }}

),

-- noqa: disable=LT02
{%- if scoped %}

relinked as (

    select * from {{ ref('int_identity_records_relinked') }}

),

current_records as (

    -- Only the records whose edges were computed again can have a new fingerprint.
    select
        candidate.left_node_id as record_node_id,
        count(*) as edge_count,
        bit_xor({{ onefold.identity_edge_hash('candidate') }}) as edge_hash
    from candidate
    inner join relinked
        on candidate.left_node_id = relinked.record_node_id
    group by candidate.left_node_id

),

previous_records as (

    select * from {{ previous }}

),

compared as (

    select
        relinked.record_node_id,
        current_records.edge_count,
        current_records.edge_hash,
        previous_records.initial_component_id
    from relinked
    left join current_records
        on relinked.record_node_id = current_records.record_node_id
    left join previous_records
        on relinked.record_node_id = previous_records.record_node_id
    where
        (current_records.record_node_id is not null or previous_records.record_node_id is not null)
        and (
            current_records.record_node_id is null
            or previous_records.record_node_id is null
            or current_records.edge_count != previous_records.edge_count
            or current_records.edge_hash != previous_records.edge_hash
        )

),

seeds as (

    select * from compared

    union all

    -- A changed configuration: every record (not already a seed) is one.
    select
        previous_records.record_node_id,
        previous_records.edge_count,
        previous_records.edge_hash,
        previous_records.initial_component_id
    from previous_records
    left join compared
        on previous_records.record_node_id = compared.record_node_id
    where
        previous_records.config_fingerprint != {{ onefold.identity_config_fingerprint() }}
        and compared.record_node_id is null

),

seed_values as (

    select distinct candidate.right_node_id
    from candidate
    inner join seeds
        on candidate.left_node_id = seeds.record_node_id
    where candidate.rule != 'record'

),

sharing_records as (

    -- Records carrying a value a seed carries (their edges are unchanged, so the value
    -- was in their previous component).
    select distinct candidate.left_node_id as record_node_id
    from candidate
    inner join seed_values
        on candidate.right_node_id = seed_values.right_node_id

),

shrunk_components as (

    -- Components that lost records outside a build: `onefold erase` deletes the
    -- erased person's rows from the identity tables, this state included.
    select initial_component_id
    from previous_records
    group by initial_component_id
    having count(*) != max(component_records)

),

affected_components as (

    select initial_component_id from seeds
    where initial_component_id is not null

    union

    select previous_records.initial_component_id
    from sharing_records
    inner join previous_records
        on sharing_records.record_node_id = previous_records.record_node_id

    union

    select initial_component_id from shrunk_components

),

scoped as (

    select
        seeds.record_node_id,
        seeds.edge_count,
        seeds.edge_hash
    from seeds

    union all

    -- Not seeds: their edges are the previous run's.
    select
        previous_records.record_node_id,
        previous_records.edge_count,
        previous_records.edge_hash
    from previous_records
    inner join affected_components
        on previous_records.initial_component_id = affected_components.initial_component_id
    left join seeds
        on previous_records.record_node_id = seeds.record_node_id
    where seeds.record_node_id is null

)
{%- else %}

scoped as (

    select
        candidate.left_node_id as record_node_id,
        count(*) as edge_count,
        bit_xor({{ onefold.identity_edge_hash('candidate') }}) as edge_hash
    from candidate
    group by candidate.left_node_id

)
{%- endif %}
-- noqa: enable=LT02

select * from scoped
