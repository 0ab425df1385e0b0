{#-
    Loaders land their tables in schemas of their own (`segment`, `shopify`), not under
    the dbt target's schema. This project's fixture seeds stand in for those tables, so
    they go to exactly the schema they are configured with; every other node (Onefold's
    models and this project's own) is placed as dbt does by default.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if node.resource_type == 'seed' and node.package_name == project_name and custom_schema_name -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ default__generate_schema_name(custom_schema_name, node) }}
    {%- endif -%}
{%- endmacro %}
