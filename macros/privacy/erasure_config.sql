{#-
    Erasure configuration (var onefold__erasure_sources): for each raw source table, how
    to find a person's rows (its key and identifier columns) and what erasure does to them
    (`delete`, or `redact` named columns where the row must stay, e.g. order totals for
    accounting). The staging suppression filter and `onefold erase` both read it, so a
    value that erasure looks for is exactly a value staging screens.

        onefold__erasure_sources:
          shop_orders:                     # the source table's name in its sources YAML
            source: shop                   # its dbt source
            record_key: order_id           # raw key column; staged as trim(order_id)
            record_source: shop_orders     # label in customer_records (default: the name)
            identifiers:
              - {column: customer_id, type: shop_customer_id}
              - {column: email, type: email}
              - {json: traits, path: [email], type: email}           # a value inside JSON text
              - {column: phone, type: phone, country_column: country_code}
              - {column: identifier_value, type_column: identifier_type}  # type per row
            action: redact                 # delete | redact
            redact: {customer_id: null, email: null}   # column: value written (null or text)
            free_text: [notes]             # columns searched for emails and '+' phones anywhere
            keep_derived: [orders]         # models whose rows of these records survive redaction
            suppress: true                 # staging drops rows carrying suppressed identifiers
-#}

{#- The privacy schema: Onefold's own erasure state, outside dbt's control (`--full-refresh`
    cannot drop it). -#}
{% macro privacy_schema() -%}
    {{ return(target.schema ~ '_privacy') }}
{%- endmacro %}


{#- One source's validated erasure config; a compiler error names the entry at fault. -#}
{% macro erasure_source(source_key) %}
    {%- set sources = var('onefold__erasure_sources') -%}
    {%- if source_key not in sources -%}
        {{ exceptions.raise_compiler_error(
            "No erasure config for raw table '" ~ source_key ~ "': add it to the var "
            ~ "onefold__erasure_sources (its key and identifier columns, delete or redact).") }}
    {%- endif -%}
    {%- set config = sources[source_key] -%}
    {%- set where = "onefold__erasure_sources." ~ source_key -%}
    {%- for required in ['source', 'record_key', 'action'] if not config.get(required) -%}
        {{ exceptions.raise_compiler_error(where ~ ": '" ~ required ~ "' is required.") }}
    {%- endfor -%}
    {%- if config.action not in ['delete', 'redact'] -%}
        {{ exceptions.raise_compiler_error(where ~ ": action must be delete or redact, not '"
            ~ config.action ~ "'.") }}
    {%- endif -%}
    {%- if config.action == 'redact' and not config.get('redact') -%}
        {{ exceptions.raise_compiler_error(where ~ ": action redact needs `redact: {column: value}`.") }}
    {%- endif -%}
    {%- if config.get('free_text') is not none and (config.free_text is string or config.free_text is mapping) -%}
        {{ exceptions.raise_compiler_error(where ~ ": free_text must be a list of column names.") }}
    {%- endif -%}
    {%- set known_types = onefold.erasable_identifier_types() -%}
    {%- for identifier in config.get('identifiers', []) -%}
        {%- if not (identifier.get('column') or identifier.get('json')) -%}
            {{ exceptions.raise_compiler_error(where ~ ": every identifier needs `column` or `json` + `path`.") }}
        {%- endif -%}
        {%- if identifier.get('type_column') is none and identifier.get('type') not in known_types -%}
            {{ exceptions.raise_compiler_error(where ~ ": identifier type '" ~ identifier.get('type')
                ~ "' is not erasable; known types: " ~ (known_types | join(', '))) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(config) }}
{% endmacro %}


{#- Types an erasure can name and suppress: the non-composite identifier types plus the
    extra ids of onefold__erasure_identifier_types (customer_id), compared trimmed. -#}
{% macro erasable_identifier_types() %}
    {%- set types = [] -%}
    {%- for type_name, type_config in var('onefold__identifier_types').items() if type_config.normalizer != 'composite' -%}
        {%- do types.append(type_name) -%}
    {%- endfor -%}
    {%- for type_name in var('onefold__erasure_identifier_types') if type_name not in types -%}
        {%- do types.append(type_name) -%}
    {%- endfor -%}
    {{ return(types) }}
{% endmacro %}


{#- The raw text of one declared identifier of the row `row_alias`: a column, or a value
    inside JSON text. `parsed_json` maps JSON text columns to columns of the row that
    already hold them parsed (base staging models parse once). -#}
{% macro erasure_identifier_value(identifier, row_alias, parsed_json={}) -%}
    {%- if identifier.get('json') and identifier.json in parsed_json -%}
        {{ onefold.json_text(row_alias ~ '.' ~ parsed_json[identifier.json], identifier.path) }}
    {%- elif identifier.get('json') -%}
        {{ onefold.json_text(onefold.safe_parse_json(row_alias ~ '.' ~ identifier.json), identifier.path) }}
    {%- else -%}
        cast({{ row_alias }}.{{ identifier.column }} as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}


{#- The identifier's type: a literal, or (type_column) the row's own type column. -#}
{% macro erasure_identifier_type(identifier, row_alias) -%}
    {%- if identifier.get('type_column') -%}
        lower(trim({{ row_alias }}.{{ identifier.type_column }}))
    {%- else -%}
        '{{ identifier.type }}'
    {%- endif -%}
{%- endmacro %}


{#- The calling code phone numbers of the row default to: its country's, else the var.
    `calling_codes` is the seed's relation (ref() in models; graph_relation() in hooks). -#}
{% macro erasure_calling_code(identifier, calling_codes, row_alias) -%}
    {{ return(adapter.dispatch('erasure_calling_code', 'onefold')(identifier, calling_codes, row_alias)) }}
{%- endmacro %}

{#- DuckDB: a constant map (the macro `calling_codes()`, generated from the seed by the
    on-run-start hook), so staging views hold no correlated subquery (see suppression.sql). -#}
{% macro duckdb__erasure_calling_code(identifier, calling_codes, row_alias) -%}
    {%- set default_code = "'" ~ var('onefold__default_phone_calling_code') ~ "'" -%}
    {%- if identifier.get('country_column') -%}
        coalesce({{ onefold.privacy_schema() }}.calling_codes()[upper(trim({{ row_alias }}.{{ identifier.country_column }}))], {{ default_code }})
    {%- else -%}
        {{ default_code }}
    {%- endif -%}
{%- endmacro %}

{% macro default__erasure_calling_code(identifier, calling_codes, row_alias) -%}
    {%- set default_code = "'" ~ var('onefold__default_phone_calling_code') ~ "'" -%}
    {%- if identifier.get('country_column') -%}
        coalesce((
            select erasure_calling_codes.calling_code
            from {{ calling_codes }} as erasure_calling_codes
            where erasure_calling_codes.country_code = upper(trim({{ row_alias }}.{{ identifier.country_column }}))
        ), {{ default_code }})
    {%- else -%}
        {{ default_code }}
    {%- endif -%}
{%- endmacro %}


{#- The match key of one declared identifier of a raw row (identity_map's match_key);
    columns are qualified with `row_alias`, the raw row's relation alias. -#}
{% macro erasure_identifier_match_key(identifier, calling_codes, row_alias, parsed_json={}) -%}
    {{ onefold.privacy_schema() }}.identifier_match_key(
        {{ onefold.erasure_identifier_type(identifier, row_alias) }},
        {{ onefold.erasure_identifier_value(identifier, row_alias, parsed_json) }},
        {{ onefold.erasure_calling_code(identifier, calling_codes, row_alias) }}
    )
{%- endmacro %}


{#- Due date rules per regulation: {months: n} or {days: n}; the default for the rest. -#}
{% macro erasure_due_at(regulation, received_at) -%}
    {%- set deadlines = var('onefold__erasure_deadlines') -%}
    {%- set default = var('onefold__erasure_default_deadline') -%}
    case {{ regulation }}
    {%- for regulation_name, rule in deadlines.items() %}
        when '{{ regulation_name }}' then {{ onefold.erasure_deadline_sql(rule, received_at) }}
    {%- endfor %}
        else {{ onefold.erasure_deadline_sql(default, received_at) }}
    end
{%- endmacro %}


{% macro erasure_deadline_sql(rule, received_at) -%}
    {%- if rule.get('months') -%}
        {{ dbt.dateadd('month', rule.months, received_at) }}
    {%- elif rule.get('days') -%}
        {{ dbt.dateadd('day', rule.days, received_at) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "Erasure deadlines are {months: n} or {days: n}; got " ~ rule ~ " (onefold__erasure_deadlines).") }}
    {%- endif -%}
{%- endmacro %}


{#- Onefold's own package name: graph lookups key on it, never on `project_name`, which
    is the host project's once Onefold is installed as a package. -#}
{% macro package_name() %}{{ return('onefold') }}{% endmacro %}


{#- A seed's or source's relation from the graph, for hooks (where ref() and source()
    cannot be used): resource 'seed' with its name, or 'source' with 'source.table'. -#}
{#- Whether Onefold's source `name` ('<source>.<table>') is enabled in the graph. -#}
{% macro has_graph_source(name) %}
    {%- for node in graph.sources.values() if node.package_name == onefold.package_name()
        and node.source_name ~ '.' ~ node.name == name -%}
        {{ return(true) }}
    {%- endfor -%}
    {{ return(false) }}
{% endmacro %}


{% macro graph_relation(resource_type, name) %}
    {%- if resource_type == 'source' -%}
        {%- for node in graph.sources.values() if node.package_name == onefold.package_name()
            and node.source_name ~ '.' ~ node.name == name -%}
            {{ return(node.relation_name) }}
        {%- endfor -%}
    {%- else -%}
        {%- for node in graph.nodes.values() if node.resource_type == resource_type
            and node.package_name == onefold.package_name() and node.name == name -%}
            {{ return(node.relation_name) }}
        {%- endfor -%}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("No " ~ resource_type ~ " named '" ~ name ~ "' in the project.") }}
{% endmacro %}
