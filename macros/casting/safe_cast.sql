{#-
    Casts that return null instead of failing, so a malformed raw value can be
    quarantined with a reason rather than aborting the build. Raw tables land as text.
-#}

{#-
    Dates and timestamps must start with an ISO-8601 date (YYYY-MM-DD); anything else
    is invalid on every warehouse, including the special words PostgreSQL or DuckDB
    would accept ('yesterday', 'today', 'now', 'tomorrow', 'epoch', 'infinity').
-#}
{% macro iso_date_pattern() -%}
    ^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}
{%- endmacro %}


{#- An ISO-8601 string to a UTC timestamp without time zone (no offset = UTC). -#}
{% macro safe_cast_utc_timestamp(column) %}
    {{ return(adapter.dispatch('safe_cast_utc_timestamp', 'onefold')(column)) }}
{% endmacro %}

{% macro default__safe_cast_utc_timestamp(column) -%}
    (case
        when regexp_matches(cast({{ column }} as {{ dbt.type_string() }}), '{{ onefold.iso_date_pattern() }}')
            then try_cast({{ column }} as {{ dbt.type_timestamp() }} with time zone) at time zone 'UTC'
    end)
{%- endmacro %}

{% macro postgres__safe_cast_utc_timestamp(column) -%}
    ({{ target.schema }}.onefold_try_timestamptz({{ column }}) at time zone 'UTC')
{%- endmacro %}

{#- Spark: the session's time zone is UTC (profiles.yml), so a timestamp with an offset
    is cast to its UTC time and one without is taken as UTC. -#}
{% macro spark__safe_cast_utc_timestamp(column) -%}
    (case
        when cast({{ column }} as string) rlike '{{ onefold.iso_date_pattern() }}'
            then try_cast({{ column }} as timestamp)
    end)
{%- endmacro %}


{% macro safe_cast_date(column) %}
    {{ return(adapter.dispatch('safe_cast_date', 'onefold')(column)) }}
{% endmacro %}

{% macro default__safe_cast_date(column) -%}
    case
        when regexp_matches(cast({{ column }} as {{ dbt.type_string() }}), '{{ onefold.iso_date_pattern() }}')
            then try_cast({{ column }} as date)
    end
{%- endmacro %}

{% macro postgres__safe_cast_date(column) -%}
    {{ target.schema }}.onefold_try_date({{ column }})
{%- endmacro %}

{% macro spark__safe_cast_date(column) -%}
    case
        when cast({{ column }} as string) rlike '{{ onefold.iso_date_pattern() }}'
            then try_cast({{ column }} as date)
    end
{%- endmacro %}


{#-
    Money and other decimals: numeric(18, 2) unless told otherwise. NaN, Infinity and
    values that overflow the type are null (invalid_number) on both warehouses.
-#}
{% macro safe_cast_decimal(column, precision=18, scale=2) %}
    {{ return(adapter.dispatch('safe_cast_decimal', 'onefold')(column, precision, scale)) }}
{% endmacro %}

{% macro default__safe_cast_decimal(column, precision, scale) -%}
    try_cast({{ column }} as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{% macro postgres__safe_cast_decimal(column, precision, scale) -%}
    cast({{ target.schema }}.onefold_try_decimal({{ column }}, {{ precision }}, {{ scale }}) as numeric({{ precision }}, {{ scale }}))
{%- endmacro %}


{% macro safe_cast_integer(column) %}
    {{ return(adapter.dispatch('safe_cast_integer', 'onefold')(column)) }}
{% endmacro %}

{#- Whole numbers only: '2.5' is rejected on both warehouses rather than rounded. -#}
{% macro default__safe_cast_integer(column) -%}
    case
        when regexp_full_match(trim({{ column }}), '[+-]?[0-9]{1,18}')
            then cast(trim({{ column }}) as bigint)
    end
{%- endmacro %}

{% macro postgres__safe_cast_integer(column) -%}
    case
        when trim({{ column }}) ~ '^[+-]?[0-9]{1,18}$'
            then cast(trim({{ column }}) as bigint)
    end
{%- endmacro %}

{% macro spark__safe_cast_integer(column) -%}
    case
        when {{ onefold.regex_full_match('trim(' ~ column ~ ')', '[+-]?[0-9]{1,18}') }}
            then cast(trim({{ column }}) as bigint)
    end
{%- endmacro %}


{#-
    Loader booleans arrive as 'true'/'false', 't'/'f', '1'/'0', 'yes'/'no'; staging
    quarantines any other present value (boolean_check), so null here means missing.
-#}
{% macro boolean_true_values() %}
    {{ return(['true', 't', '1', 'yes', 'y']) }}
{% endmacro %}

{% macro boolean_false_values() %}
    {{ return(['false', 'f', '0', 'no', 'n']) }}
{% endmacro %}

{% macro safe_cast_boolean(column) -%}
    case
        when lower(trim({{ column }})) in ('{{ onefold.boolean_true_values() | join("', '") }}') then true
        when lower(trim({{ column }})) in ('{{ onefold.boolean_false_values() | join("', '") }}') then false
    end
{%- endmacro %}


{#- JSON text to the warehouse's JSON type, null when the text does not parse. -#}
{% macro safe_parse_json(column) %}
    {{ return(adapter.dispatch('safe_parse_json', 'onefold')(column)) }}
{% endmacro %}

{% macro default__safe_parse_json(column) -%}
    case when json_valid({{ column }}) then cast({{ column }} as json) end
{%- endmacro %}

{% macro postgres__safe_parse_json(column) -%}
    {{ target.schema }}.onefold_try_jsonb({{ column }})
{%- endmacro %}

{#- Spark keeps JSON as text (get_json_object reads it); invalid text is null. -#}
{% macro spark__safe_parse_json(column) -%}
    case when try_parse_json({{ column }}) is not null then {{ column }} end
{%- endmacro %}


{#- A text value at a key path, e.g. json_text('context', ['page', 'url']). -#}
{% macro json_text(json_column, path) %}
    {{ return(adapter.dispatch('json_text', 'onefold')(json_column, path)) }}
{% endmacro %}

{% macro default__json_text(json_column, path) -%}
    nullif(json_extract_string({{ json_column }}, '$.{{ path | join(".") }}'), '')
{%- endmacro %}

{% macro postgres__json_text(json_column, path) -%}
    nullif({{ json_column }} #>> '{ {{- path | join(",") -}} }', '')
{%- endmacro %}

{% macro spark__json_text(json_column, path) -%}
    nullif(get_json_object({{ json_column }}, '$.{{ path | join(".") }}'), '')
{%- endmacro %}
