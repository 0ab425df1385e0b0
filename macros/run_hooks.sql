{#-
    Onefold's on-run-start and on-run-end hooks prepare and check what Onefold's own
    models need. In a project that installs Onefold, `dbt run -s their_model` selects
    none of them, and the hooks do nothing (dbt_project.yml wraps each hook in this).
-#}
{% macro selected() %}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- for unique_id in selected_resources if unique_id.split('.')[1] == onefold.package_name() -%}
        {{ return(true) }}
    {%- endfor -%}
    {{ return(false) }}
{% endmacro %}
