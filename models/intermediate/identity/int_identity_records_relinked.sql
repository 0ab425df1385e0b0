{#-
    The records whose candidate edges this run computes again (docs/identity.md,
    "Incremental runs"): one row per record node that

    - was read again (int_identity_records_changed: new, changed or gone);
    - has a candidate edge to a value that is now blocked;
    - carries a usable linking value no candidate edge reaches (a value that was
      blocked, or is new);
    - has a probabilistic link that appeared, went, or changed its probability
      (int_match_edges against the stored candidate edges; both ends of a link, since
      it is stored from each).

    A record's other edges depend only on its own identifiers and on whether each is
    blocked, so every other record keeps its edges. On a whole rebuild: every record read.
-#}
-- depends_on: {{ ref('int_match_edges') }}
-- depends_on: {{ ref('int_identifier_values') }}
-- depends_on: {{ ref('int_identifiers') }}
{%- set identifier_types = var('onefold__identifier_types') -%}
{%- set linking_types = [] -%}
{%- for type_name, type_config in identifier_types.items() if type_config.get('links') -%}
    {%- do linking_types.append(type_name) -%}
{%- endfor %}
{%- set candidate = onefold.identity_state_relation('int_identity_edges_candidate') %}
{%- set scoped = candidate is not none and not onefold.identity_full_rebuild() %}

with

changed as (

    select * from {{ ref('int_identity_records_changed') }}

),

-- noqa: disable=LT02
{%- if scoped %}

identifier_values as {{ onefold.inline_cte() }} (

    select * from {{ ref('int_identifier_values') }}

),

identifiers as (

    select * from {{ ref('int_identifiers') }}

),

candidate as {{ onefold.inline_cte() }} (

    select * from {{ candidate }}

),

newly_blocked as (

    select distinct
        candidate.left_node_id as record_node_id,
        candidate.source,
        candidate.record_key
    from candidate
    inner join identifier_values
        on candidate.right_node_id = identifier_values.node_id
    where identifier_values.block_rule is not null

),

unlinked_values as (

    select
        identifier_values.identifier_type,
        identifier_values.match_key
    from identifier_values
    left join (select distinct right_node_id from candidate) as linked
        on identifier_values.node_id = linked.right_node_id
    where
        identifier_values.block_rule is null
        and identifier_values.identifier_type in ('{{ linking_types | join("', '") }}')
        and linked.right_node_id is null

),

newly_usable as (

    select distinct
        identifiers.source,
        identifiers.record_key
    from identifiers
    inner join unlinked_values
        on
            identifiers.identifier_type = unlinked_values.identifier_type
            and identifiers.match_key = unlinked_values.match_key

),

probabilistic_changed as (

    select
        coalesce(current_links.left_node_id, stored_links.left_node_id) as record_node_id,
        coalesce(current_links.source, stored_links.source) as source,
        coalesce(current_links.record_key, stored_links.record_key) as record_key
    from {{ ref('int_match_edges') }} as current_links
    full outer join (
        select
            left_node_id,
            right_node_id,
            source,
            record_key,
            match_probability
        from candidate
        where rule = 'probabilistic'
    ) as stored_links
        on
            current_links.left_node_id = stored_links.left_node_id
            and current_links.right_node_id = stored_links.right_node_id
    where
        current_links.left_node_id is null
        or stored_links.left_node_id is null
        or abs(current_links.match_probability - stored_links.match_probability) > 1e-12

),

relinked as (

    select
        record_node_id,
        source,
        record_key
    from changed

    union

    select
        record_node_id,
        source,
        record_key
    from probabilistic_changed

    union

    select
        record_node_id,
        source,
        record_key
    from newly_blocked

    union

    select
        {{ onefold.node_id("'r|' || source || '|' || record_key") }} as record_node_id,
        source,
        record_key
    from newly_usable

)
{%- else %}

relinked as (

    select
        record_node_id,
        source,
        record_key
    from changed

)
{%- endif %}
-- noqa: enable=LT02

select * from relinked
