{#- The `part_number`th part of `text` split on the SQL text literal `delimiter`
    (1-based; '' when there is no such part). dbt's spark__split_part escapes the
    delimiter for a regex with '\\', which under escapedStringLiterals (profiles.yml)
    is two backslashes, so it never splits: Spark has split_part itself. Not named
    split_part: a project that dispatches dbt's macros to Onefold (docs/spark.md) would
    find default__split_part here and call itself. -#}
{% macro text_part(text, delimiter, part_number) %}
    {{ return(adapter.dispatch('text_part', 'onefold')(text, delimiter, part_number)) }}
{% endmacro %}

{% macro default__text_part(text, delimiter, part_number) %}
    {{ return(dbt.split_part(text, delimiter, part_number)) }}
{% endmacro %}

{% macro spark__text_part(text, delimiter, part_number) %}
    {{ return('split_part(' ~ text ~ ', ' ~ delimiter ~ ', ' ~ part_number ~ ')') }}
{% endmacro %}


{#- `body` with `name` bound to the value of `expression`, computed once: Spark's let.
    Spark inlines a SQL function's arguments at every use, which grows a plan
    exponentially when such functions call each other; a lambda's parameter is computed
    once, and a lambda may hold other lambdas (a SQL function call may not). -#}
{% macro sql_let(name, expression, body) -%}
    {{ return('transform(array(' ~ expression ~ '), ' ~ name ~ ' -> ' ~ body ~ ')[0]') }}
{%- endmacro %}
