{#-
    Where a base staging model reads its raw table. In order:
      1. a loader adapter, when the source's loader var selects one
         (onefold__web_loader: segment, onefold__shop_loader: shopify_fivetran,
         onefold__crm_loader: hubspot_fivetran): ref() of the adapter model, which
         outputs exactly the native table's shape (models/adapters/<loader>/);
      2. the table's relation var onefold__<table>_relation, when set: a
         "{{ source('x', 'y') }}" or "{{ ref('m') }}" expression (dbt renders it when the
         var is read, so the relation is in the DAG) or a plain database.schema.table;
      3. the package's own source (schema and table vars), as before.
    The source table in the sources YAML is disabled in cases 1 and 2.
-#}

{#- Loader var, accepted values and the adapter model of each native raw table. -#}
{% macro loader_adapters() %}
    {{ return({
        'web_events': {'var': 'onefold__web_loader', 'adapters': {'segment': 'adapter_segment__web_events'}},
        'shop_customers': {'var': 'onefold__shop_loader',
            'adapters': {'shopify_fivetran': 'adapter_shopify_fivetran__shop_customers'}},
        'shop_orders': {'var': 'onefold__shop_loader',
            'adapters': {'shopify_fivetran': 'adapter_shopify_fivetran__shop_orders'}},
        'shop_order_lines': {'var': 'onefold__shop_loader',
            'adapters': {'shopify_fivetran': 'adapter_shopify_fivetran__shop_order_lines'}},
        'crm_contacts': {'var': 'onefold__crm_loader',
            'adapters': {'hubspot_fivetran': 'adapter_hubspot_fivetran__crm_contacts'}},
    }) }}
{% endmacro %}


{#- The adapter model replacing `table_name`, or none when its loader is `native`. -#}
{% macro loader_adapter_model(table_name) %}
    {%- set entry = onefold.loader_adapters().get(table_name) -%}
    {%- if entry is none -%}{{ return(none) }}{%- endif -%}
    {%- set loader = var(entry['var'], 'native') or 'native' -%}
    {%- if loader == 'native' -%}{{ return(none) }}{%- endif -%}
    {%- if loader not in entry['adapters'] -%}
        {{ exceptions.raise_compiler_error(
            "The var " ~ entry['var'] ~ " is '" ~ loader ~ "': use native or one of "
            ~ (entry['adapters'].keys() | list | join(', ')) ~ " (docs/loaders.md).") }}
    {%- endif -%}
    {{ return(entry['adapters'][loader]) }}
{% endmacro %}


{% macro input_relation(source_name, table_name) %}
    {%- set adapter_model = onefold.loader_adapter_model(table_name) -%}
    {%- if adapter_model is not none -%}
        {{ return(ref(adapter_model)) }}
    {%- endif -%}
    {%- set override = var('onefold__' ~ table_name ~ '_relation', none) -%}
    {%- if override is not none and (override | string | trim) != '' -%}
        {{ return(onefold.as_relation(override, 'onefold__' ~ table_name ~ '_relation')) }}
    {%- endif -%}
    {{ return(source(source_name, table_name)) }}
{% endmacro %}


{#-
    A relation object from a var's value: a Relation as is, or its rendered text
    ("db"."schema"."table", schema.table, table; quoted or not), so its columns can be
    looked up with adapter.get_columns_in_relation.
-#}
{% macro as_relation(value, var_name='a relation var') %}
    {%- if value is not string -%}{{ return(value) }}{%- endif -%}
    {%- set parts = modules.re.findall('"((?:[^"]|"")*)"|([^".\\s]+)', value | trim) -%}
    {%- set names = [] -%}
    {%- for quoted, bare in parts -%}
        {%- do names.append(quoted | replace('""', '"') if quoted else bare) -%}
    {%- endfor -%}
    {%- if names | length == 0 or names | length > 3 -%}
        {{ exceptions.raise_compiler_error(
            var_name ~ " is '" ~ value ~ "': give \"{{ source('name', 'table') }}\", "
            ~ "\"{{ ref('model') }}\" or database.schema.table.") }}
    {%- endif -%}
    {%- set identifier = names[-1] -%}
    {%- set schema = names[-2] if names | length > 1 else target.schema -%}
    {%- set database = names[-3] if names | length > 2 else target.get('database') -%}
    {{ return(api.Relation.create(database=database, schema=schema, identifier=identifier)) }}
{% endmacro %}
