{#-
    Erasure declarations: for each physical table a person's rows live in, how to find
    them (its key and identifier columns) and what erasure does to them (`delete`, or
    `redact` named columns where the row must stay, e.g. order totals for accounting).
    Each is declared once, in `meta.onefold.erasure` of the node that reads the
    physical table, and read through `graph` (any package: a host project's sources and
    models declare erasure the same way). The staging suppression filter and
    `onefold erase` both read them, so a value that erasure looks for is exactly a value
    staging screens.

    A dbt source table (the package's native inputs), one declaration:

        sources:
          - name: shop
            tables:
              - name: shop_orders
                meta:
                  onefold:
                    erasure:
                      record_key: order_id           # raw key column; staged as trim(order_id)
                      record_source: shop_orders     # label in customer_records (default: the table's name)
                      identifiers:
                        - {column: customer_id, type: shop_customer_id}
                        - {column: email, type: email}
                        - {json: traits, path: [email], type: email}           # inside JSON text
                        - {column: phone, type: phone, country_column: country_code}
                        - {column: identifier_value, type_column: identifier_type}  # type per row
                      action: redact                 # delete | redact
                      redact: {customer_id: null, email: null}   # column: value written (null or text)
                      free_text: [notes]             # columns searched for emails and '+' phones anywhere
                      keep_derived: [orders]         # models whose rows of these records survive redaction
                      suppress: true                 # staging drops rows carrying suppressed identifiers

    A model that dbt builds (a loader adapter, any view or table over physical tables):
    a list, one entry per physical table it reads, each naming the var that holds that
    table's relation (`input`), or a source (`source: segment.tracks`) when the var is
    null. The entry's `name` defaults to the var's name without `onefold__` and
    `_relation`; `record_source` names the records' label in customer_records.

        models:
          - name: stg_segment__web_events
            config:
              meta:
                onefold:
                  erasure:
                    - input: onefold__segment_tracks_relation
                      source: segment
                      table: tracks
                      record_key: id
                      identifiers: [{column: anonymous_id, type: anonymous_id}, …]
                      action: delete

    A source whose rows reach staging through a dbt-built node (its base model reads a
    model, e.g. an adapter, through its input var) is *served* by that node: erase
    deletes from the physical tables the node declares, and the source's declaration
    still screens the native shape in staging. A node dbt builds that declares nothing
    stops the build (create_erasure_objects): erase could not reach the rows behind it.
-#}

{#- The privacy schema: Onefold's own erasure state, outside dbt's control (`--full-refresh`
    cannot drop it). -#}
{% macro privacy_schema() -%}
    {{ return(target.schema ~ '_privacy') }}
{%- endmacro %}


{#- A node's `meta.onefold.erasure` (none when it declares none). -#}
{% macro erasure_meta(node) %}
    {%- set meta = node.config.get('meta') or node.get('meta') or {} -%}
    {{ return((meta.get('onefold') or {}).get('erasure')) }}
{% endmacro %}


{#- How a node is named in messages: `source web.web_events`, `model stg_x`. -#}
{% macro erasure_node_label(node) %}
    {%- if node.resource_type == 'source' -%}
        {{ return("source '" ~ node.source_name ~ "." ~ node.name ~ "'") }}
    {%- endif -%}
    {{ return(node.resource_type ~ " '" ~ node.name ~ "'") }}
{% endmacro %}


{#- Every erasure declaration in the graph (enabled nodes of any package), validated:
    a list of entries with `name`, `where` (for messages), `node` (unique id) and
    `resource_type` besides the declared keys. Empty while dbt parses. -#}
{% macro erasure_declarations() %}
    {%- set declarations = [] -%}
    {%- if not execute -%}{{ return(declarations) }}{%- endif -%}
    {%- for node in graph.sources.values() if node.config.get('enabled', true) -%}
        {%- set erasure = onefold.erasure_meta(node) -%}
        {%- if erasure is not none -%}
            {%- set where = "meta.onefold.erasure of " ~ onefold.erasure_node_label(node) -%}
            {%- if erasure is not mapping -%}
                {{ exceptions.raise_compiler_error(where ~ ": a source table declares one mapping "
                    ~ "(record_key, identifiers, action, …), not a list.") }}
            {%- endif -%}
            {%- set entry = dict(erasure) -%}
            {%- do entry.update({'name': erasure.get('name', node.name), 'where': where,
                'node': node.unique_id, 'resource_type': 'source'}) -%}
            {%- do declarations.append(onefold.validated_erasure_entry(entry)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for node in graph.nodes.values() if node.resource_type in ['model', 'snapshot', 'seed']
        and node.config.get('enabled', true) -%}
        {%- set erasure = onefold.erasure_meta(node) -%}
        {%- if erasure is not none -%}
            {%- set entries = onefold.expanded_erasure_entries([erasure] if erasure is mapping else erasure) -%}
            {%- for declared in entries -%}
                {%- set where = "meta.onefold.erasure of " ~ onefold.erasure_node_label(node)
                    ~ (" (entry " ~ loop.index ~ ")" if entries | length > 1 else "") -%}
                {%- if declared is not mapping or not declared.get('input') -%}
                    {{ exceptions.raise_compiler_error(where ~ ": each entry names the var holding "
                        ~ "its physical table's relation (`input: <var>`).") }}
                {%- endif -%}
                {%- set input = declared.input -%}
                {%- set default_name = input[9:] if input.startswith('onefold__') else input -%}
                {%- set default_name = default_name[:-9] if default_name.endswith('_relation') else default_name -%}
                {%- set entry = dict(declared) -%}
                {%- do entry.update({'name': declared.get('name', default_name), 'where': where,
                    'node': node.unique_id, 'resource_type': node.resource_type}) -%}
                {%- do declarations.append(onefold.validated_erasure_entry(entry)) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set seen = {} -%}
    {%- for entry in declarations -%}
        {%- if entry.name in seen -%}
            {{ exceptions.raise_compiler_error("Two erasure declarations are named '" ~ entry.name
                ~ "': " ~ seen[entry.name] ~ " and " ~ entry.where ~ ". Give one a `name:`.") }}
        {%- endif -%}
        {%- do seen.update({entry.name: entry.where}) -%}
    {%- endfor -%}
    {{ return(declarations) }}
{% endmacro %}


{#- A model's entries with each `inputs` entry expanded: `inputs` names a var holding a
    list of tables (Segment's per-event tables), each a table name in the schema of the
    var `schema_var` or a relation; every table gets the entry's declaration, named
    `<name>_<table>`, with its relation resolved here. -#}
{% macro expanded_erasure_entries(entries) %}
    {%- set expanded = [] -%}
    {%- for declared in entries -%}
        {%- if declared is mapping and declared.get('inputs') -%}
            {%- set base_name = declared.get('name') or (declared.inputs[9:] if declared.inputs.startswith('onefold__') else declared.inputs) -%}
            {%- for table in var(declared.inputs, none) or [] -%}
                {%- set table = table | string | trim -%}
                {%- if '.' not in table and '"' not in table and declared.get('schema_var') -%}
                    {%- set relation = api.Relation.create(
                        database=var('onefold__raw_database', none) or target.get('database'),
                        schema=var(declared.schema_var), identifier=table) | string -%}
                    {%- set label = table -%}
                {%- else -%}
                    {%- set relation = table -%}
                    {%- set label = (table | replace('"', '')).split('.')[-1] -%}
                {%- endif -%}
                {%- set entry = {} -%}
                {%- for key, value in declared.items() if key not in ['inputs', 'schema_var', 'name'] -%}
                    {%- do entry.update({key: value}) -%}
                {%- endfor -%}
                {%- do entry.update({'input': declared.inputs, 'relation': relation,
                    'name': base_name ~ '_' ~ (label | lower)}) -%}
                {%- do expanded.append(entry) -%}
            {%- endfor -%}
        {%- else -%}
            {%- do expanded.append(declared) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(expanded) }}
{% endmacro %}


{#- One declaration entry, checked; a compiler error names the declaration at fault. -#}
{% macro validated_erasure_entry(config) %}
    {%- set where = config.where -%}
    {%- for required in ['record_key', 'action'] if not config.get(required) -%}
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
    {%- for identifier in config.get('identifiers') or [] -%}
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


{#- One declaration by name (what suppression_flag('<name>') screens). -#}
{% macro erasure_source(name) %}
    {%- for entry in onefold.erasure_declarations() if entry.name == name -%}
        {{ return(entry) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error(
        "No erasure declaration named '" ~ name ~ "': declare it in meta.onefold.erasure of the "
        ~ "source table (or model) that reads the physical table (its key and identifier "
        ~ "columns, delete or redact; docs/erasure.md).") }}
{% endmacro %}


{#-
    The relation erase deletes from for each declaration, resolved from the graph:
    {name: {'relation': <rendered relation> or none, 'served_by': <node label> or none}}.

    A source table: what its base model (the model whose suppression_flag screens it)
    reads — the source itself, another source or table name its input var points at, or
    a node dbt builds. A dbt-built node that declares erasure serves the source (erase
    deletes from the node's declared tables; no step of the source's own); one that
    declares none is an error: there is nothing behind it erase could delete from.
    A model's entry: its `input` var, rendered (a source() or a table name), or the
    entry's `source` when the var is null.
-#}
{% macro erasure_relations(declarations) %}
    {%- set declaring = {} -%}
    {%- for entry in declarations -%}
        {%- do declaring.update({entry.node: onefold.erasure_node_label(
            graph.sources.get(entry.node) or graph.nodes.get(entry.node))}) -%}
    {%- endfor -%}
    {%- set readers = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model'
        and node.config.get('enabled', true) and (node.config.get('meta') or {}).get('onefold_erasure_input') -%}
        {%- do readers.update({node.config.meta.onefold_erasure_input: node}) -%}
    {%- endfor -%}
    {%- set relations = {} -%}
    {%- for entry in declarations -%}
        {%- if entry.resource_type == 'source' -%}
            {%- set resolved = onefold.erasure_source_input(entry, readers.get(entry.name), declaring) -%}
        {%- else -%}
            {%- set resolved = {'relation': onefold.erasure_entry_relation(entry), 'served_by': none} -%}
        {%- endif -%}
        {%- do relations.update({entry.name: resolved}) -%}
    {%- endfor -%}
    {#- The entries of a node that serves a source label their records as the source
        does (customer_records' `source`), unless they say otherwise. -#}
    {%- for entry in declarations if entry.resource_type == 'source' and relations[entry.name].served_by -%}
        {%- for served_entry in declarations if served_entry.node == relations[entry.name].served_node
            and not served_entry.get('record_source') -%}
            {%- do served_entry.update({'record_source': entry.get('record_source', entry.name)}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(relations) }}
{% endmacro %}


{#- A source declaration's physical relation, from what its base model `reader` reads
    (none: nothing screens it, the source is read as declared). A source whose table is
    in fact a node dbt builds (its schema and table vars point at a model) counts as
    that node. -#}
{% macro erasure_source_input(entry, reader, declaring) %}
    {%- set own = graph.sources[entry.node] -%}
    {%- set input = namespace(node=own) -%}
    {%- if reader is not none -%}
        {%- set skipped = [] -%}
        {%- for node in graph.sources.values() if node.package_name == onefold.package_name()
            and node.source_name == 'onefold_privacy' -%}
            {%- do skipped.append(node.unique_id) -%}
        {%- endfor -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'seed'
            and node.package_name == onefold.package_name() and node.name == 'country_calling_codes' -%}
            {%- do skipped.append(node.unique_id) -%}
        {%- endfor -%}
        {%- set inputs = [] -%}
        {%- for unique_id in reader.depends_on.nodes if unique_id not in skipped -%}
            {%- do inputs.append(unique_id) -%}
        {%- endfor -%}
        {%- if not inputs -%}
            {#- The input var names a table directly (no source() or ref()). -#}
            {{ return({'relation': var('onefold__' ~ entry.name ~ '_relation', none) or own.relation_name,
                'served_by': none}) }}
        {%- endif -%}
        {%- set input.node = graph.sources.get(inputs[0]) or graph.nodes.get(inputs[0]) -%}
    {%- endif -%}
    {%- if input.node.resource_type == 'source' -%}
        {%- for node in graph.nodes.values() if node.resource_type in ['model', 'snapshot', 'seed']
            and node.config.get('enabled', true) and node.relation_name
            and (node.relation_name | lower) == (input.node.relation_name | lower) -%}
            {%- set input.node = node -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if input.node.unique_id != entry.node and input.node.unique_id in declaring -%}
        {{ return({'relation': none, 'served_by': declaring[input.node.unique_id],
            'served_node': input.node.unique_id}) }}
    {%- endif -%}
    {%- if input.node.resource_type == 'source' -%}
        {{ return({'relation': input.node.relation_name, 'served_by': none,
            'source_node': input.node.unique_id}) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "Erasure cannot reach the rows of '" ~ entry.name ~ "' (" ~ entry.where ~ "): "
        ~ ("model '" ~ reader.name ~ "' reads them" if reader is not none else "they are read")
        ~ " from " ~ onefold.erasure_node_label(input.node) ~ " (" ~ input.node.relation_name
        ~ "), which dbt builds, and which declares no erasure of its own. "
        ~ "Declare the physical tables behind it in meta.onefold.erasure of "
        ~ onefold.erasure_node_label(input.node) ~ " (a list: one entry per table, each with "
        ~ "`input: <var>` or `source:`, record_key, identifiers, action; docs/erasure.md).") }}
{% endmacro %}


{#- dbt time, a warning only (a view over a loader's table is a fine input for staging):
    a declared source table that is a view in the warehouse, which `onefold erase`
    will refuse to delete from. -#}
{% macro warn_erasure_views(entry, resolved) %}
    {%- set node = graph.sources.get(resolved.get('source_node')) -%}
    {%- if node is none -%}{{ return(none) }}{%- endif -%}
    {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.identifier) -%}
    {%- if relation is not none and relation.type == 'view' -%}
        {%- do exceptions.warn("Erasure: " ~ entry.where ~ " reads " ~ node.relation_name
            ~ ", a view: onefold erase deletes only from base tables and will refuse it. Declare the "
            ~ "physical tables behind it in meta.onefold.erasure of a model that reads them "
            ~ "(docs/erasure.md, Declaring what erasure reaches).") -%}
    {%- endif -%}
{% endmacro %}


{#- A model entry's physical relation: resolved already (an `inputs` table), its input
    var rendered, else its `source`. -#}
{% macro erasure_entry_relation(entry) %}
    {%- if entry.get('relation') -%}
        {{ return(entry.relation) }}
    {%- endif -%}
    {%- set value = var(entry.input, none) -%}
    {%- if value is not none and (value | string | trim) -%}
        {{ return(value | string | trim) }}
    {%- endif -%}
    {%- set declared = entry.get('source') -%}
    {%- if declared -%}
        {%- set parts = [declared, entry.table] if entry.get('table') else (
            declared if declared is not string else declared.split('.')) -%}
        {%- for node in graph.sources.values() if node.source_name == parts[0] and node.name == parts[1] -%}
            {{ return(node.relation_name) }}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(entry.where ~ ": no enabled source " ~ (parts | join('.')) ~ ".") }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(entry.where ~ ": the var " ~ entry.input ~ " is null and "
        ~ "the entry names no `source:`; erase would not know which table to delete from.") }}
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

{#- Spark: a constant map too, read from the seed where the model is built (a subquery
    may not stand in the lambdas that the match key is written with there). -#}
{% macro spark__erasure_calling_code(identifier, calling_codes, row_alias) -%}
    {%- set default_code = onefold.sql_text(var('onefold__default_phone_calling_code')) -%}
    {%- if identifier.get('country_column') -%}
        {%- set pairs = [] -%}
        {#- A relation, or its rendered name (the configuration snapshot's). -#}
        {%- set parts = (calling_codes | string).replace('`', '').split('.') -%}
        {%- if execute and calling_codes is not none
                and adapter.get_relation(database=none, schema=parts[-2], identifier=parts[-1]) is not none -%}
            {%- for row in run_query('select country_code, calling_code from ' ~ calling_codes
                ~ ' where country_code is not null and calling_code is not null order by 1') -%}
                {%- do pairs.append(onefold.sql_text(row[0]) ~ ', ' ~ onefold.sql_text(row[1])) -%}
            {%- endfor -%}
        {%- endif -%}
        coalesce(element_at(cast(map({{ pairs | join(', ') }}) as map<string, string>),
            upper(trim(cast({{ row_alias }}.{{ identifier.country_column }} as string)))), {{ default_code }})
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
    {{ onefold.erasure_function('identifier_match_key', [
        onefold.erasure_identifier_type(identifier, row_alias),
        onefold.erasure_identifier_value(identifier, row_alias, parsed_json),
        onefold.erasure_calling_code(identifier, calling_codes, row_alias)]) }}
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
