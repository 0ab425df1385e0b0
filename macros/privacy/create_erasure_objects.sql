{#-
    on-run-start: Onefold's erasure state in <base>_privacy, created if missing and never
    dropped by dbt (these are not dbt models, so `--full-refresh` cannot wipe the
    suppression list), the SQL functions staging and `onefold erase` share, and a
    snapshot of the erasure configuration as this run resolved it (source relations,
    the SQL that extracts each identifier) for `onefold erase` to read.

    Tables (written by `onefold erase`, read by staging and the privacy marts):
      erasure_suppressions  salted hashes of every erased identifier: its match key (what
                            staging compares) and the hashed forms destinations receive
      erasure_receipts      one row per request: what was found and done, status, proof
      erasure_steps         the journal: one row per step a request completed
      erasure_destinations  one row per request and destination that held the person
      erasure_work          a request's resolved keys while it runs (emptied when done)
      erasure_config        the configuration snapshot below
    Functions:
      identifier_match_key(type, value, calling_code)  identity_map's match key of a raw value
      suppression_hash(match_key)                      salted SHA-256, salt from the connection
      salt_fingerprint()                               a check value of the connection's salt
-#}
{% macro create_erasure_objects() %}
    {%- if not execute -%}{{ return('select 1') }}{%- endif -%}
    {%- set schema = onefold.privacy_schema() -%}
    {%- set text = dbt.type_string() -%}
    {%- set timestamp = dbt.type_timestamp() -%}
    {%- set bigint = dbt.type_bigint() -%}
    {%- set tables -%}
    create table if not exists {{ schema }}.erasure_suppressions (
        identifier_type {{ text }},
        identifier_form {{ text }},
        suppression_hash {{ text }},
        salt_fingerprint {{ text }},
        erasure_request_id {{ text }},
        suppressed_at {{ timestamp }}
    ){{ onefold.plain_table_options() }};
    create table if not exists {{ schema }}.erasure_receipts (
        erasure_request_id {{ text }},
        request_source {{ text }},
        identifier_types {{ text }},
        regulation {{ text }},
        status {{ text }},
        found_json {{ text }},
        actions_json {{ text }},
        verification_json {{ text }},
        last_error {{ text }},
        residuals_count {{ bigint }},
        received_at {{ timestamp }},
        started_at {{ timestamp }},
        updated_at {{ timestamp }},
        completed_at {{ timestamp }},
        verified_at {{ timestamp }}
    ){{ onefold.plain_table_options() }};

    create table if not exists {{ schema }}.erasure_steps (
        erasure_request_id {{ text }},
        step_number {{ bigint }},
        step_name {{ text }},
        statement_sql {{ text }},
        rows_affected {{ bigint }},
        finished_at {{ timestamp }}
    ){{ onefold.plain_table_options() }};

    create table if not exists {{ schema }}.erasure_destinations (
        erasure_request_id {{ text }},
        sync_name {{ text }},
        destination_name {{ text }},
        destination_type {{ text }},
        status {{ text }},
        last_error {{ text }},
        records_count {{ bigint }},
        attempts {{ bigint }},
        first_attempted_at {{ timestamp }},
        last_attempted_at {{ timestamp }},
        completed_at {{ timestamp }}
    ){{ onefold.plain_table_options() }};

    create table if not exists {{ schema }}.erasure_work (
        erasure_request_id {{ text }},
        item_kind {{ text }},
        item_group {{ text }},
        item_key {{ text }},
        item_detail {{ text }},
        payload_json {{ text }}
    ){{ onefold.plain_table_options() }};

    create table if not exists {{ schema }}.erasure_config (
        config_json {{ text }},
        written_at {{ timestamp }}
    ){{ onefold.plain_table_options() }};
    {%- endset -%}
    {%- set statements = ['create schema if not exists ' ~ schema] -%}
    {%- for statement in tables.split(';') if statement.strip() -%}
        {%- do statements.append(statement.strip()) -%}
    {%- endfor -%}
    {#- Added after the first version of the table. -#}
    {%- do statements.append(onefold.add_column_if_missing(schema ~ '.erasure_suppressions', 'identifier_form', text)) -%}
    {%- do statements.append((adapter.dispatch('create_erasure_functions', 'onefold')(schema) | trim).rstrip(';')) -%}
    {%- do statements.extend(onefold.replace_rows_sql(schema ~ '.erasure_config',
        'select ' ~ onefold.sql_text(tojson(onefold.erasure_config_snapshot())) ~ ', ' ~ onefold.utc_now())) -%}
    {{ return(adapter.dispatch('run_erasure_statements', 'onefold')(statements | reject('equalto', '') | list)) }}
{% endmacro %}


{#-
    DuckDB: run and committed here rather than returned as the hook's SQL. dbt runs
    project hooks without opening a transaction, but dbt-duckdb's "master" connection
    can already be in one (an earlier hook's run_query), which dbt rolls back when it
    releases the connection, taking the returned SQL with it.
-#}
{% macro duckdb__run_erasure_statements(statements) %}
    {%- do onefold.run_statements(statements) -%}
    {%- do adapter.commit() -%}
    {{ return('select 1') }}
{% endmacro %}

{#- Spark: one statement per call. -#}
{% macro spark__run_erasure_statements(statements) %}
    {%- do onefold.run_statements(statements) -%}
    {{ return('select 1') }}
{% endmacro %}

{% macro default__run_erasure_statements(statements) %}
    {{ return(statements | join(';\n')) }}
{% endmacro %}


{#- The clause that makes a plain table of Onefold's own state (Spark: a parquet table
    rather than a Hive text table). -#}
{% macro plain_table_options() %}
    {{ return(adapter.dispatch('plain_table_options', 'onefold')()) }}
{% endmacro %}

{% macro default__plain_table_options() %}{{ return('') }}{% endmacro %}

{% macro spark__plain_table_options() %}{{ return(' using parquet') }}{% endmacro %}


{#- A statement adding a column that later versions of a table gained. -#}
{% macro add_column_if_missing(table, column, data_type) %}
    {{ return(adapter.dispatch('add_column_if_missing', 'onefold')(table, column, data_type)) }}
{% endmacro %}

{% macro default__add_column_if_missing(table, column, data_type) %}
    {{ return('alter table ' ~ table ~ ' add column if not exists ' ~ column ~ ' ' ~ data_type) }}
{% endmacro %}

{#- Spark has no `add column if not exists`, and no Spark table predates the column. -#}
{% macro spark__add_column_if_missing(table, column, data_type) %}
    {{ return('') }}
{% endmacro %}


{#- Statements that replace a table's rows with a query's. -#}
{% macro replace_rows_sql(table, select_sql) %}
    {{ return(adapter.dispatch('replace_rows_sql', 'onefold')(table, select_sql)) }}
{% endmacro %}

{% macro default__replace_rows_sql(table, select_sql) %}
    {{ return(['delete from ' ~ table, 'insert into ' ~ table ~ ' ' ~ select_sql]) }}
{% endmacro %}

{#- Spark deletes no rows from a parquet table: it overwrites it. -#}
{% macro spark__replace_rows_sql(table, select_sql) %}
    {{ return(['insert overwrite table ' ~ table ~ ' ' ~ select_sql]) }}
{% endmacro %}


{#- The match key of a raw value for any erasable type (null for other types). -#}
{% macro erasure_match_key_body() -%}
    {%- set extra_types = [] -%}
    {%- for type_name in var('onefold__erasure_identifier_types') if type_name not in var('onefold__identifier_types') -%}
        {%- do extra_types.append(type_name) -%}
    {%- endfor -%}
    case
        {%- if extra_types %}
        when identifier_type in ('{{ extra_types | join("', '") }}') then nullif(trim(raw_value), '')
        {%- endif %}
        else {{ onefold.identifier_match_key('identifier_type', 'raw_value', 'calling_code') }}
    end
{%- endmacro %}


{% macro default__create_erasure_functions(schema) -%}
    create or replace macro {{ schema }}.identifier_match_key(identifier_type, raw_value, calling_code) as (
        {{ onefold.erasure_match_key_body() }}
    );

    create or replace macro {{ schema }}.suppression_hash(match_key) as
        sha256({{ onefold.connection_salt() }} || '|' || match_key);

    create or replace macro {{ schema }}.salt_fingerprint() as
        sha256('onefold-erasure-salt|' || {{ onefold.connection_salt() }});

    {{ onefold.duckdb_suppression_macros(schema) }}

    {{ onefold.duckdb_calling_codes_macro(schema) }}
{%- endmacro %}


{#- DuckDB: country -> calling code from the seed, as a constant map (empty before the
    seed's first load: numbers then read with onefold__default_phone_calling_code). -#}
{% macro duckdb_calling_codes_macro(schema) -%}
    {%- set pairs = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'seed'
        and node.package_name == onefold.package_name() and node.name == 'country_calling_codes' -%}
        {%- if adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) is not none -%}
            {%- for row in run_query('select country_code, calling_code from ' ~ node.relation_name
                ~ ' where country_code is not null and calling_code is not null order by 1') -%}
                {%- do pairs.append("'" ~ (row[0] | replace("'", "''")) ~ "': '" ~ (row[1] | string | replace("'", "''")) ~ "'") -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    create or replace macro {{ schema }}.calling_codes() as
    {%- if pairs %} map {{ '{' }}{{ pairs | join(', ') }}{{ '}' }};
    {%- else %} map([]::varchar[], []::varchar[]);
    {%- endif %}
{%- endmacro %}


{#- How many hashes DuckDB's suppression macros hold as constants (also in the config
    snapshot `onefold erase` reads). -#}
{% macro suppression_list_limit() %}{{ return(5000) }}{% endmacro %}


{#-
    DuckDB: the suppression list as constants (see macros/privacy/suppression.sql), from
    the table as it is now; `onefold erase` regenerates them with every insert
    (onefold.erasure.suppression.duckdb_suppression_macros builds the same SQL from the
    config snapshot's message and limit). Beyond suppression_list_limit() hashes the
    macros read the table instead (correct, but a query that reads a staging view twice
    then computes it twice).
-#}
{% macro duckdb_suppression_macros(schema) -%}
    {%- set list_limit = onefold.suppression_list_limit() -%}
    {%- set table = schema ~ '.erasure_suppressions' -%}
    {%- set hashes = [] -%}
    {%- set fingerprints = [] -%}
    {%- if adapter.get_relation(database=target.get('database'), schema=schema, identifier='erasure_suppressions') is not none -%}
        {%- set rows = run_query('select distinct suppression_hash, salt_fingerprint from ' ~ table) -%}
        {%- for row in rows -%}
            {%- if row[0] not in hashes %}{% do hashes.append(row[0]) %}{% endif -%}
            {%- if row[1] not in fingerprints %}{% do fingerprints.append(row[1]) %}{% endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if hashes | length > list_limit -%}
    create or replace macro {{ schema }}.suppression_hashes() as
        (select list(distinct suppression_hash) from {{ table }});
    create or replace macro {{ schema }}.suppression_salt_ok() as
        (select count(*) from {{ table }} where salt_fingerprint is distinct from {{ schema }}.salt_fingerprint()) = 0;
    {%- else -%}
    create or replace macro {{ schema }}.suppression_hashes() as
        [{% for hash in hashes | sort %}'{{ hash }}'{% if not loop.last %}, {% endif %}{% endfor %}]::varchar[];
    create or replace macro {{ schema }}.suppression_salt_ok() as
    {%- if not fingerprints %} true;
    {%- elif fingerprints | length == 1 %} coalesce({{ schema }}.salt_fingerprint() = '{{ fingerprints[0] }}', false);
    {%- else %} false;
    {%- endif %}
    {%- endif %}
{%- endmacro %}


{#- Spark: none. Its SQL functions cannot carry the salt (a persistent one would store
    it; a temporary one cannot be used in a view, nor called in a lambda), so
    erasure_function writes each one out where it is used. -#}
{% macro spark__create_erasure_functions(schema) -%}
{%- endmacro %}


{#- The SQL of a call to one of the erasure functions above (`arguments`: SQL). -#}
{% macro erasure_function(name, arguments) %}
    {{ return(adapter.dispatch('erasure_function', 'onefold')(name, arguments)) }}
{% endmacro %}

{% macro default__erasure_function(name, arguments) %}
    {{ return(onefold.privacy_schema() ~ '.' ~ name ~ '(' ~ arguments | join(', ') ~ ')') }}
{% endmacro %}

{% macro spark__erasure_function(name, arguments) %}
    {%- if name == 'identifier_match_key' -%}
        {#- A type given as a literal needs its own normalizer only: Spark compiles every
            branch of a CASE, and the phone normalizer is a large expression. -#}
        {%- set type_name = arguments[0] | trim -%}
        {%- set identifier_types = var('onefold__identifier_types') -%}
        {%- if type_name.startswith("'") and type_name.endswith("'") and type_name[1:-1] in identifier_types
                and identifier_types[type_name[1:-1]].normalizer != 'composite' -%}
            {{ return(onefold.sql_let('raw_value', arguments[1], onefold.sql_let('calling_code', arguments[2],
                onefold.match_key_of_type(type_name[1:-1], 'raw_value', 'calling_code')))) }}
        {%- endif -%}
        {{ return(onefold.sql_let('identifier_type', arguments[0], onefold.sql_let('raw_value', arguments[1],
            onefold.sql_let('calling_code', arguments[2], onefold.erasure_match_key_body())))) }}
    {%- elif name == 'suppression_hash' -%}
        {{ return('sha2(concat(' ~ onefold.connection_salt() ~ ", '|', " ~ arguments[0] ~ '), 256)') }}
    {%- elif name == 'salt_fingerprint' -%}
        {{ return("sha2(concat('onefold-erasure-salt|', " ~ onefold.connection_salt() ~ '), 256)') }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error('No erasure function ' ~ name ~ ' on Spark.') }}
{% endmacro %}


{#- PL/pgSQL, not SQL: an inlined SQL function would repeat its argument (a JSON lookup,
    a safe cast) at every one of the normalizers' many references to it; PL/pgSQL
    evaluates it once, at under a microsecond per call. -#}
{% macro postgres__create_erasure_functions(schema) -%}
    create or replace function {{ schema }}.identifier_match_key(
        identifier_type text, raw_value text, calling_code text
    ) returns text language plpgsql stable parallel safe as $$
    begin
        return {{ onefold.erasure_match_key_body() }};
    end;
    $$;

    create or replace function {{ schema }}.suppression_hash(match_key text)
    returns text language sql stable parallel safe as $$
        select encode(sha256(convert_to(
            {{ onefold.connection_salt() }} || '|' || match_key, 'UTF8')), 'hex')
    $$;

    create or replace function {{ schema }}.salt_fingerprint()
    returns text language sql stable parallel safe as $$
        select encode(sha256(convert_to(
            'onefold-erasure-salt|' || {{ onefold.connection_salt() }}, 'UTF8')), 'hex')
    $$;

    create or replace function {{ schema }}.raise_error(message text)
    returns boolean language plpgsql volatile as $$
    begin
        raise exception '%', message;
    end;
    $$;
{%- endmacro %}


{#- The staging models built as tables (Spark's base and quarantine models) that hold
    the raw rows of the node `node_id` with their raw columns: models of the staging
    layer reading it, or reading such a copy, but not the identity declarations' models
    (their own entries, `staging_tables`). Erase deletes the person's rows from each as
    from the raw table. -#}
{% macro erasure_raw_copies(node_id) %}
    {%- set declared = [] -%}
    {%- for declaration in onefold.identifier_declarations() -%}
        {%- do declared.append(declaration.schema ~ '.' ~ declaration.alias) -%}
    {%- endfor -%}
    {%- set reads = [node_id] -%}
    {%- set copies = [] -%}
    {#- Two rounds: base models read the source, quarantine models the base models. -#}
    {%- for round in range(2) -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model'
                and node.config.get('enabled', true) and node.unique_id not in reads
                and node.config.materialized in ['table', 'incremental']
                and (node.path | replace('\\', '/')).startswith('staging/')
                and (node.schema ~ '.' ~ node.alias) not in declared -%}
            {%- if node.depends_on.nodes | select('in', reads) | list | length > 0 -%}
                {%- do reads.append(node.unique_id) -%}
                {%- do copies.append(node.relation_name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(copies) }}
{% endmacro %}


{#- What `onefold erase` needs to know, resolved for this target and these vars. The SQL
    of each declaration reads its physical table under the alias `erasure_row`;
    `relation` is that table, fully rendered (the source, or what an input var points
    at); a source served by a dbt-built node (an adapter) has no entry of its own in
    `sources`, its node's entries are there, and `served` says by what. -#}
{% macro erasure_config_snapshot() %}
    {%- set sources = {} -%}
    {%- set served = {} -%}
    {%- set calling_codes = onefold.graph_relation('seed', 'country_calling_codes') -%}
    {%- set declarations = onefold.erasure_declarations() -%}
    {%- set relations = onefold.erasure_relations(declarations) -%}
    {%- for config in declarations -%}
        {%- set resolved = relations[config.name] -%}
        {%- if resolved.served_by is not none -%}
            {%- do served.update({config.name: {'declared_in': config.where, 'served_by': resolved.served_by}}) -%}
        {%- else -%}
        {%- do onefold.warn_erasure_views(config, resolved) -%}
        {%- set identifiers = [] -%}
        {%- for identifier in config.get('identifiers') or [] -%}
            {%- do identifiers.append({
                'type': identifier.get('type'),
                'type_sql': onefold.erasure_identifier_type(identifier, 'erasure_row'),
                'value_sql': onefold.erasure_identifier_value(identifier, 'erasure_row'),
                'match_key_sql': onefold.erasure_identifier_match_key(identifier, calling_codes, 'erasure_row') | string,
            }) -%}
        {%- endfor -%}
        {%- do sources.update({config.name: {
            'relation': resolved.relation,
            'declared_in': config.where,
            'record_key_sql': 'trim(cast(erasure_row.' ~ config.record_key ~ ' as ' ~ dbt.type_string() ~ '))',
            'record_source': config.get('record_source', config.name),
            'action': config.action,
            'redact': config.get('redact') or {},
            'keep_derived': config.get('keep_derived') or [],
            'suppress': config.get('suppress', true),
            'identifiers': identifiers,
            'free_text_sql': onefold.free_text_matches(config, 'erasure_row',
                'select suppression_hash from ' ~ onefold.privacy_schema() ~ '.erasure_suppressions'),
            'copies': onefold.erasure_raw_copies(config.node),
        }}) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- Staging models built as tables keep a copy of raw rows until the next build. -#}
    {%- set staging_tables = [] -%}
    {%- for declaration in onefold.identifier_declarations() if declaration.materialized in ['table', 'incremental'] -%}
        {%- do staging_tables.append({
            'schema': declaration.schema,
            'table': declaration.alias,
            'record_source': declaration.source,
            'record_key': declaration.record_key,
            'identifiers': declaration.identifiers,
        }) -%}
    {%- endfor -%}
    {%- set hashed_types = [] -%}
    {%- for type_name, type_config in var('onefold__identifier_types').items() if type_config.get('accepts_hashed') -%}
        {%- do hashed_types.append(type_name) -%}
    {%- endfor -%}
    {#- The erasure functions as SQL templates (placeholders ERASURE_ARG_TYPE, …_VALUE,
        …_CODE): Spark has none in the warehouse and writes each one out where it is used. -#}
    {%- set match_keys = {} -%}
    {%- for type_name in onefold.erasable_identifier_types() -%}
        {%- do match_keys.update({type_name: onefold.erasure_function('identifier_match_key',
            [onefold.sql_text(type_name), 'ERASURE_ARG_VALUE', 'ERASURE_ARG_CODE'])}) -%}
    {%- endfor -%}
    {{ return({
        'version': 4,
        'functions': {
            'match_key_of_type': match_keys,
            'match_key': onefold.erasure_function('identifier_match_key',
                ['ERASURE_ARG_TYPE', 'ERASURE_ARG_VALUE', 'ERASURE_ARG_CODE']),
            'suppression_hash': onefold.erasure_function('suppression_hash', ['ERASURE_ARG_VALUE']),
            'salt_fingerprint': onefold.erasure_function('salt_fingerprint', []),
        },
        'target_type': target.type,
        'privacy_schema': onefold.privacy_schema(),
        'default_calling_code': var('onefold__default_phone_calling_code') | string,
        'identifier_types': onefold.erasable_identifier_types(),
        'hashed_identifier_types': hashed_types,
        'request_identifier_types': var('onefold__erasure_identifier_types'),
        'regulations': var('onefold__erasure_regulations'),
        'deadlines': var('onefold__erasure_deadlines'),
        'default_deadline': var('onefold__erasure_default_deadline'),
        'verify_exclude_schemas': var('onefold__erasure_verify_exclude_schemas'),
        'consent_purposes': var('onefold__consent_purposes') | list,
        'missing_salt_message': onefold.missing_salt_message(),
        'suppression_list_limit': onefold.suppression_list_limit(),
        'sources': sources,
        'served': served,
        'staging_tables': staging_tables,
    }) }}
{% endmacro %}
