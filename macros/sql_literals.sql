{#- A Jinja string as a SQL text literal. -#}
{% macro sql_text(value) -%}
    {{ return(adapter.dispatch('sql_text', 'onefold')(value | string)) }}
{%- endmacro %}

{% macro default__sql_text(value) -%}
    '{{ value.replace("'", "''") }}'
{%- endmacro %}

{#- Spark reads its literals as written (escapedStringLiterals, profiles.yml): no
    escape can put a quote in one ('it''s' is two literals, 'its'), so text with a
    quote or a backslash travels as the hex of its UTF-8 bytes. -#}
{% macro spark__sql_text(value) -%}
    {%- if "'" in value or "\\" in value -%}
        cast(unhex('{{ value.encode("utf-8").hex() }}') as string)
    {%- else -%}
        '{{ value }}'
    {%- endif -%}
{%- endmacro %}


{#- Jinja strings as a comma-separated list of SQL text literals (for `in (...)`). -#}
{% macro sql_text_list(values) -%}
    {%- for value in values %}{{ onefold.sql_text(value) }}{% if not loop.last %}, {% endif %}{% endfor -%}
{%- endmacro %}


{#- A select of literal rows (lists of text and numbers); `columns` lists each
    column's [name, type]. No rows when `rows` is empty. -#}
{% macro literal_rows(columns, rows) -%}
    select
        {%- for column in columns %}
            cast({{ 'null' if rows | length == 0 else column[0] }} as {{ column[1] }}) as {{ column[0] }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    {%- if rows | length == 0 %}
    where false
    {%- else %}
    from (values
        {%- for row in rows %}
            ({% for value in row %}{% if value is string %}{{ onefold.sql_text(value) }}{% else %}{{ value }}{% endif %}{% if not loop.last %}, {% endif %}{% endfor %}){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as literal_rows ({% for column in columns %}{{ column[0] }}{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif %}
{%- endmacro %}
