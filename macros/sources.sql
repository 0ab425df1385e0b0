{#-
    Which sources this project has. Each built-in source can be switched off with
    `onefold__<source>_enabled`: its sources and staging models are disabled in their
    YAML, and the models that combine sources read only the enabled ones.

    The identity graph reads every staging model that declares identity in its YAML
    (meta.onefold). dbt resolves ref() while it parses, before it has read any YAML, so
    the models themselves are named here: the package's own per enabled source, and a
    project's own in `onefold__custom_identity_models`.
-#}

{% macro builtin_sources() %}
    {{ return(['web', 'shop', 'crm', 'pos', 'email', 'consent', 'privacy']) }}
{% endmacro %}


{% macro source_enabled(source_name) %}
    {%- if source_name not in onefold.builtin_sources() -%}
        {{ exceptions.raise_compiler_error("Unknown Onefold source '" ~ source_name ~ "'; the built-in sources are "
            ~ onefold.builtin_sources() | join(', ')) }}
    {%- endif -%}
    {{ return(var('onefold__' ~ source_name ~ '_enabled') not in [false, 'false', 'False', 0, none]) }}
{% endmacro %}


{#- True when any of `source_names` is enabled (a mart fed by several sources). -#}
{% macro any_source_enabled(source_names) %}
    {%- for source_name in source_names if onefold.source_enabled(source_name) -%}
        {{ return(true) }}
    {%- endfor -%}
    {{ return(false) }}
{% endmacro %}


{#- The package's staging models that declare identity, per source. -#}
{% macro builtin_identity_models() %}
    {{ return({
        'web': ['stg_web__events'],
        'shop': ['stg_shop__customers', 'stg_shop__orders'],
        'crm': ['stg_crm__contacts'],
        'pos': ['stg_pos__transactions'],
        'email': ['stg_email__events'],
    }) }}
{% endmacro %}


{#- Names of every model the identity graph reads: the enabled sources' and the
    project's own (onefold__custom_identity_models). -#}
{% macro identity_model_names() %}
    {%- set names = [] -%}
    {%- for source_name, models in onefold.builtin_identity_models().items() if onefold.source_enabled(source_name) -%}
        {%- do names.extend(models) -%}
    {%- endfor -%}
    {%- for name in var('onefold__custom_identity_models') if name not in names -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}


{#- `-- depends_on:` lines that give a model every identity model as an upstream
    dependency while dbt parses (graph is empty then). -#}
{% macro identity_model_dependencies() %}
    {%- for model_name in onefold.identity_model_names() %}
-- depends_on: {{ ref(model_name) }}
    {%- endfor %}
{% endmacro %}
