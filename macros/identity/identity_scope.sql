{#-
    Incremental identity (docs/identity.md, "Incremental runs").

    A run reads again only the staged records that are new, changed or gone
    (int_identity_records_changed, against the load times int_identity_records_loaded
    kept), recomputes the values they carry (int_identifier_values) and the candidate
    edges of the records they touch (int_identity_records_relinked), and recomputes the
    identity graph only inside its scope (int_identity_scope): the records whose edges
    changed, and every record of each first-pass component such a record was in, or
    that holds a value such a record carries. The rest keeps its rows, components, cuts
    and ids.

    The models append what they recompute after a pre-hook below deleted it; those
    whose rows are unique name that key as unique_key, so that on PostgreSQL
    table_maintenance() indexes it for the next run's deletes and lookups.

    The state that tells what changed is written last in a run
    (int_identity_records_fingerprinted, then int_identity_records_loaded). Without it
    (first build, or a warehouse built before it existed), or with --full-refresh,
    every identity model is rebuilt whole.
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
    from a previous run (the record fingerprints, or the staged records' load times). -#}
{% macro identity_full_rebuild() %}
    {%- if flags.FULL_REFRESH -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(onefold.identity_state_relation() is none
        or onefold.identity_state_relation('int_identity_records_loaded') is none) }}
{% endmacro %}


{#- True when this model recomputes only the run's scope: an incremental model whose
    table exists, in a run that is not a whole rebuild. -#}
{% macro identity_scoped() %}
    {{ return(is_incremental() and not onefold.identity_full_rebuild()) }}
{% endmacro %}


{#-
    What the identity graph's answer depends on beyond the edges themselves: per-type
    limits, the cluster size guard, the probabilistic links' guard rounds and source
    priorities. Stored with every record's
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
        onefold.match_config().guard_max_rounds | string,
    ] -%}
    {{ return(onefold.node_id("'" ~ local_md5(parts | join('\n')) ~ "'")) }}
{% endmacro %}


{#-
    What the identifiers of a staged record depend on beyond the record itself, as one
    SQL number: the identity configuration above, the declarations (which column holds
    which identifier), the normalization settings and the normalizers' version, and the
    contents of the calling-code and blocklist seeds. Stored with every record's load time
    (int_identity_records_loaded): when it changes, every record counts as changed and
    the run recomputes everything (observations to ids) through the incremental path.
-#}
{% macro identity_input_fingerprint() %}
    {%- set declarations = [] -%}
    {%- for declaration in onefold.identifier_declarations() -%}
        {%- do declarations.append([declaration.source, declaration.record_key, declaration.observed_at,
            declaration.identifiers, declaration.composite_keys]) -%}
    {%- endfor -%}
    {%- set parts = [
        tojson(declarations),
        tojson(var('onefold__email_domain_aliases')),
        tojson(var('onefold__email_providers_with_plus_tags')),
        tojson(var('onefold__email_providers_ignoring_dots')),
        var('onefold__default_phone_calling_code') | string,
        'normalizers ' ~ onefold.normalizers_version(),
    ] -%}
    {%- set calling_codes = "(select coalesce(bit_xor(" ~ onefold.node_id(
        "country_code || '|' || calling_code") ~ "), 0) from " ~ ref('country_calling_codes') ~ ")" -%}
    {%- set blocklist = "(select coalesce(bit_xor(" ~ onefold.node_id(
        "identifier_type || '|' || match_type || '|' || pattern || '|' || coalesce(reason, '')")
        ~ "), 0) from " ~ ref('identity_blocklist') ~ ")" -%}
    {{ return(onefold.node_id("'" ~ local_md5(parts | join('\n')) ~ "|' || cast("
        ~ onefold.identity_config_fingerprint() ~ " as " ~ dbt.type_string() ~ ") || '|' || cast("
        ~ calling_codes ~ " as " ~ dbt.type_string() ~ ") || '|' || cast("
        ~ blocklist ~ " as " ~ dbt.type_string() ~ ")")) }}
{% endmacro %}


{#- When the last complete identity run saved its state (the newest saved_at of
    int_identity_records_loaded, written last), as a SQL scalar; the epoch when unknown.
    What a failed run changed after that is still newer than it, so the next run picks
    it up again. -#}
{% macro identity_last_saved_at() %}
    {%- set state = onefold.identity_state_relation('int_identity_records_loaded') -%}
    {%- set epoch = "cast('1970-01-01' as " ~ dbt.type_timestamp() ~ ")" -%}
    {%- if state is none -%}
        {{ return(epoch) }}
    {%- endif -%}
    {{ return("(select coalesce(max(saved_at), " ~ epoch ~ ") from " ~ state ~ ")") }}
{% endmacro %}


{#- This run's start time as a SQL timestamp (the same literal in every model). -#}
{% macro identity_run_started() %}
    {{ return("cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{% endmacro %}


{#- One candidate edge as a number (its end, rule, time and match probability); a
    record's fingerprint is the xor of its edges'. -#}
{% macro identity_edge_hash(table) %}
    {{ return(onefold.node_id(
        "cast(" ~ table ~ ".right_node_id as " ~ dbt.type_string() ~ ") || '|' || " ~ table ~ ".rule || '|' || "
        ~ "coalesce(cast(" ~ table ~ ".observed_at as " ~ dbt.type_string() ~ "), '') || '|' || "
        ~ "coalesce(cast(" ~ table ~ ".match_probability as " ~ dbt.type_string() ~ "), '')")) }}
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
    The pre-hooks' statement when a run is not scoped: nothing while dbt parses or on a
    first build, every row on a whole rebuild; none on a scoped run, whose pre-hook then
    deletes only the rows it recomputes.
-#}
{% macro identity_unscoped_delete() %}
    {%- if not execute or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- if onefold.identity_full_rebuild() -%}
        {{ return(onefold.delete_rows(this)) }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}


{#-
    Pre-hook of the incremental identity models: before the scope's rows are inserted
    again, delete what the previous run wrote for them (all rows on a whole rebuild).
      records     rows keyed by a record (column record_node_id or left_node_id);
    scope_model names the model listing the records (int_identity_records_relinked for
    the candidate edges).
      components  whole components (node_id, component_id) holding a scope record.
-#}
{% macro identity_scope_delete(kind, column='record_node_id', scope_model='int_identity_scope') %}
    {%- set unscoped = onefold.identity_unscoped_delete() -%}
    {%- if unscoped is not none -%}{{ return(unscoped) }}{%- endif -%}
    {%- set scope = 'select record_node_id from ' ~ ref(scope_model) -%}
    {%- if kind == 'records' -%}
        {{ return(onefold.delete_rows(this, column ~ ' in (' ~ scope ~ ')')) }}
    {%- elif kind == 'components' -%}
        {{ return(onefold.delete_rows(this, 'component_id in (select component_id from ' ~ this
            ~ ' where node_id in (' ~ scope ~ '))')) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("identity_scope_delete: unknown kind '" ~ kind ~ "'") }}
{% endmacro %}


{#-
    Pre-hook of the identity models kept per staged record (observations, normalized
    values, int_identifiers, the load-time state): delete the rows of the records this
    run reads again (int_identity_records_changed: new, changed or gone); all rows on a
    whole rebuild.
-#}
{% macro identity_records_delete() %}
    {%- set unscoped = onefold.identity_unscoped_delete() -%}
    {%- if unscoped is not none -%}{{ return(unscoped) }}{%- endif -%}
    {{ return(onefold.delete_rows(this, '(source, record_key) in (select source, record_key from '
        ~ ref('int_identity_records_changed') ~ ')')) }}
{% endmacro %}


{#-
    Pre-hook of int_identifier_values: delete the values the run's changed records carry
    now, and every value whose stored record count differs from int_identifiers' (the
    values changed records dropped, and values of records erased between builds); all
    rows on a whole rebuild. The model then computes every value it lacks.
-#}
{% macro identity_values_delete() %}
    {%- set unscoped = onefold.identity_unscoped_delete() -%}
    {%- if unscoped is not none -%}{{ return(unscoped) }}{%- endif -%}
    {%- set identifiers = ref('int_identifiers') -%}
    {%- set condition -%}
        (identifier_type, match_key) in (
            select identifier_type, match_key from {{ identifiers }}
            where {{ onefold.identity_record_changed() }}
            union all
            select stored.identifier_type, stored.match_key
            from {{ this }} as stored
            left join (
                select identifier_type, match_key, count(*) as records_touched
                from {{ identifiers }}
                group by identifier_type, match_key
            ) as counted
                on stored.identifier_type = counted.identifier_type and stored.match_key = counted.match_key
            where counted.records_touched is null or counted.records_touched != stored.records_touched
        )
    {%- endset -%}
    {{ return(onefold.delete_rows(this, condition)) }}
{% endmacro %}


{#- `(source, record_key) in (the records this run reads again)`; `1 = 1` on a whole
    rebuild. `present` leaves out the records that are gone. -#}
{% macro identity_record_changed(source_column='source', record_key_column='record_key', present=true) %}
    {%- if onefold.identity_full_rebuild() -%}
        {{ return('1 = 1') }}
    {%- endif -%}
    {{ return('(' ~ source_column ~ ', ' ~ record_key_column ~ ') in (select source, record_key from '
        ~ ref('int_identity_records_changed') ~ (' where not is_gone' if present else '') ~ ')') }}
{% endmacro %}


{#-
    The customer ids whose identity mart rows this run writes again, as a SQL query:
    the customers of the scope's records now, and every customer whose records changed
    since the last complete run (int_customer_id_history periods opened or closed since:
    the customer a record left, or one retired with no records left).
-#}
{% macro identity_customers_touched() %}
    {%- set last_saved = onefold.identity_last_saved_at() -%}
    {%- set statement -%}
        select customer_id from {{ ref('int_customer_ids_assigned') }}
        where {{ onefold.identity_in_scope('record_node_id', true) }}
        union
        select customer_id from {{ ref('int_customer_id_history') }}
        where valid_from > {{ last_saved }} or valid_to > {{ last_saved }}
    {%- endset -%}
    {{ return(statement) }}
{% endmacro %}


{#- The values int_identifier_values computed since the last complete run, as a SQL query
    of (identifier_type, match_key, node_id): their counts or observation times may
    have changed. -#}
{% macro identity_values_recomputed() %}
    {{ return('select identifier_type, match_key, node_id from ' ~ ref('int_identifier_values')
        ~ ' where computed_at > ' ~ onefold.identity_last_saved_at()) }}
{% endmacro %}


{#- Pre-hook of identity_map and identity_edges: delete the rows of the customers this
    run touches and of the values it computed again (all rows on a whole rebuild); the
    model inserts them recomputed. -#}
{% macro identity_mart_delete() %}
    {%- set unscoped = onefold.identity_unscoped_delete() -%}
    {%- if unscoped is not none -%}{{ return(unscoped) }}{%- endif -%}
    {{ return(onefold.delete_rows(this, 'customer_id in (' ~ onefold.identity_customers_touched()
        ~ ') or (identifier_type, match_key) in (select identifier_type, match_key from ('
        ~ onefold.identity_values_recomputed() ~ ') as recomputed)')) }}
{% endmacro %}


{#- Pre-hook of int_customer_ids_assigned: rows outside this run's scope keep their id,
    which is then also their previous id (as a whole rebuild would have it). -#}
{% macro identity_assigned_settle() %}
    {%- if not execute or not is_incremental() or onefold.identity_full_rebuild() -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(onefold.update_rows(this, {'previous_customer_id': 'customer_id'},
        'previous_customer_id is null or previous_customer_id != customer_id')) }}
{% endmacro %}
