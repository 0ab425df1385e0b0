{#- Runs a list of statements, empty ones skipped; returns the last one's result. One
    call where the connection takes several statements at once (DuckDB, PostgreSQL),
    one call each on Spark, which takes one statement per call. -#}
{% macro run_statements(statements) %}
    {{ return(adapter.dispatch('run_statements', 'onefold')(statements | reject('equalto', '') | list)) }}
{% endmacro %}

{% macro default__run_statements(statements) %}
    {{ return(run_query(statements | join(';\n'))) }}
{% endmacro %}

{% macro spark__run_statements(statements) %}
    {%- set state = namespace(result=none) -%}
    {%- for statement in statements -%}
        {%- set state.result = run_query(statement) -%}
    {%- endfor -%}
    {{ return(state.result) }}
{% endmacro %}
