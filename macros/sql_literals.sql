{#- A Jinja string as a SQL text literal. -#}
{% macro sql_text(value) -%}
    '{{ (value | string).replace("'", "''") }}'
{%- endmacro %}


{#- Jinja strings as a comma-separated list of SQL text literals (for `in (...)`). -#}
{% macro sql_text_list(values) -%}
    {%- for value in values %}{{ onefold.sql_text(value) }}{% if not loop.last %}, {% endif %}{% endfor -%}
{%- endmacro %}
