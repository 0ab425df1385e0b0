{#-
    Column types in Onefold's YAML (contracts, the segment check's typed columns) are
    spelled as DuckDB and PostgreSQL spell them. Spark SQL has other names for two:
    `string` for text and `double` for double precision.

    dbt casts a contract's declared types with `dbt.cast`; a Spark project sends that to
    Onefold with the dispatch setting of docs/spark.md:
        dispatch:
          - macro_namespace: dbt
            search_order: [<your project>, onefold, dbt]
-#}
{% macro warehouse_type(data_type) %}
    {{ return(adapter.dispatch('warehouse_type', 'onefold')(data_type)) }}
{% endmacro %}

{% macro default__warehouse_type(data_type) %}
    {{ return(data_type) }}
{% endmacro %}

{% macro spark__warehouse_type(data_type) %}
    {%- set spark_names = {'text': 'string', 'double precision': 'double'} -%}
    {{ return(spark_names.get(data_type | trim | lower, data_type)) }}
{% endmacro %}

{#- dbt.cast on Spark, for contracts (see above). -#}
{% macro spark__cast(field, type) %}
    cast({{ field }} as {{ onefold.warehouse_type(type) }})
{%- endmacro %}


{#- dbt's text inside a literal on Spark (unit-test fixtures, seeds' checks), through
    the same dispatch setting. dbt-spark escapes a quote with a backslash, which Spark
    keeps as written under escapedStringLiterals (profiles.yml): "o\'brien". No escape
    puts a quote in a Spark literal then, so the quote is spliced in between two. -#}
{% macro spark__escape_single_quotes(expression) -%}
    {{ expression | replace("'", "' || chr(39) || '") }}
{%- endmacro %}


{#- The 8-byte float type (`double precision`; Spark's `double`). -#}
{% macro type_double() %}
    {{ return(onefold.warehouse_type('double precision')) }}
{% endmacro %}
