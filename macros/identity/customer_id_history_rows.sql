{#-
    The rows of int_customer_id_history as they were before this run, or an empty,
    typed set on the first build. Read by relation lookup, not ref(): the history is
    fed by the models that read it.
-#}
{% macro customer_id_history_rows() %}
    {%- set history = adapter.get_relation(
        database=this.database, schema=this.schema, identifier='int_customer_id_history') -%}
    {%- if history is not none -%}
    select
        record_node_id,
        customer_id,
        customer_created_at,
        valid_to
    from {{ history }}
    {%- else -%}
    select
        cast(null as bigint) as record_node_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_timestamp() }}) as customer_created_at,
        cast(null as {{ dbt.type_timestamp() }}) as valid_to
    where 1 = 0
    {%- endif -%}
{% endmacro %}
