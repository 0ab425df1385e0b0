{#-
    What Onefold knows about an identity source is declared once, in the YAML of its
    staging model (or a project's own model), and read here through `graph`:

        meta:
          onefold:
            source: shop_customers          # record label (default: the model name)
            record_key: shop_customer_id    # unique per staged record
            observed_at: updated_at
            priority: 2                     # lower wins per-type limits and survivorship ties
            identifiers:                    # identifiers, composite_keys or both
              - {column: email, type: email}
              - {column: phone, type: phone, country_column: country_code}
            composite_keys:
              - {type: name_postcode, columns: {first_name: first_name, last_name: last_name, postcode: postcode}}
            attributes: {first_name: first_name}   # golden attribute: column

    `graph` is empty while dbt parses, so the models are also named by
    identity_model_names() (macros/sources.sql), which gives the identity models their
    upstream dependencies. identifier_models() checks the two agree and says how to fix it.
-#}

{#- True when a node's YAML declares identity (identifiers or composite keys). -#}
{% macro declares_identity(node) %}
    {%- set meta = node.config.meta.get('onefold', {}) -%}
    {{ return(meta is mapping and (meta.get('identifiers') or meta.get('composite_keys'))) }}
{% endmacro %}


{#- The enabled model nodes (from the graph) that declare identity, checked against the
    names the identity models depend on. -#}
{% macro identifier_models() %}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set listed = onefold.identity_model_names() -%}
    {%- set declaring = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and onefold.declares_identity(node) -%}
            {%- do declaring.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set declaring_names = declaring | map(attribute='name') | list -%}
    {%- for node in declaring -%}
        {%- if node.name not in listed -%}
            {{ exceptions.raise_compiler_error(
                "Model '" ~ node.name ~ "' declares identity in meta.onefold but is not listed in "
                ~ "the var onefold__custom_identity_models: add it there so the identity graph "
                ~ "depends on it (dbt resolves ref() before it reads YAML).") }}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in listed -%}
        {%- if name not in declaring_names -%}
            {{ exceptions.raise_compiler_error(
                "Model '" ~ name ~ "' is listed in onefold__custom_identity_models but declares no "
                ~ "meta.onefold.identifiers or composite_keys in its YAML (or does not exist, "
                ~ "or is disabled).") }}
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
    {%- if meta.get('priority') is not none and meta.priority is not number -%}
        {{ exceptions.raise_compiler_error(
            "Model '" ~ node.name ~ "': meta.onefold.priority must be a number (lower wins), not '"
            ~ meta.priority ~ "'.") }}
    {%- endif -%}
    {%- for identifier in meta.get('identifiers', []) -%}
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
        'identifiers': meta.get('identifiers', []),
        'priority': meta.get('priority'),
        'composite_keys': meta.get('composite_keys', []),
        'attributes': meta.get('attributes', {}),
    }) }}
{% endmacro %}


{#- SQL ranking `source_column` (a record label) by the declared priorities: the lowest
    `priority` first, sources without one last. -#}
{% macro source_priority_rank(source_column) -%}
    {%- set ranked = [] -%}
    {%- for declaration in onefold.identifier_declarations() if declaration.priority is not none -%}
        {%- do ranked.append(declaration) -%}
    {%- endfor -%}
    {%- if ranked -%}
        case {{ source_column }}
            {%- for declaration in ranked | sort(attribute='priority') %}
            when '{{ declaration.source }}' then {{ loop.index }}
            {%- endfor %}
            else {{ ranked | length + 1 }}
        end
    {%- else -%}
        1
    {%- endif -%}
{%- endmacro %}
