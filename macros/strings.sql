{#- The `part_number`th part of `text` split on the SQL text literal `delimiter`
    (1-based; '' when there is no such part). dbt's spark__split_part escapes the
    delimiter for a regex with '\\', which under escapedStringLiterals (profiles.yml)
    is two backslashes, so it never splits: Spark has split_part itself. -#}
{% macro split_part(text, delimiter, part_number) %}
    {{ return(adapter.dispatch('split_part', 'onefold')(text, delimiter, part_number)) }}
{% endmacro %}

{% macro default__split_part(text, delimiter, part_number) %}
    {{ return(dbt.split_part(text, delimiter, part_number)) }}
{% endmacro %}

{% macro spark__split_part(text, delimiter, part_number) %}
    {{ return('split_part(' ~ text ~ ', ' ~ delimiter ~ ', ' ~ part_number ~ ')') }}
{% endmacro %}
