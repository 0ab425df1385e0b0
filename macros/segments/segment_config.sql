{#-
    onefold__segments and onefold__destinations, checked before anything is built
    (on-run-start): every segment names a description, an owner, known purposes and
    destinations, and a predicate over `customers` columns that compiles. Errors name
    the segment and the problem.
-#}

{% macro segment_purposes(segment_name) -%}
    {{ return(var('onefold__segments')[segment_name].get('purposes', [])) }}
{%- endmacro %}


{#- The destinations a segment may be activated to: its own list, else all. -#}
{% macro segment_destinations(segment_name) -%}
    {{ return(var('onefold__segments')[segment_name].get('destinations', var('onefold__destinations') | list)) }}
{%- endmacro %}


{#- Column names a predicate refers to: words outside string literals that are not
    keywords, not function names (followed by `(`) and not numbers. -#}
{% macro predicate_column_references(predicate) -%}
    {%- set predicate_keywords = [
    'and', 'or', 'not', 'is', 'null', 'true', 'false', 'in', 'between', 'like', 'ilike',
    'case', 'when', 'then', 'else', 'end', 'cast', 'as', 'interval', 'date', 'timestamp',
    'current_date', 'current_timestamp', 'distinct', 'from', 'day', 'days', 'month',
    'months', 'year', 'years', 'hour', 'hours', 'minute', 'minutes', 'integer', 'int',
    'bigint', 'decimal', 'numeric', 'double', 'precision', 'real', 'text', 'varchar',
    'boolean', 'escape', 'similar', 'to', 'customers'] -%}
    {%- set without_strings = modules.re.sub("'([^']|'')*'", "''", predicate) -%}
    {%- set references = [] -%}
    {%- for match in modules.re.finditer('(?<![\\w.])((?:customers\\.)?)([A-Za-z_][A-Za-z0-9_]*)\\b(?!\\s*\\()', without_strings) -%}
        {%- set word = match.group(2) | lower -%}
        {%- if word not in predicate_keywords and word not in references -%}
            {%- do references.append(word) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(references) }}
{%- endmacro %}


{% macro customers_contract_columns() -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == 'customers' and node.package_name == onefold.package_name() -%}
        {{ return(node.columns) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("The customers model is missing: segments are predicates over it.") }}
{%- endmacro %}


{% macro check_segments() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set segments = var('onefold__segments') -%}
    {%- set destinations = var('onefold__destinations') -%}
    {%- set purposes = var('onefold__consent_purposes') | list -%}
    {%- for destination, settings in destinations.items() -%}
        {%- for purpose in settings.get('purposes', []) if purpose not in purposes -%}
            {{ exceptions.raise_compiler_error("destination '" ~ destination ~ "': unknown consent purpose '"
                ~ purpose ~ "' (onefold__consent_purposes has " ~ purposes | join(', ') ~ ")") }}
        {%- endfor -%}
        {%- if not settings.get('identifiers') -%}
            {{ exceptions.raise_compiler_error("destination '" ~ destination
                ~ "': list the identifiers it matches on, e.g. identifiers: {email: sha256}") }}
        {%- endif -%}
        {%- for identifier, form in settings.identifiers.items() -%}
            {%- if identifier not in ['email', 'phone'] or form not in ['plain', 'sha256'] -%}
                {{ exceptions.raise_compiler_error("destination '" ~ destination ~ "': identifiers."
                    ~ identifier ~ ": " ~ form ~ " is not supported (email or phone, as plain or sha256)") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set columns = onefold.customers_contract_columns() -%}
    {%- set typed_columns = [] -%}
    {%- for name, column in columns.items() -%}
        {%- do typed_columns.append('cast(null as ' ~ onefold.warehouse_type(column.data_type) ~ ') as ' ~ name) -%}
    {%- endfor -%}
    {%- for name, segment in segments.items() -%}
        {%- set where = "segment '" ~ name ~ "'" -%}
        {%- if not modules.re.fullmatch('[a-z][a-z0-9_]*', name) -%}
            {{ exceptions.raise_compiler_error(where ~ ": names are lower-case letters, digits and underscores") }}
        {%- endif -%}
        {%- for field in ['description', 'owner', 'predicate'] if not segment.get(field) -%}
            {{ exceptions.raise_compiler_error(where ~ ": " ~ field ~ " is required") }}
        {%- endfor -%}
        {%- for purpose in segment.get('purposes', []) if purpose not in purposes -%}
            {{ exceptions.raise_compiler_error(where ~ ": unknown consent purpose '" ~ purpose
                ~ "' (onefold__consent_purposes has " ~ purposes | join(', ') ~ ")") }}
        {%- endfor -%}
        {%- for destination in segment.get('destinations', []) if destination not in destinations -%}
            {{ exceptions.raise_compiler_error(where ~ ": unknown destination '" ~ destination
                ~ "' (onefold__destinations has " ~ destinations | list | join(', ') ~ ")") }}
        {%- endfor -%}
        {%- set unknown = [] -%}
        {%- for reference in onefold.predicate_column_references(segment.predicate) if reference not in columns -%}
            {%- do unknown.append(reference) -%}
        {%- endfor -%}
        {%- if unknown -%}
            {{ exceptions.raise_compiler_error(where ~ ": predicate refers to unknown column(s) "
                ~ unknown | join(', ') ~ "; customers has " ~ columns | list | join(', ')) }}
        {%- endif -%}
        {#- A trait computed from disabled sources is null for everyone: a segment on it
            would silently be empty. -#}
        {%- for reference in onefold.predicate_column_references(segment.predicate) -%}
            {%- set needs = columns[reference].meta.get('onefold_sources', []) -%}
            {%- if needs and not onefold.any_source_enabled(needs) -%}
                {%- set switches = [] -%}
                {%- for source_name in needs -%}
                    {%- do switches.append('onefold__' ~ source_name ~ '_enabled') -%}
                {%- endfor -%}
                {{ exceptions.raise_compiler_error(where ~ ": predicate uses " ~ reference
                    ~ ", which needs the " ~ needs | join(' or ') ~ " source, disabled in this project ("
                    ~ switches | join(', ') ~ ": false). Remove the segment or enable the source.") }}
            {%- endif -%}
        {%- endfor -%}
        {%- set problem = adapter.dispatch('segment_predicate_problem', 'onefold')(typed_columns, segment.predicate) -%}
        {%- if problem -%}
            {{ exceptions.raise_compiler_error(where ~ ": predicate does not compile: " ~ problem) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}


{#- The database's complaint about `where <predicate>` over typed empty customers, or
    none. Both targets ask a helper that binds the statement and returns the error
    instead of raising it (Jinja cannot catch a failed query): PostgreSQL a PL/pgSQL
    function, DuckDB the Python function the onefold.duckdb_plugin registers. Without
    the plugin DuckDB still reports parse errors by name; any other error is then the
    database's own, raised at the same point. -#}
{% macro default__segment_predicate_problem(typed_columns, predicate) -%}
    {%- set probe = 'select count(*) from (select ' ~ typed_columns | join(', ') ~ ') as customers where (' ~ predicate ~ ')' -%}
    {%- set helper = run_query("select count(*) from duckdb_functions() where function_name = 'onefold_sql_problem'") -%}
    {%- if helper.rows[0][0] > 0 -%}
        {%- set result = run_query("select onefold_sql_problem(" ~ onefold.sql_text(probe) ~ ")") -%}
        {{ return(result.rows[0][0]) }}
    {%- endif -%}
    {%- set parsed = run_query("select json_extract_string(json_serialize_sql(" ~ onefold.sql_text(probe) ~ "), '$.error_message')") -%}
    {%- if parsed.rows[0][0] -%}
        {{ return(parsed.rows[0][0]) }}
    {%- endif -%}
    {%- do run_query(probe) -%}
    {{ return(none) }}
{%- endmacro %}

{#- Spark SQL has no helper to return an error: the probe runs (over no rows), and a
    predicate Spark cannot plan fails the hook with Spark's own message. -#}
{% macro spark__segment_predicate_problem(typed_columns, predicate) -%}
    {%- do run_query('select count(*) from (select ' ~ typed_columns | join(', ') ~ ') as customers where (' ~ predicate ~ ')') -%}
    {{ return(none) }}
{%- endmacro %}

{% macro postgres__segment_predicate_problem(typed_columns, predicate) -%}
    {%- set probe = 'select count(*) from (select ' ~ typed_columns | join(', ') ~ ') as customers where (' ~ predicate ~ ')' -%}
    {%- set result = run_query("select " ~ target.schema ~ ".onefold_sql_problem(" ~ onefold.sql_text(probe) ~ ")") -%}
    {{ return(result.rows[0][0]) }}
{%- endmacro %}
