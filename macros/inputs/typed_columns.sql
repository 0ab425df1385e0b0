{#-
    Staging reads raw columns as text: keys are trimmed, values checked against
    patterns and lists, rows hashed. Loaders land typed columns (timestamps with or
    without time zone, dates, numbers, booleans, JSON, structs). select_as_text() renders
    each column of the input relation as the text staging already understands, looked up
    from the relation's column types when the model runs, so the same checks and the same
    quarantine reasons apply to text and typed input alike:

      text                         as is (nothing changes for text input)
      timestamp with time zone     ISO-8601 in UTC with a `Z` ('2026-09-10T10:00:00.000000Z')
      timestamp without time zone  the same: a typed timestamp without zone is UTC
      date                         ISO-8601 date
      numbers, booleans            cast to text ('12.50', 'NaN' -> invalid_number; 'true')
      JSON, jsonb                  its JSON text
      STRUCT, MAP, LIST, arrays    to_json() text
    `_loaded_at` stays a timestamp (UTC, without time zone): staging compares it as one.
-#}

{% macro select_as_text(relation) -%}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    {%- if columns | length == 0 -%}
    select * from {{ relation }}
    {%- else -%}
    select
    {%- for column in columns %}
        {{ onefold.column_as_text(column) }} as {{ adapter.quote(column.name) }}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ relation }}
    {%- endif -%}
{%- endmacro %}


{#- What kind of value a column holds, from its warehouse type name. -#}
{% macro column_kind(column) %}
    {%- set dtype = (column.dtype or '') | lower | trim -%}
    {%- if column.is_string() or dtype in ['text', 'varchar', 'character varying', 'string', 'name', 'bpchar', 'character', 'char']
        or dtype.startswith('varchar') or dtype.startswith('character varying') -%}
        {{ return('text') }}
    {%- elif dtype in ['timestamp with time zone', 'timestamptz'] -%}
        {{ return('timestamptz') }}
    {%- elif dtype.startswith('timestamp') or dtype == 'datetime' -%}
        {{ return('timestamp') }}
    {%- elif dtype == 'date' -%}
        {{ return('date') }}
    {%- elif dtype in ['boolean', 'bool'] -%}
        {{ return('boolean') }}
    {%- elif dtype in ['json', 'jsonb'] -%}
        {{ return('json') }}
    {%- elif dtype.startswith('struct') or dtype.startswith('map') or dtype.startswith('union')
        or dtype.startswith('list') or dtype.endswith(']') or dtype == 'array' -%}
        {{ return('nested') }}
    {%- elif column.is_number() or dtype.startswith('decimal') or dtype.startswith('numeric')
        or dtype in ['double', 'double precision', 'real', 'float', 'hugeint', 'uhugeint', 'smallint',
                     'integer', 'bigint', 'tinyint', 'ubigint', 'uinteger', 'usmallint', 'utinyint'] -%}
        {{ return('number') }}
    {%- else -%}
        {{ return('other') }}
    {%- endif -%}
{% endmacro %}


{#- True for columns rendered as free text (length checks apply): text and JSON. -#}
{% macro is_text_like(column) %}
    {{ return(onefold.column_kind(column) in ['text', 'json', 'nested']) }}
{% endmacro %}


{% macro column_as_text(column) %}
    {{ return(adapter.dispatch('column_as_text', 'onefold')(column, onefold.column_kind(column))) }}
{% endmacro %}

{% macro default__column_as_text(column, kind) -%}
    {%- set name = adapter.quote(column.name) -%}
    {%- if column.name == '_loaded_at' and kind == 'timestamptz' -%}
        cast(({{ name }} at time zone 'UTC') as {{ dbt.type_timestamp() }})
    {%- elif kind == 'text' or column.name == '_loaded_at' -%}
        {{ name }}
    {%- elif kind == 'timestamptz' -%}
        strftime({{ name }} at time zone 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ')
    {%- elif kind == 'timestamp' -%}
        strftime(cast({{ name }} as timestamp), '%Y-%m-%dT%H:%M:%S.%fZ')
    {%- elif kind == 'nested' -%}
        cast(to_json({{ name }}) as {{ dbt.type_string() }})
    {%- else -%}
        cast({{ name }} as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{% macro postgres__column_as_text(column, kind) -%}
    {%- set name = adapter.quote(column.name) -%}
    {%- if column.name == '_loaded_at' and kind == 'timestamptz' -%}
        ({{ name }} at time zone 'UTC')
    {%- elif kind == 'text' or column.name == '_loaded_at' -%}
        {{ name }}
    {%- elif kind == 'timestamptz' -%}
        to_char({{ name }} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    {%- elif kind == 'timestamp' -%}
        to_char({{ name }}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    {%- elif kind == 'date' -%}
        to_char({{ name }}, 'YYYY-MM-DD')
    {%- elif kind == 'nested' -%}
        cast(to_json({{ name }}) as text)
    {%- else -%}
        cast({{ name }} as text)
    {%- endif -%}
{%- endmacro %}
