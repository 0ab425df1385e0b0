-- Final pass: connected components of the resolved graph. One component = one customer.
-- Incremental: only the edges of the run's scope (a union of whole components).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ onefold.identity_scope_delete('components') }}",
) }}
-- depends_on: {{ ref('int_identity_scope') }}
{%- if onefold.identity_scoped() %}
{{ onefold.connected_components(
    '(select resolved.left_node_id, resolved.right_node_id from ' ~ ref('int_identity_edges_resolved')
    ~ ' as resolved where ' ~ onefold.identity_in_scope('resolved.left_node_id', true) ~ ') as scoped_resolved_edges') }}
{%- else %}
{{ onefold.connected_components(ref('int_identity_edges_resolved')) }}
{%- endif %}
