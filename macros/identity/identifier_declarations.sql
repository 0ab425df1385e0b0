{#-
    Identifier declarations live in each staging model's YAML:

        meta:
          onefold:
            source: shop_customers          # record label (default: the model name)
            record_key: shop_customer_id
            observed_at: updated_at
            identifiers:
              - {column: email, type: email}
              - {column: phone, type: phone, country_column: country_code}
            composite_keys:
              - {type: name_postcode, columns: {first_name: first_name, last_name: last_name, postcode: postcode}}

    `graph` is empty while dbt parses, so the models are also listed in the var
    `onefold__identifier_models`, which gives the identity models their upstream
    dependencies. identifier_models() checks the two agree and says how to fix it.
-#}

{#- The staging nodes (from the graph) that declare identifiers, checked against the var. -#}
{% macro identifier_models() %}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set listed = var('onefold__identifier_models') -%}
    {%- set declaring = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.config.meta.get('onefold', {}).get('identifiers') -%}
            {%- do declaring.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set declaring_names = declaring | map(attribute='name') | list -%}
    {%- for node in declaring -%}
        {%- if node.name not in listed -%}
            {{ exceptions.raise_compiler_error(
                "Model '" ~ node.name ~ "' declares identifiers in meta.onefold but is not listed in "
                ~ "the var onefold__identifier_models: add it there so the identity graph depends on it.") }}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in listed -%}
        {%- if name not in declaring_names -%}
            {{ exceptions.raise_compiler_error(
                "Model '" ~ name ~ "' is listed in onefold__identifier_models but declares no "
                ~ "meta.onefold.identifiers in its YAML (or does not exist).") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(declaring | sort(attribute='name')) }}
{% endmacro %}


{#- Every identity staging model's validated declaration (empty while dbt parses). -#}
{% macro identifier_declarations() %}
    {%- set declarations = [] -%}
    {%- for node in onefold.identifier_models() -%}
        {%- do declarations.append(onefold.identifier_declaration(node)) -%}
    {%- endfor -%}
    {{ return(declarations) }}
{% endmacro %}


{#- One validated declaration: the meta block with defaults, or a compiler error naming the problem. -#}
{% macro identifier_declaration(node) %}
    {%- set meta = node.config.meta.onefold -%}
    {%- set known_types = var('onefold__identifier_types') -%}
    {%- set composite_types = var('onefold__composite_keys') -%}
    {%- for required in ['record_key', 'observed_at'] -%}
        {%- if not meta.get(required) -%}
            {{ exceptions.raise_compiler_error(
                "Model '" ~ node.name ~ "': meta.onefold." ~ required ~ " is required.") }}
        {%- endif -%}
    {%- endfor -%}
    {%- for identifier in meta.identifiers -%}
        {%- if identifier.get('type') not in known_types -%}
            {{ exceptions.raise_compiler_error(
                "Model '" ~ node.name ~ "': identifier column '" ~ identifier.get('column')
                ~ "' has unknown type '" ~ identifier.get('type') ~ "'. Known types (var "
                ~ "onefold__identifier_types): " ~ (known_types.keys() | sort | join(', '))) }}
        {%- endif -%}
    {%- endfor -%}
    {%- for composite in meta.get('composite_keys', []) -%}
        {%- if composite.get('type') not in composite_types -%}
            {{ exceptions.raise_compiler_error(
                "Model '" ~ node.name ~ "': composite key type '" ~ composite.get('type')
                ~ "' is not declared in the var onefold__composite_keys.") }}
        {%- endif -%}
        {%- for part in composite_types[composite.type].parts -%}
            {%- if part.name not in composite.columns -%}
                {{ exceptions.raise_compiler_error(
                    "Model '" ~ node.name ~ "': composite key '" ~ composite.type
                    ~ "' needs a column for part '" ~ part.name ~ "'.") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return({
        'model': node.name,
        'relation': node.relation_name,
        'schema': node.schema,
        'alias': node.alias,
        'materialized': node.config.materialized,
        'source': meta.get('source', node.name),
        'record_key': meta.record_key,
        'observed_at': meta.observed_at,
        'identifiers': meta.identifiers,
        'composite_keys': meta.get('composite_keys', []),
        'attributes': meta.get('attributes', {}),
    }) }}
{% endmacro %}
