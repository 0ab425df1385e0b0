{#-
    The two event streams (web and email events), the only sources with millions of
    rows, are staged incrementally. Their base views flag every raw row (quarantine,
    erased person, repeat delivery); the same flags are computed here from any CTE of
    raw rows, so the full build (over the base view) and an incremental run (over the
    raw rows it must look at again) apply exactly the same rules.
-#}

{#- parsed, validated and flagged CTEs over `source_cte` (rows as select_as_text gives
    them) of raw web events; the caller ends with `select ... from flagged`. -#}
{% macro web_events_flags(source_cte) -%}
parsed as {{ onefold.parse_once() }} (

    select
        *,
        {{ onefold.safe_cast_utc_timestamp('original_timestamp') }} as parsed_original_at,
        {{ onefold.safe_cast_utc_timestamp('sent_at') }} as parsed_sent_at,
        {{ onefold.safe_cast_utc_timestamp('received_at') }} as parsed_received_at,
        {{ onefold.safe_parse_json('context') }} as context_json,
        {{ onefold.safe_parse_json('properties') }} as properties_json,
        {{ onefold.safe_parse_json('traits') }} as traits_json
    from {{ source_cte }}

),

validated as (

    select
        *,
        {{ onefold.quarantine_columns(
            onefold.value_length_checks(onefold.input_relation('web', 'web_events'), 'web_events')
            + [onefold.missing_key_check('message_id'),
             onefold.loaded_at_check(),
             onefold.unexpected_value_check('type', ['track', 'page', 'identify'])]
            + onefold.timestamp_checks('original_timestamp', 'parsed_original_at')
            + [onefold.unparseable_check('context', 'context_json', 'invalid_json'),
               onefold.unparseable_check('properties', 'properties_json', 'invalid_json'),
               onefold.unparseable_check('traits', 'traits_json', 'invalid_json')]
        ) }},
        -- Rows carrying an erased identifier: neither staged nor quarantined (onefold erase).
        {{ onefold.suppression_flag('web_events', parsed_json={'context': 'context_json', 'traits': 'traits_json'}) }} as is_suppressed
    from parsed

),

flagged as (

    select
        *,
        {{ onefold.duplicate_flag(
            'message_id',
            ['_loaded_at asc'],
            ['message_id', 'anonymous_id', 'user_id', 'type', 'event', 'original_timestamp',
             'sent_at', 'received_at', 'context', 'properties', 'traits']
        ) }}
    from validated

)
{%- endmacro %}


{#- The same for raw email platform events. -#}
{% macro email_events_flags(source_cte) -%}
parsed as {{ onefold.parse_once() }} (

    select
        *,
        {{ onefold.safe_cast_utc_timestamp('occurred_at') }} as parsed_occurred_at
    from {{ source_cte }}

),

validated as (

    select
        *,
        {{ onefold.quarantine_columns(
            onefold.value_length_checks(onefold.input_relation('email', 'email_events'), 'email_events')
            + [onefold.missing_key_check('event_id'),
             onefold.loaded_at_check(),
             onefold.unexpected_value_check(
                'event_type',
                ['sent', 'delivered', 'open', 'click', 'bounce', 'unsubscribe', 'spam_report'])]
            + onefold.timestamp_checks('occurred_at', 'parsed_occurred_at')
        ) }},
        -- Rows carrying an erased identifier: neither staged nor quarantined (onefold erase).
        {{ onefold.suppression_flag('email_events') }} as is_suppressed
    from parsed

),

flagged as (

    select
        *,
        {{ onefold.duplicate_flag(
            'event_id',
            ['_loaded_at asc'],
            ['event_id', 'email_address', 'campaign_id', 'event_type', 'url', 'occurred_at']
        ) }}
    from validated

)
{%- endmacro %}


{#-
    CTEs ending in `changed_rows`: the raw rows an incremental run of an event staging
    table must flag again, which are ALL raw rows of every record key that

    - has no staged row (new keys, keys so far only quarantined or suppressed, keys
      whose staged row erasure deleted: a clean copy among them is staged now),
    - has a raw row loaded before its staged row (a back-dated delivery: it is the
      first delivery now, and the first delivery is the one kept), or
    - has a raw row loaded within the lookback window: from the newest staged load time
      (never later than now) minus onefold__incremental_lookback_days.

    Every raw row of such a key competes again, so the kept delivery is the one a full
    build keeps; a key none of this touches keeps its staged row, which a full build
    would keep too (a later delivery never displaces the first). `raw_key` is the raw
    key column (staging trims it), `staged_key` the table's record key column.
-#}
{% macro event_rows_to_restage(raw_relation, raw_key, staged_key) -%}
raw_keys as (

    {{ onefold.select_as_text(raw_relation) }}

),

staged as (

    select
        {{ staged_key }} as record_key,
        loaded_at
    from {{ this }}

),

touched_keys as (

    select distinct trim(raw_keys.{{ raw_key }}) as record_key
    from raw_keys
    left join staged
        on trim(raw_keys.{{ raw_key }}) = staged.record_key
    where
        staged.record_key is null
        or raw_keys._loaded_at < staged.loaded_at
        or raw_keys._loaded_at >= {{ onefold.incremental_lookback_start('loaded_at') }}

),

raw_rows as (

    {{ onefold.select_as_text(raw_relation) }}

),

changed_rows as (

    select raw_rows.*
    from raw_rows
    where trim(raw_rows.{{ raw_key }}) in (select touched_keys.record_key from touched_keys)

)
{%- endmacro %}


{#-
    The materialization of a model kept incremental with `delete+insert` on a unique
    key: on Spark a table built in full every run, because Spark deletes no rows from a
    parquet table and dbt-spark's `merge` needs Delta, Iceberg or Hudi (docs/spark.md).
    A full build holds what the incremental one does, at the cost of reading all of
    its input.
-#}
{% macro keyed_incremental() %}
    {{ return('table' if target.type == 'spark' else 'incremental') }}
{% endmacro %}


{#-
    A history table's strategy: `delete+insert` on its unique key, which replaces a row
    the run closes; on Spark `append` (no delete+insert on parquet), and its post-hook
    drop_superseded_rows drops the open version the closed one supersedes.
-#}
{% macro keyed_incremental_strategy() %}
    {{ return('append' if target.type == 'spark' else 'delete+insert') }}
{% endmacro %}

{#- Post-hook on Spark: rows matching `superseded` whose key (`key_columns`) another row
    of the table also has, which does not match it. Nothing elsewhere. -#}
{% macro drop_superseded_rows(key_columns, superseded) %}
    {%- if target.type != 'spark' or not is_incremental() -%}{{ return('') }}{%- endif -%}
    {%- set key = '(' ~ key_columns | join(', ') ~ ')' -%}
    {{ return(onefold.delete_rows(this, superseded ~ ' and ' ~ key ~ ' in (select ' ~ key_columns | join(', ')
        ~ ' from ' ~ this ~ ' where not (' ~ superseded ~ '))')) }}
{% endmacro %}


{#-
    Pre-hook of an incremental event staging table: staged rows whose raw delivery is
    gone (a source or `onefold erase --sweep` deleted it) go too, before the run looks
    for keys without a staged row; so another delivery of the key is staged if one is
    left, as in a full build. One anti-join of the staged keys with the raw ones.
-#}
{% macro delete_vanished_event_rows(raw_relation, raw_key, staged_key) %}
    {%- if not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {{ return('delete from ' ~ this ~ ' as staged_row where not exists (select 1 from ('
        ~ onefold.select_as_text(raw_relation) ~ ') as raw_row where trim(raw_row.' ~ raw_key
        ~ ') = staged_row.' ~ staged_key ~ ' and raw_row._loaded_at = staged_row.loaded_at)') }}
{% endmacro %}
