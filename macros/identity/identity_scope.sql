{#-
    Incremental identity (docs/identity.md, "Incremental runs"). A run recomputes the
    identity graph only inside its scope (int_identity_scope): the records whose edges
    changed since the last run, and every record of each first-pass component such a
    record was in, or that holds a value such a record carries. The rest of the graph
    keeps its components, cuts and ids.

    The state that tells what changed is int_identity_records_fingerprinted, written
    last in a run. Without it (first build, or a warehouse built before incremental
    identity existed), or with --full-refresh, every identity model is rebuilt whole.
-#}

{#- The previous run's state table, or none. Read by relation lookup, not ref(): the
    models that read it feed it. -#}
{% macro identity_state_relation(name='int_identity_records_fingerprinted') %}
    {%- if not execute or this is not defined or not this -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=this.database, schema=this.schema, identifier=name)) }}
{% endmacro %}


{#- True when this run rebuilds the identity graph whole: --full-refresh, or no state
    from a previous run. -#}
{% macro identity_full_rebuild() %}
    {%- if flags.FULL_REFRESH -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(onefold.identity_state_relation() is none) }}
{% endmacro %}


{#- True when this model recomputes only the run's scope: an incremental model whose
    table exists, in a run that is not a whole rebuild. -#}
{% macro identity_scoped() %}
    {{ return(is_incremental() and not onefold.identity_full_rebuild()) }}
{% endmacro %}


{#-
    What the identity graph's answer depends on beyond the edges themselves: per-type
    limits, the cluster size guard and source priorities. Stored with every record's
    fingerprint, so a change of any of them puts every record in scope (a whole
    recompute, done by the incremental path). Changes to identifier types, normalizers,
    the blocklist or hub thresholds change edges and are found record by record anyway.
-#}
{% macro identity_config_fingerprint() %}
    {%- set parts = [
        tojson(var('onefold__identifier_types')),
        tojson(var('onefold__composite_keys')),
        var('onefold__max_cluster_size') | string,
        var('onefold__oversized_cluster_action') | string,
        onefold.source_priority_rank('source') | string,
    ] -%}
    {{ return(onefold.node_id("'" ~ local_md5(parts | join('\n')) ~ "'")) }}
{% endmacro %}


{#- One candidate edge as a number; a record's fingerprint is the xor of its edges'. -#}
{% macro identity_edge_hash(table) %}
    {{ return(onefold.node_id(
        "cast(" ~ table ~ ".right_node_id as " ~ dbt.type_string() ~ ") || '|' || " ~ table ~ ".rule || '|' || "
        ~ "coalesce(cast(" ~ table ~ ".observed_at as " ~ dbt.type_string() ~ "), '')")) }}
{% endmacro %}


{#- `column in (the run's scope)`; `true` when the run rebuilds everything. -#}
{% macro identity_in_scope(column, scoped=none) %}
    {%- if scoped is none -%}
        {%- set scoped = not onefold.identity_full_rebuild() -%}
    {%- endif -%}
    {%- if scoped -%}
        {{ return(column ~ ' in (select record_node_id from ' ~ ref('int_identity_scope') ~ ')') }}
    {%- endif -%}
    {{ return('1 = 1') }}
{% endmacro %}


{#-
    Pre-hook of the incremental identity models: before the scope's rows are inserted
    again, delete what the previous run wrote for them (all rows on a whole rebuild).
      records     rows keyed by a record (column record_node_id or left_node_id);
      components  whole components (node_id, component_id) holding a scope record.
-#}
{% macro identity_scope_delete(kind, column='record_node_id') %}
    {%- if not execute or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- if onefold.identity_full_rebuild() -%}
        {{ return('delete from ' ~ this) }}
    {%- endif -%}
    {%- set scope = 'select record_node_id from ' ~ ref('int_identity_scope') -%}
    {%- if kind == 'records' -%}
        {{ return('delete from ' ~ this ~ ' where ' ~ column ~ ' in (' ~ scope ~ ')') }}
    {%- elif kind == 'components' -%}
        {{ return('delete from ' ~ this ~ ' where component_id in (select component_id from ' ~ this
            ~ ' where node_id in (' ~ scope ~ '))') }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("identity_scope_delete: unknown kind '" ~ kind ~ "'") }}
{% endmacro %}


{#- Pre-hook of int_customer_ids_assigned: rows outside this run's scope keep their id,
    which is then also their previous id (as a whole rebuild would have it). -#}
{% macro identity_assigned_settle() %}
    {%- if not execute or not is_incremental() or onefold.identity_full_rebuild() -%}
        {{ return('') }}
    {%- endif -%}
    {{ return('update ' ~ this ~ ' set previous_customer_id = customer_id'
        ~ ' where previous_customer_id is null or previous_customer_id != customer_id') }}
{% endmacro %}
