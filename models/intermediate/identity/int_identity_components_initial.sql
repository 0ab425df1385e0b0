-- First pass: connected components of the candidate graph, before conflicts are cut.
-- Incremental: only the edges of the run's scope (a union of whole components).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ onefold.identity_scope_delete('components') }}",
) }}
-- depends_on: {{ ref('int_identity_scope') }}
{%- set edges = ref('int_identity_edges_candidate') %}
{%- if onefold.identity_scoped() %}
    {%- set edges = '(select candidate.left_node_id, candidate.right_node_id from ' ~ edges ~ ' as candidate where '
        ~ onefold.identity_in_scope('candidate.left_node_id', true) ~ ') as scoped_candidate_edges' %}
{%- endif %}
{{ onefold.connected_components(edges) }}
