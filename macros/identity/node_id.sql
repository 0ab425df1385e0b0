{#-
    A graph node id: a signed 64-bit hash of a text expression, the same number on every
    warehouse for the same text (the first 16 hex digits of its MD5, read as a two's
    complement bigint). Hashed ids also keep connected_components away from its slow
    case, long chains whose ids increase along the chain. Null in, null out.
-#}
{% macro node_id(expression) %}
    {{ return(adapter.dispatch('node_id', 'onefold')(expression)) }}
{% endmacro %}

{% macro default__node_id(expression) -%}
    cast(cast('x' || substr(md5(cast({{ expression }} as {{ dbt.type_string() }})), 1, 16) as bit(64)) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#-
    DuckDB reads '0x…' strings as unsigned integers; the two 8-digit halves keep the
    arithmetic in signed bigint: high half as a signed 32-bit number times 2^32, plus the
    low half.
-#}
{% macro duckdb__node_id(expression) -%}
    (
        (
            cast(('0x' || substr(md5(cast({{ expression }} as varchar)), 1, 8)) as bigint)
            - 4294967296 * cast(substr(md5(cast({{ expression }} as varchar)), 1, 1) >= '8' as bigint)
        ) * 4294967296
        + cast(('0x' || substr(md5(cast({{ expression }} as varchar)), 9, 8)) as bigint)
    )
{%- endmacro %}

{#- Spark's conv() reads the 16 hex digits as two's complement when asked for a signed
    (negative) base. -#}
{% macro spark__node_id(expression) -%}
    cast(conv(substr(md5(cast({{ expression }} as string)), 1, 16), 16, -10) as bigint)
{%- endmacro %}
