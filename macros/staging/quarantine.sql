{#-
    Shared pieces of the base staging models: every source routes rows it cannot parse
    to quarantine with a reason and the column at fault, instead of dropping them.
-#}

{#- Now as a UTC timestamp without time zone; the same SQL on DuckDB and Postgres. -#}
{% macro utc_now() -%}
    {{ return(adapter.dispatch('utc_now', 'onefold')()) }}
{%- endmacro %}

{% macro default__utc_now() -%}
    (now() at time zone 'UTC')
{%- endmacro %}

{#- Spark's timestamps show in the session's time zone: UTC's wall clock in any. -#}
{% macro spark__utc_now() -%}
    to_utc_timestamp(current_timestamp(), current_timezone())
{%- endmacro %}


{#-
    The conditions that make a raw timestamp unusable, as (condition, reason) pairs:
    missing (when required), present but unparseable, or outside
    [onefold__min_valid_timestamp, now + onefold__max_future_days].
-#}
{% macro timestamp_checks(raw_column, parsed_column, required=true) %}
    {%- set checks = [] -%}
    {%- if required -%}
        {%- do checks.append({
            'when': raw_column ~ " is null or trim(" ~ raw_column ~ ") = ''",
            'reason': 'missing_timestamp', 'column': raw_column}) -%}
    {%- endif -%}
    {%- do checks.append({
        'when': raw_column ~ " is not null and trim(" ~ raw_column ~ ") != '' and "
            ~ parsed_column ~ " is null",
        'reason': 'invalid_timestamp', 'column': raw_column}) -%}
    {%- do checks.append({
        'when': parsed_column ~ " < cast('" ~ var('onefold__min_valid_timestamp') ~ "' as "
            ~ dbt.type_timestamp() ~ ") or " ~ parsed_column ~ " > "
            ~ dbt.dateadd('day', var('onefold__max_future_days'), onefold.utc_now()),
        'reason': 'timestamp_out_of_range', 'column': raw_column}) -%}
    {{ return(checks) }}
{% endmacro %}


{#-
    A row the loader says it landed after now + onefold__max_future_days: a broken
    loader clock. Staged, it would push the incremental marts' load-time window into
    the future; quarantined (loaded_in_future), it is staged once its load time is
    no longer in the future.
-#}
{% macro loaded_at_check(loaded_at_column='_loaded_at') %}
    {{ return({
        'when': loaded_at_column ~ " > "
            ~ dbt.dateadd('day', var('onefold__max_future_days'), onefold.utc_now()),
        'reason': 'loaded_in_future', 'column': loaded_at_column}) }}
{% endmacro %}


{#-
    A date that must be plausible (a birth date): present but not an ISO date
    (invalid_date, e.g. '0000-00-00'), or outside [min_date, today]
    (date_out_of_range, e.g. '9999-12-31').
-#}
{% macro date_checks(raw_column, parsed_column, min_date) %}
    {{ return([
        onefold.unparseable_check(raw_column, parsed_column, 'invalid_date'),
        {'when': parsed_column ~ " < cast('" ~ min_date ~ "' as date) or "
            ~ parsed_column ~ " > cast(" ~ onefold.utc_now() ~ " as date)",
         'reason': 'date_out_of_range', 'column': raw_column}]) }}
{% endmacro %}


{#- The spellings safe_cast_boolean reads; any other present value is unexpected. -#}
{% macro boolean_check(raw_column) %}
    {%- set listed = onefold.boolean_true_values() + onefold.boolean_false_values() -%}
    {{ return({
        'when': "trim(" ~ raw_column ~ ") != '' and lower(trim(" ~ raw_column ~ ")) not in ('"
            ~ (listed | join("', '")) ~ "')",
        'reason': 'unexpected_value', 'column': raw_column}) }}
{% endmacro %}


{#-
    One check per text column of the raw table: a value longer than its declared
    maximum (onefold__max_text_lengths: `<table>.<column>`, then `<column>`, then
    `default`, in characters) is quarantined as value_too_long, so a 1 MB name never
    reaches the marts. JSON and struct columns count as text (their JSON text); other
    typed columns (timestamps, numbers, booleans) have no length. `table_name` is the
    native raw table's name (default: the relation's), also behind an adapter or a
    relation var.
-#}
{% macro value_length_checks(source_relation, table_name=none) %}
    {%- set lengths = var('onefold__max_text_lengths') -%}
    {%- set checks = [] -%}
    {%- set columns = adapter.get_columns_in_relation(source_relation) if execute else [] -%}
    {%- set table_name = table_name or source_relation.identifier -%}
    {%- for column in columns if onefold.is_text_like(column) and column.name != '_loaded_at' -%}
        {%- set limit = lengths.get(table_name ~ '.' ~ column.name,
            lengths.get(column.name, lengths['default'])) -%}
        {%- if limit is not none -%}
            {%- do checks.append({
                'when': 'length(' ~ adapter.quote(column.name) ~ ') > ' ~ limit,
                'reason': 'value_too_long', 'column': column.name}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(checks) }}
{% endmacro %}


{#- A key that is null or blank cannot be deduplicated or traced: quarantine it. -#}
{% macro missing_key_check(raw_column) %}
    {{ return({
        'when': raw_column ~ " is null or trim(" ~ raw_column ~ ") = ''",
        'reason': 'missing_key', 'column': raw_column}) }}
{% endmacro %}


{#- A present value outside an allowed set (compared lowercased and trimmed). -#}
{% macro unexpected_value_check(raw_column, allowed, required=true) %}
    {%- set listed = "('" ~ (allowed | map('lower') | join("', '")) ~ "')" -%}
    {%- set condition = "lower(trim(" ~ raw_column ~ ")) not in " ~ listed -%}
    {%- if required -%}
        {%- set condition = raw_column ~ " is null or " ~ condition -%}
    {%- endif -%}
    {{ return({'when': condition, 'reason': 'unexpected_value', 'column': raw_column}) }}
{% endmacro %}


{#- A present value that did not cast (number, date, JSON): `parsed` is its cast. -#}
{% macro unparseable_check(raw_column, parsed, reason) %}
    {{ return({
        'when': raw_column ~ " is not null and trim(" ~ raw_column ~ ") != '' and "
            ~ parsed ~ " is null",
        'reason': reason, 'column': raw_column}) }}
{% endmacro %}


{#-
    The two quarantine columns from an ordered list of checks (dicts with `when`,
    `reason`, `column`). The first failing check wins, so list the most fundamental
    first. Rows with a null quarantine_reason are clean.
-#}
{% macro quarantine_columns(checks) -%}
    case
    {%- for check in checks %}
        when {{ check.when }} then '{{ check.reason }}'
    {%- endfor %}
    end as quarantine_reason,
    case
    {%- for check in checks %}
        when {{ check.when }} then '{{ check.column }}'
    {%- endfor %}
    end as quarantine_column
{%- endmacro %}


{#-
    Marks every clean row but the one kept for each key (trimmed: ' k1' and 'k1' are
    one record, as staging trims keys) as a duplicate. Suppressed rows
    (is_suppressed: they carry an erased identifier) do not compete, so a replayed copy
    of an erased person's row can never displace the redacted row that was kept. `order_by`
    lists expressions with their direction (the kept row sorts first, e.g.
    'updated_at desc' for the latest version of a record, '_loaded_at asc' for the
    first delivery of an immutable event); a hash of the whole raw row breaks exact
    ties the same way on every run and every warehouse.
-#}
{% macro duplicate_flag(key_column, order_by, row_hash_columns) -%}
    case
        when quarantine_reason is null and not is_suppressed
            then row_number() over (
                partition by (quarantine_reason is null and not is_suppressed), trim({{ key_column }})
                order by
                {%- for column in order_by %}
                    {{ column }} nulls last,
                {%- endfor %}
                    {{ onefold.row_hash(row_hash_columns) }} desc
            ) > 1
        else false
    end as is_duplicate
{%- endmacro %}


{#- md5 over the raw text columns, null-safe, for deterministic tie-breaks. -#}
{% macro row_hash(columns) -%}
    md5(
    {%- for column in columns %}
        coalesce({{ column }}, '<null>'){% if not loop.last %} || '|' ||{% endif %}
    {%- endfor %}
    )
{%- endmacro %}


{#-
    The body of a `stg_<source>__<entity>s_quarantine` model: the raw columns of every
    row the base model could not use, exactly as they landed (typed columns as the text
    staging read, select_as_text), so they can be fixed and replayed, with the reason
    and the column at fault.
-#}
{% macro quarantined_rows(base_model, source_relation) -%}
    {%- set raw_columns = adapter.get_columns_in_relation(source_relation) if execute else [] -%}
with

quarantined as (

    select
    {%- for column in raw_columns %}
        {{ adapter.quote(column.name) }},
    {%- endfor %}
        quarantine_reason,
        quarantine_column
    from {{ base_model }}
    -- A suppressed row is an erased person's data: never shown, not even as quarantined.
    where quarantine_reason is not null and not is_suppressed

)

select * from quarantined
{%- endmacro %}
