{#-
    How PostgreSQL plans a CTE, said after `as` (`parsed as {{ onefold.parse_once() }} (`).
    PostgreSQL inlines a CTE read once and materializes one read twice or more; these two
    macros override that where it goes wrong. Both are empty elsewhere.
-#}

{#-
    After `as` in a CTE that parses raw values (`parsed as {{ onefold.parse_once() }} (`):
    its columns are read by several checks further on. PostgreSQL folds a CTE read once
    into the query that reads it and then evaluates the expression at every mention
    (it has no common subexpression elimination), so each safe cast ran once per check
    that reads its result, up to ten times a row; `materialized` runs it once a row.
    DuckDB has try_cast built in: nothing there.
-#}
{% macro parse_once() %}
    {{ return(adapter.dispatch('parse_once', 'onefold')()) }}
{% endmacro %}

{% macro default__parse_once() %}
    {{ return('') }}
{% endmacro %}

{% macro postgres__parse_once() %}
    {{ return('materialized') }}
{% endmacro %}


{#-
    After `as` in an import CTE of a table that is read twice and filtered or joined
    (`identifier_values as {{ onefold.inline_cte() }} (`). A materialized CTE has no
    statistics, so PostgreSQL guesses the rows left after a filter on it; stacked
    filters make the guess one row, and a join against one row is planned as a nested
    loop that runs once per row of the other side (int_identity_records_relinked: 11 s
    at 300 people, quadratic after). `not materialized` plans each reader against the
    table and its statistics.
-#}
{% macro inline_cte() %}
    {{ return(adapter.dispatch('inline_cte', 'onefold')()) }}
{% endmacro %}

{% macro default__inline_cte() %}
    {{ return('') }}
{% endmacro %}

{% macro postgres__inline_cte() %}
    {{ return('not materialized') }}
{% endmacro %}


{#-
    After `as` in a CTE that a query reads several times and that should run once
    (`base_rows as {{ onefold.compute_once() }} (`): `materialized` on DuckDB and
    PostgreSQL; Spark has no such hint (it reuses an exchange it has already computed).
-#}
{% macro compute_once() %}
    {{ return(adapter.dispatch('compute_once', 'onefold')()) }}
{% endmacro %}

{% macro default__compute_once() %}
    {{ return('materialized') }}
{% endmacro %}

{% macro spark__compute_once() %}
    {{ return('') }}
{% endmacro %}
