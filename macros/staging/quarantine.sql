{#-
    Shared pieces of the base staging models: every source routes rows it cannot parse
    to quarantine with a reason and the column at fault, instead of dropping them.
-#}

{#- Now as a UTC timestamp without time zone; the same SQL on DuckDB and Postgres. -#}
{% macro utc_now() -%}
    (now() at time zone 'UTC')
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
    Marks every clean row but the one kept for each key as a duplicate. Suppressed rows
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
                partition by (quarantine_reason is null and not is_suppressed), {{ key_column }}
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
    row the base model could not use, exactly as they landed (so they can be fixed and
    replayed), with the reason and the column at fault.
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
