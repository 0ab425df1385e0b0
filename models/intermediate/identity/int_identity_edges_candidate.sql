{#-
    The identity graph before conflict resolution: one edge per record and linking
    identifier value it carries, plus a self-loop per record so a record with no
    linking identifier still becomes a (single-record) customer. Only usable values
    (valid, not blocked) take part. With probabilistic matching on, a record's links to
    other records (int_match_edges, rule `probabilistic`) are edges too, to the other
    record's node, with their match probability.

    Incremental per record (docs/identity.md, "Incremental runs"): a pre-hook deletes
    the edges of the records int_identity_records_relinked lists, the model computes
    theirs again.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    unique_key=['left_node_id', 'right_node_id'],
    on_schema_change='fail',
    pre_hook="{{ onefold.identity_scope_delete('records', 'left_node_id', 'int_identity_records_relinked') }}",
) }}
-- depends_on: {{ ref('int_identity_records_relinked') }}
{%- set identifier_types = var('onefold__identifier_types') -%}
{%- set linking_types = [] -%}
{%- for type_name, type_config in identifier_types.items() if type_config.get('links') -%}
    {%- do linking_types.append(type_name) -%}
{%- endfor %}

with

usable as (

    select * from {{ ref('int_identifiers_usable') }}
    {%- if onefold.identity_scoped() %}
        where (source, record_key) in (
            select
                relinked.source,
                relinked.record_key
            from {{ ref('int_identity_records_relinked') }} as relinked
        )
    {%- endif %}

),

records as (

    -- Records with a usable identifier, and those probabilistic matching compares
    -- (which may have none): each becomes a node of its own.
    select
        source,
        record_key,
        max(observed_at) as observed_at
    from (
        select
            source,
            record_key,
            observed_at
        from usable

        union all

        select
            source,
            record_key,
            observed_at
        from {{ ref('int_match_records') }}
        {%- if onefold.identity_scoped() %}
            where record_node_id in (select relinked.record_node_id from {{ ref('int_identity_records_relinked') }} as relinked)
        {%- endif %}
    ) as record_sources
    group by source, record_key

),

identifier_edges as (

    select
        {{ onefold.node_id("'r|' || source || '|' || record_key") }} as left_node_id,
        {{ onefold.node_id("'i|' || identifier_type || '|' || match_key") }} as right_node_id,
        source,
        record_key,
        identifier_type,
        match_key,
        'shared_' || identifier_type as rule,
        cast(null as {{ onefold.type_double() }}) as match_probability,
        observed_at
    from usable
    where identifier_type in ('{{ linking_types | join("', '") }}')

),

record_loops as (

    select
        {{ onefold.node_id("'r|' || source || '|' || record_key") }} as left_node_id,
        {{ onefold.node_id("'r|' || source || '|' || record_key") }} as right_node_id,
        source,
        record_key,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as match_key,
        'record' as rule,
        cast(null as {{ onefold.type_double() }}) as match_probability,
        observed_at
    from records

),

probabilistic_edges as (

    select
        left_node_id,
        right_node_id,
        source,
        record_key,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as match_key,
        'probabilistic' as rule,
        match_probability,
        observed_at
    from {{ ref('int_match_edges') }}
    {%- if onefold.identity_scoped() %}
        where left_node_id in (select relinked.record_node_id from {{ ref('int_identity_records_relinked') }} as relinked)
    {%- endif %}

),

edges as (

    select * from identifier_edges
    union all
    select * from record_loops
    union all
    select * from probabilistic_edges

)

select * from edges
