-- Final pass: connected components of the resolved graph. One component = one customer.
-- Incremental: only the edges of the run's scope (a union of whole components).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ onefold.identity_scope_delete('components') }}",
) }}
-- depends_on: {{ ref('int_identity_scope') }}
{%- set edges = ref('int_identity_edges_resolved') %}
{%- if onefold.identity_scoped() %}
    {%- set edges = '(select resolved.left_node_id, resolved.right_node_id from ' ~ edges ~ ' as resolved where '
        ~ onefold.identity_in_scope('resolved.left_node_id', true) ~ ') as scoped_resolved_edges' %}
{%- endif %}
{{ onefold.connected_components(edges) }}
