{#-
    The staging side of erasure. `onefold erase` writes a salted SHA-256 of every erased
    identifier's match key to <base>_privacy.erasure_suppressions; every base staging
    model computes `is_suppressed` with suppression_flag(), and neither the staged nor
    the quarantine model passes a suppressed row on, so raw data that is loaded again or
    replayed never brings an erased person back.

    The salt is a secret of the connection, never of the SQL: on DuckDB the dbt-duckdb
    plugin `onefold.duckdb_plugin` sets the variable `onefold_erasure_salt` on
    every cursor from DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT; on PostgreSQL libpq sets the
    setting `onefold.erasure_salt` from PGOPTIONS. When suppressions exist but the
    connection has no salt, or another salt than the one they were written with, the
    query fails with a message saying so: suppressed people are never let through
    silently.

    DuckDB reads the hashes from the macro `<base>_privacy.suppression_hashes()`, a
    constant list that the on-run-start hook and `onefold erase` regenerate from the table
    (in the same transaction as the insert): no subquery and no join in the view, so
    DuckDB still shares one computation of a staging view that a query reads several
    times, and with an empty list the check folds away to `false`. PostgreSQL reads the
    table (a hashed subplan per identifier, evaluated only when the table is not empty).
-#}

{#- True for a raw row of the erasure declaration `name` (a source table's name, or the
    `name` of a model's entry; docs/erasure.md) that carries a suppressed identifier;
    `row_alias` names the relation the raw columns come from and `parsed_json` its
    columns holding JSON text already parsed ({raw: parsed}).

    While dbt parses, `graph` is empty: the flag then only records what the model
    depends on (the suppression list; the calling-code seed, which the PostgreSQL check
    reads for national phone numbers) and marks the model as the reader of `name`
    (meta.onefold_erasure_input), which is how the on-run-start hook finds the physical
    table erase deletes from, whatever the model's input var points at. A unit test
    compiles its model without `graph`: there the flag is false (its suppression list
    fixture is empty anyway). -#}
{% macro suppression_flag(name, row_alias='parsed', parsed_json={}) -%}
    {#- The list's source, also where DuckDB reads a generated macro: the lineage is real. #}
    {%- set suppressions = source('onefold_privacy', 'erasure_suppressions') -%}
    {%- if not execute -%}
        {%- set calling_codes = ref('country_calling_codes') -%}
        {%- do config(meta={'onefold_erasure_input': name}) -%}
        false
    {%- elif graph.get('sources') is none -%}
        {#- A unit test compiles its model without the graph: no declaration to read. -#}
        false
    {%- else -%}
    {%- set declaration = onefold.erasure_source(name) -%}
    {%- if not declaration.get('suppress', true) or not (declaration.get('identifiers') or declaration.get('free_text')) -%}
        false
    {%- else -%}
        {{ adapter.dispatch('suppression_check', 'onefold')(declaration, suppressions, row_alias, parsed_json) }}
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- The salted hash of each declared identifier of the row, as SQL expressions. -#}
{% macro suppression_candidates(config, row_alias, parsed_json) %}
    {%- set candidates = [] -%}
    {%- for identifier in config.get('identifiers') or [] -%}
        {%- set calling_codes = ref('country_calling_codes') if identifier.get('country_column') else none -%}
        {%- do candidates.append(onefold.erasure_function('suppression_hash',
            [onefold.erasure_identifier_match_key(identifier, calling_codes, row_alias, parsed_json)])) -%}
    {%- endfor -%}
    {{ return(candidates) }}
{% endmacro %}


{#-
    Identifiers written anywhere in a free-text column (`free_text` in the source's
    erasure config: URLs, JSON text kept whole, notes, broken JSON): emails and
    '+'-prefixed phone numbers, found by pattern in the lower-cased text with '%40'
    read as '@' (URL encoding), each normalized to its match key like a declared column.
-#}
{#- No '?' and no groups: statements with bound values mark them with '?', and
    PostgreSQL's regexp_matches returns groups instead of the match when there are any. -#}
{% macro free_text_patterns() %}
    {{ return({
        'email': '[a-z0-9._%+-]+@[a-z0-9.-]+[.][a-z]{2,}',
        'phone': '[+][0-9][0-9 ().-]{6,18}[0-9]',
    }) }}
{% endmacro %}

{% macro free_text(row_alias, column) -%}
    replace(lower(cast({{ row_alias }}.{{ column }} as {{ dbt.type_string() }})), '%40', '@')
{%- endmacro %}


{#- DuckDB staging: free-text matches against the constant list, without a subquery. -#}
{% macro duckdb_free_text_matches(config, row_alias) -%}
    {%- set schema = onefold.privacy_schema() -%}
    {%- set code = "'" ~ var('onefold__default_phone_calling_code') ~ "'" -%}
    {%- set checks = [] -%}
    {%- for column in config.get('free_text', []) -%}
        {%- for kind, pattern in onefold.free_text_patterns().items() -%}
            {%- do checks.append(
                'coalesce(list_has_any(' ~ schema ~ '.suppression_hashes(), list_transform(regexp_extract_all('
                ~ onefold.free_text(row_alias, column) ~ ", '" ~ pattern ~ "'), lambda found: "
                ~ schema ~ '.suppression_hash(' ~ schema ~ ".identifier_match_key('" ~ kind ~ "', found, "
                ~ code ~ ')))), false)') -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(checks) }}
{%- endmacro %}


{#- Any target: free-text matches against `hashes_sql` (a subquery of suppression
    hashes); PostgreSQL staging and `onefold erase --sweep` on both targets. -#}
{% macro free_text_matches(config, row_alias, hashes_sql) %}
    {%- set checks = [] -%}
    {%- for column in config.get('free_text', []) -%}
        {%- for kind, pattern in onefold.free_text_patterns().items() -%}
            {%- do checks.append(adapter.dispatch('free_text_match', 'onefold')(
                onefold.free_text(row_alias, column), kind, pattern, hashes_sql)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(checks) }}
{% endmacro %}

{% macro default__free_text_match(text, kind, pattern, hashes_sql) -%}
    {%- set schema = onefold.privacy_schema() -%}
    exists (select 1 from unnest(regexp_extract_all({{ text }}, '{{ pattern }}')) as found (found_value)
        where {{ schema }}.suppression_hash({{ schema }}.identifier_match_key('{{ kind }}', found.found_value,
            '{{ var("onefold__default_phone_calling_code") }}')) in ({{ hashes_sql }}))
{%- endmacro %}

{#- Spark: the matches as an array, against the list as an array (a subquery may not
    stand in a lambda, nor IN or EXISTS in a select list). -#}
{% macro spark__free_text_match(text, kind, pattern, hashes_sql) -%}
    coalesce(arrays_overlap({{ onefold.spark_hash_array(hashes_sql) }},
        {{ onefold.spark_free_text_hashes([text], kind, pattern) }}), false)
{%- endmacro %}

{#- Spark: the suppression hashes of the `kind` identifiers found in any of `texts`
    (expressions), as one array: one normalizer for all the texts, as Spark parses and
    analyses every copy of the (long) phone expression. -#}
{% macro spark_free_text_hashes(texts, kind, pattern) -%}
    {%- set match_key = onefold.erasure_function('identifier_match_key',
        [onefold.sql_text(kind), 'found', onefold.sql_text(var('onefold__default_phone_calling_code'))]) -%}
    {%- set extracted = [] -%}
    {%- for text in texts -%}
        {%- do extracted.append("coalesce(regexp_extract_all(" ~ text ~ ", '" ~ pattern ~ "', 0), cast(array() as array<string>))") -%}
    {%- endfor -%}
    transform(concat({{ extracted | join(', ') }}), found -> {{ onefold.erasure_function('suppression_hash', [match_key]) }})
{%- endmacro %}

{#- A query's suppression hashes as one array (Spark runs the same subquery once). -#}
{% macro spark_hash_array(hashes_sql) -%}
    (select collect_set(hashes.suppression_hash) from ({{ hashes_sql }}) as hashes)
{%- endmacro %}

{% macro postgres__free_text_match(text, kind, pattern, hashes_sql) -%}
    {%- set schema = onefold.privacy_schema() -%}
    exists (select 1 from regexp_matches({{ text }}, '{{ pattern }}', 'g') as found (parts)
        where {{ schema }}.suppression_hash({{ schema }}.identifier_match_key('{{ kind }}', found.parts[1],
            '{{ var("onefold__default_phone_calling_code") }}')) in ({{ hashes_sql }}))
{%- endmacro %}


{% macro duckdb__suppression_check(config, suppressions, row_alias, parsed_json) -%}
    {%- set schema = onefold.privacy_schema() -%}
        {#- The salt check is a branch of its own: as `salt_ok() and (<matches>)`, DuckDB
            folds the whole flag to false when a missing salt makes every hash null. #}
        case
            when len({{ schema }}.suppression_hashes()) = 0 then false
            when not {{ schema }}.suppression_salt_ok() then {{ onefold.raise_error(onefold.missing_salt_message()) }}
            else
            {%- for candidate in onefold.suppression_candidates(config, row_alias, parsed_json) %}
                coalesce(list_contains({{ schema }}.suppression_hashes(), {{ candidate | indent(16) }}), false)
                {%- if not loop.last %} or{% endif %}
            {%- endfor %}
            {%- for check in onefold.duckdb_free_text_matches(config, row_alias) %}
                or {{ check }}
            {%- endfor %}
        end
{%- endmacro %}


{% macro default__suppression_check(config, suppressions, row_alias, parsed_json) -%}
        case
            when not exists (select 1 from {{ suppressions }}) then false
            else
            {%- for candidate in onefold.suppression_candidates(config, row_alias, parsed_json) %}
                coalesce({{ candidate | indent(16) }} in ({{ onefold.suppressed_hashes(suppressions) }}), false)
                {%- if not loop.last %} or{% endif %}
            {%- endfor %}
            {%- for check in onefold.free_text_matches(config, row_alias, onefold.suppressed_hashes(suppressions)) %}
                or {{ check }}
            {%- endfor %}
        end
{%- endmacro %}


{#- Spark: the row's hashes as one array against the list as an array (IN and EXISTS
    subqueries are for filters there, not for a select list): the list's subquery and
    each normalizer written once, as Spark parses and analyses every copy. -#}
{% macro spark__suppression_check(config, suppressions, row_alias, parsed_json) -%}
    {%- set hashes = onefold.spark_hash_array(onefold.suppressed_hashes(suppressions)) -%}
    {%- set row_hashes = [] -%}
    {%- set candidates = onefold.suppression_candidates(config, row_alias, parsed_json) -%}
    {%- if candidates -%}
        {%- do row_hashes.append('array(' ~ candidates | join(',\n') ~ ')') -%}
    {%- endif -%}
    {%- set texts = [] -%}
    {%- for column in config.get('free_text', []) -%}
        {%- do texts.append(onefold.free_text(row_alias, column)) -%}
    {%- endfor -%}
    {%- if texts -%}
        {%- for kind, pattern in onefold.free_text_patterns().items() -%}
            {%- do row_hashes.append(onefold.spark_free_text_hashes(texts, kind, pattern)) -%}
        {%- endfor -%}
    {%- endif -%}
        case
            when size({{ hashes }}) = 0 then false
            else coalesce(arrays_overlap({{ hashes }}, concat({{ row_hashes | join(',\n') }})), false)
        end
{%- endmacro %}


{#- The suppression hashes, each row checked against the connection's salt. -#}
{% macro suppressed_hashes(suppressions) -%}
    select erasure_suppressions.suppression_hash
    from {{ suppressions }} as erasure_suppressions
    where
        case
            when erasure_suppressions.salt_fingerprint = {{ onefold.erasure_function('salt_fingerprint', []) }} then true
            else {{ onefold.raise_error(onefold.missing_salt_message()) }}
        end
{%- endmacro %}


{% macro missing_salt_message() -%}
    {{ return(
        "Erasure suppressions exist in " ~ onefold.privacy_schema() ~ ".erasure_suppressions but this "
        ~ "connection has no erasure salt, or not the one they were written with. Set "
        ~ "DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT (DuckDB: with the onefold.duckdb_plugin plugin in "
        ~ "profiles.yml) or PGOPTIONS=-c onefold.erasure_salt=<salt> (PostgreSQL) to the salt onefold "
        ~ "erase used; staging stops rather than let erased people back in.") }}
{%- endmacro %}


{#- An expression that fails the query with `message` (boolean-typed). -#}
{% macro raise_error(message) %}
    {{ return(adapter.dispatch('raise_error', 'onefold')(message)) }}
{% endmacro %}

{% macro default__raise_error(message) -%}
    cast(error('{{ message | replace("'", "''") }}') as boolean)
{%- endmacro %}

{% macro spark__raise_error(message) -%}
    cast(raise_error({{ onefold.sql_text(message) }}) as boolean)
{%- endmacro %}

{% macro postgres__raise_error(message) -%}
    {{ onefold.privacy_schema() }}.raise_error('{{ message | replace("'", "''") }}')
{%- endmacro %}


{#- The erasure salt of the current session (null when the connection has none). -#}
{% macro connection_salt() %}
    {{ return(adapter.dispatch('connection_salt', 'onefold')()) }}
{% endmacro %}

{% macro default__connection_salt() -%}
    nullif(getvariable('onefold_erasure_salt'), '')
{%- endmacro %}

{#- Spark: the profile's server_side_parameters carry it (docs/spark.md), read through
    Spark's variable substitution when the statement is parsed; a key the profile does
    not set stays as written, which reads as no salt. The key must not say "secret" (or
    "password", "token"): Spark substitutes its redaction mark for such keys' values. -#}
{% macro spark__connection_salt() -%}
    {%- set setting = '$' ~ '{spark.onefold.erasure_salt}' -%}
    case when startswith('{{ setting }}', concat('$', '{')) then null else nullif('{{ setting }}', '') end
{%- endmacro %}

{% macro postgres__connection_salt() -%}
    nullif(current_setting('onefold.erasure_salt', true), '')
{%- endmacro %}


{#- The shortest salt dbt and `onefold erase` accept (also in the config snapshot). -#}
{% macro minimum_salt_length() %}{{ return(16) }}{% endmacro %}


{#-
    on-run-start, after create_erasure_objects: stop the build before any model runs
    when the session's salt is too short, or when suppressions exist and this session
    has no salt or another one. Staging would fail on its own (the check in every base
    model raises), but only once it reached a row; here the message comes first and
    names what to set.
-#}
{% macro check_erasure_salt() %}
    {%- if not execute -%}{{ return('select 1') }}{%- endif -%}
    {%- set schema = onefold.privacy_schema() -%}
    {%- set row = run_query(
        'select length(' ~ onefold.connection_salt() ~ '), count(erasure_suppressions.suppression_hash), '
        ~ 'count(case when erasure_suppressions.salt_fingerprint is distinct from '
        ~ onefold.erasure_function('salt_fingerprint', []) ~ ' then 1 end) '
        ~ 'from (select 1 as one) as session left join ' ~ schema ~ '.erasure_suppressions as erasure_suppressions on true'
    ).rows[0] -%}
    {%- set salt_length, suppressions, mismatched = row[0], row[1], row[2] -%}
    {%- if salt_length is not none and salt_length < onefold.minimum_salt_length() -%}
        {%- do exceptions.raise_compiler_error(
            "The erasure salt (DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT) is shorter than "
            ~ onefold.minimum_salt_length() ~ " characters: use a long random value "
            ~ "(`openssl rand -hex 32`) so the suppression list cannot be reversed by guessing.") -%}
    {%- endif -%}
    {%- if suppressions > 0 and mismatched > 0 -%}
        {%- do exceptions.raise_compiler_error(onefold.missing_salt_message()) -%}
    {%- endif -%}
    {{ return('select 1') }}
{% endmacro %}
