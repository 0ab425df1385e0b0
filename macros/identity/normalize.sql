{#-
    Normalization of identifier values into match keys. Every macro takes and returns
    a SQL expression and returns null for a value that cannot be a valid identifier,
    so the caller can count it as rejected. Warehouse differences go through
    adapter.dispatch; most of the logic is shared SQL.
-#}

{#-
    The version of the built-in normalizers' rules, part of the identity input
    fingerprint: raise it with any change that gives a value another normalized form,
    so the first run of an upgraded package recomputes every record's identifiers
    instead of mixing old and new keys. 2: names fold inner spaces, composite parts
    escaped, phones read by libphonenumber's rules.
-#}
{% macro normalizers_version() -%}
    2
{%- endmacro %}


{#-
    The normalized value of an identifier of type `type_name` (a key of
    onefold__identifier_types): composite keys part by part, values that arrived as a
    SHA-256 digest kept as that digest (types with accepts_hashed), else the type's
    normalizer. `calling_code` is the SQL for the record's default phone calling code.
-#}
{% macro normalized_identifier_value(type_name, value, calling_code='null') %}
    {%- set type_config = var('onefold__identifier_types')[type_name] -%}
    {%- if type_config.normalizer == 'composite' -%}
        {{ return(onefold.normalize_composite_key(var('onefold__composite_keys')[type_name].parts, value)) }}
    {%- endif -%}
    {%- set normalized = onefold.normalize_identifier(type_config.normalizer, value, calling_code) -%}
    {%- if type_config.get('accepts_hashed') -%}
        {{ return('case when ' ~ onefold.is_sha256_hex(value) ~ ' then lower(trim(' ~ value ~ ')) else '
            ~ normalized ~ ' end') }}
    {%- endif -%}
    {{ return(normalized) }}
{% endmacro %}



{#-
    The match key of a normalized value: types that destinations receive hashed are
    matched on the SHA-256 of the normalized value, so a value that arrived already
    hashed joins the same person as its plain form; other types on the value itself.
-#}
{% macro match_key_from_normalized(type_name, normalized_value, is_prehashed) -%}
    {%- if var('onefold__identifier_types')[type_name].get('accepts_hashed') -%}
        {{ adapter.dispatch('hashed_match_key', 'onefold')(normalized_value, is_prehashed) }}
    {%- else -%}
        {{ normalized_value }}
    {%- endif -%}
{%- endmacro %}

{% macro default__hashed_match_key(normalized_value, is_prehashed) -%}
    case when {{ is_prehashed }} then {{ normalized_value }} else {{ onefold.sha256_hex(normalized_value) }} end
{%- endmacro %}

{#- Spark: the value written once (it is the whole phone expression there, not a call). -#}
{% macro spark__hashed_match_key(normalized_value, is_prehashed) -%}
    {{ onefold.sql_let('normalized', normalized_value,
        'case when ' ~ is_prehashed ~ ' then normalized else ' ~ onefold.sha256_hex('normalized') ~ ' end') }}
{%- endmacro %}


{#-
    The match key of a raw value of a column-given identifier type: one expression for
    models that look identifiers up in identity_map (consent signals, erasure requests).
    Types outside onefold__identifier_types give null.
-#}
{% macro identifier_match_key(type_column, value_column, calling_code='null') -%}
    case {{ type_column }}
    {%- for type_name, type_config in var('onefold__identifier_types').items() if type_config.normalizer != 'composite' %}
        when '{{ type_name }}' then {{ onefold.match_key_of_type(type_name, value_column, calling_code) }}
    {%- endfor %}
    end
{%- endmacro %}

{#- The match key of a raw value of the type `type_name` (one of onefold__identifier_types). -#}
{% macro match_key_of_type(type_name, value_column, calling_code='null') -%}
    {%- set type_config = var('onefold__identifier_types')[type_name] -%}
    {{ onefold.match_key_from_normalized(
        type_name,
        onefold.normalized_identifier_value(type_name, value_column, calling_code),
        onefold.is_sha256_hex(value_column) if type_config.get('accepts_hashed') else 'false') }}
{%- endmacro %}

{#-
    Route to the normalizer named in onefold__identifier_types / onefold__composite_keys:
    a built-in name, or a mapping with options:
      {name: date, formats: ['%Y%m%d', '%d/%m/%Y']}   dates written in these formats
      {macro: normalize_member_id, package: my_project}   your own normalizer, found by
          adapter.dispatch: define `default__normalize_member_id(value)` (or a
          `duckdb__` / `postgres__` one) returning SQL that is null for invalid values.
-#}
{% macro normalize_identifier(normalizer, value, calling_code='null') %}
    {%- if normalizer is mapping and normalizer.get('macro') -%}
        {#- Through a name: dbt's static macro scan reads adapter.dispatch() calls and
            accepts only a literal macro name there. -#}
        {%- set dispatch = adapter.dispatch -%}
        {{ return(dispatch(normalizer.macro, normalizer.get('package', project_name))(value)) }}
    {%- endif -%}
    {%- set options = normalizer if normalizer is mapping else {} -%}
    {%- set name = normalizer.get('name') if normalizer is mapping else normalizer -%}
    {%- if name == 'email' -%}
        {{ return(onefold.normalize_email(value)) }}
    {%- elif name == 'phone' -%}
        {{ return(onefold.normalize_phone(value, calling_code)) }}
    {%- elif name == 'text_id' -%}
        {{ return(onefold.normalize_text_id(value)) }}
    {%- elif name == 'name' -%}
        {{ return(onefold.normalize_name(value)) }}
    {%- elif name == 'postcode' -%}
        {{ return(onefold.normalize_postcode(value)) }}
    {%- elif name == 'date' -%}
        {{ return(onefold.normalize_date(value, options.get('formats'))) }}
    {%- elif name == 'composite' -%}
        {{ exceptions.raise_compiler_error(
            "Composite keys are normalized with normalize_composite_key(parts, value).") }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "Unknown normalizer '" ~ normalizer ~ "': use email, phone, text_id, name, postcode, "
            ~ "date, composite, {name: date, formats: [...]} or {macro: <your macro>, package: "
            ~ "<its project>} (see onefold__identifier_types).") }}
    {%- endif -%}
{% endmacro %}


{#- Matches `pattern` against the whole value. -#}
{% macro regex_full_match(value, pattern) %}
    {{ return(adapter.dispatch('regex_full_match', 'onefold')(value, pattern)) }}
{% endmacro %}

{% macro default__regex_full_match(value, pattern) -%}
    regexp_full_match({{ value }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__regex_full_match(value, pattern) -%}
    ({{ value }} ~ '^(?:{{ pattern }})$')
{%- endmacro %}

{#- Spark: Java regexes; the literal reaches them as written (escapedStringLiterals),
    where '' would end it: a quote in the pattern is Java's \x27. -#}
{% macro spark__regex_full_match(value, pattern) -%}
    ({{ value }} rlike '^(?:{{ pattern.replace("''", "\\x27") }})$')
{%- endmacro %}


{#- True when `value` matches the regular expression in the SQL expression `pattern` (not anchored). -#}
{% macro regex_search(value, pattern) %}
    {{ return(adapter.dispatch('regex_search', 'onefold')(value, pattern)) }}
{% endmacro %}

{% macro default__regex_search(value, pattern) -%}
    regexp_matches({{ value }}, {{ pattern }})
{%- endmacro %}

{% macro postgres__regex_search(value, pattern) -%}
    ({{ value }} ~ {{ pattern }})
{%- endmacro %}

{% macro spark__regex_search(value, pattern) -%}
    ({{ value }} rlike {{ pattern }})
{%- endmacro %}


{#- Replaces every match of `pattern` (a global replace on both warehouses). -#}
{% macro regex_replace_all(value, pattern, replacement) %}
    {{ return(adapter.dispatch('regex_replace_all', 'onefold')(value, pattern, replacement)) }}
{% endmacro %}

{% macro default__regex_replace_all(value, pattern, replacement) -%}
    regexp_replace({{ value }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{#- Spark's regexp_replace replaces every match. -#}
{% macro spark__regex_replace_all(value, pattern, replacement) -%}
    regexp_replace({{ value }}, '{{ pattern.replace("''", "\\x27") }}', {{ onefold.sql_text(replacement) }})
{%- endmacro %}


{#- Lower-case hex SHA-256 of the UTF-8 bytes of a text value. -#}
{% macro sha256_hex(value) %}
    {{ return(adapter.dispatch('sha256_hex', 'onefold')(value)) }}
{% endmacro %}

{% macro default__sha256_hex(value) -%}
    sha256({{ value }})
{%- endmacro %}

{% macro postgres__sha256_hex(value) -%}
    encode(sha256(convert_to({{ value }}, 'UTF8')), 'hex')
{%- endmacro %}

{% macro spark__sha256_hex(value) -%}
    sha2({{ value }}, 256)
{%- endmacro %}


{#- True when a value already is a SHA-256 hex digest (destinations' hashed form). -#}
{% macro is_sha256_hex(value) -%}
    coalesce({{ onefold.regex_full_match('lower(trim(' ~ value ~ '))', '[0-9a-f]{64}') }}, false)
{%- endmacro %}


{#- Plain ids (user ids, CRM ids, cards): trimmed; blank means absent. -#}
{% macro normalize_text_id(value) -%}
    nullif(trim({{ value }}), '')
{%- endmacro %}


{#-
    Email: trimmed and lower-cased; domain aliases applied (googlemail.com -> gmail.com);
    dots dropped and +tags cut for providers that ignore them; null unless the result
    is a plausible address (one @, a dotted domain with a 2+ letter TLD).
-#}
{% macro normalize_email(value) -%}
    {%- set lowered = 'lower(trim(' ~ value ~ '))' -%}
    {%- set local_part = onefold.text_part(lowered, "'@'", 1) -%}
    {%- set raw_domain = onefold.text_part(lowered, "'@'", 2) -%}
    {%- set aliases = var('onefold__email_domain_aliases') -%}
    {%- set domain -%}
        case {{ raw_domain }}
        {%- for alias, canonical in aliases.items() %}
            when '{{ alias }}' then '{{ canonical }}'
        {%- endfor %}
            else {{ raw_domain }}
        end
    {%- endset -%}
    {%- set untagged -%}
        case
            when {{ domain }} in ('{{ var("onefold__email_providers_with_plus_tags") | join("', '") }}')
                then {{ onefold.text_part(local_part, "'+'", 1) }}
            else {{ local_part }}
        end
    {%- endset -%}
    {%- set undotted -%}
        case
            when {{ domain }} in ('{{ var("onefold__email_providers_ignoring_dots") | join("', '") }}')
                then replace({{ untagged }}, '.', '')
            else {{ untagged }}
        end
    {%- endset -%}
    case
        when {{ onefold.regex_full_match(lowered, "[a-z0-9!#$%&*+/=?^_`{|}~.''-]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\\.[a-z]{2,}") }}
            and {{ local_part }} not like '.%'
            and {{ local_part }} not like '%.'
            and {{ local_part }} not like '%..%'
            and {{ undotted }} != ''
            then {{ undotted }} || '@' || {{ domain }}
    end
{%- endmacro %}


{#-
    Phone to E.164 by libphonenumber's rules (python/onefold/phones.py): `+CC`, the
    region's international prefix, trunk prefixes and carrier codes as libphonenumber
    reads them, extensions dropped; `calling_code` (SQL text, e.g. '44', the record's
    country) picks the region for numbers written without a country. Null unless the
    number's length is possible for its country. macros/identity/phone_functions.sql
    creates the function on PostgreSQL; on DuckDB it is libphonenumber itself.
-#}
{% macro normalize_phone(value, calling_code) -%}
    {{ return(adapter.dispatch('normalize_phone', 'onefold')(value, calling_code)) }}
{%- endmacro %}

{% macro default__normalize_phone(value, calling_code) -%}
    {{ onefold.phone_function() }}({{ value }}, cast({{ calling_code }} as {{ dbt.type_string() }}))
{%- endmacro %}

{% macro spark__normalize_phone(value, calling_code) -%}
    {{ onefold.spark_phone_e164(value, calling_code) }}
{%- endmacro %}


{#- Names, for matching: lower-case ASCII letters only, accents folded; spaces, hyphens,
    apostrophes and other punctuation dropped, so 'Black well', 'Blackwell' and
    'Black-Well' meet (O'Brien and OBrien too). Display values keep their spelling:
    golden attributes read the staged columns, not this. -#}
{% macro normalize_name(value) -%}
    nullif({{ onefold.regex_replace_all(
        "translate(lower(trim(" ~ value ~ ")), 'àáâãäåçèéêëìíîïñòóôõöøùúûüýÿß', 'aaaaaaceeeeiiiinoooooouuuuyys')",
        "[^a-z]", "") }}, '')
{%- endmacro %}


{#- Postcodes: upper-case letters and digits only ('sw1a 1aa' -> 'SW1A1AA'). -#}
{% macro normalize_postcode(value) -%}
    nullif({{ onefold.regex_replace_all("upper(" ~ value ~ ")", "[^A-Z0-9]", "") }}, '')
{%- endmacro %}


{#- Dates as ISO text ('YYYY-MM-DD'); null when the value is not a date. Without
    `formats` the value must be ISO (or a date or timestamp column); with them, the first
    format the value matches in full parses it. Formats use %Y (four digits), %m and %d
    (two digits) between literal characters, e.g. '%Y%m%d' or '%d/%m/%Y'. -#}
{% macro normalize_date(value, formats=none) -%}
    {%- set text_value = 'trim(cast(' ~ value ~ ' as ' ~ dbt.type_string() ~ '))' -%}
    {%- if not formats -%}
        cast({{ onefold.safe_cast_date(text_value) }} as {{ dbt.type_string() }})
    {%- else -%}
        cast(coalesce(
            {%- for date_format in ([formats] if formats is string else formats) %}
            case
                when {{ onefold.regex_full_match(text_value, onefold.date_format_pattern(date_format)) }}
                    then {{ onefold.date_from_format(text_value, date_format) }}
            end{% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}


{#- The regular expression a value written in `date_format` matches in full. -#}
{% macro date_format_pattern(date_format) -%}
    {%- set pattern = [] -%}
    {%- set directives = {'%Y': '[0-9]{4}', '%m': '[0-9]{2}', '%d': '[0-9]{2}'} -%}
    {%- for token in modules.re.findall('%.|[^%]', date_format) -%}
        {%- if token.startswith('%') and token not in directives -%}
            {{ exceptions.raise_compiler_error("Date format '" ~ date_format ~ "': " ~ token
                ~ " is not supported; use %Y, %m and %d between literal characters.") }}
        {%- endif -%}
        {%- do pattern.append(directives.get(token, modules.re.escape(token) | replace("'", "''"))) -%}
    {%- endfor -%}
    {{- pattern | join('') -}}
{%- endmacro %}


{#- A date from text already known to match `date_format`; null when it is no date
    (31 February). -#}
{% macro date_from_format(text_value, date_format) %}
    {{ return(adapter.dispatch('date_from_format', 'onefold')(text_value, date_format)) }}
{% endmacro %}

{% macro default__date_from_format(text_value, date_format) -%}
    cast(try_strptime({{ text_value }}, '{{ date_format }}') as date)
{%- endmacro %}

{#- Spark: its datetime pattern; other characters of the format are separators, which
    Spark's patterns read as written unless they are letters (date_format_pattern's
    check allows no directive but %Y, %m and %d). -#}
{% macro spark__date_from_format(text_value, date_format) -%}
    cast(try_to_timestamp({{ text_value }}, {{ onefold.sql_text(date_format | replace('%Y', 'yyyy') | replace('%m', 'MM') | replace('%d', 'dd')) }}) as date)
{%- endmacro %}

{% macro postgres__date_from_format(text_value, date_format) -%}
    {{ target.schema }}.onefold_try_date_format(
        {{ text_value }}, '{{ date_format | replace('%Y', 'YYYY') | replace('%m', 'MM') | replace('%d', 'DD') }}'
    )
{%- endmacro %}


{#-
    Composite keys travel as their raw parts joined with '|' (trimmed, in the order of
    onefold__composite_keys) and are normalized part by part in
    int_identifiers_normalized, like every other identifier. Each part is escaped first
    ('%' as '%25', then '|' as '%7C'), raw and normalized alike, so a part that holds a
    '|' cannot shift the parts after it: the separator only ever separates.
-#}
{% macro composite_key_raw_value(parts, columns) -%}
    {%- for part in parts -%}
        {{ onefold.composite_part_escaped('trim(cast(' ~ columns[part.name] ~ ' as ' ~ dbt.type_string() ~ '))') }}
        {%- if not loop.last %} || '|' || {% endif -%}
    {%- endfor -%}
{%- endmacro %}


{#- The normalized composite key from its raw '|'-joined parts; null when any part is. -#}
{% macro normalize_composite_key(parts, raw_value) -%}
    {%- for part in parts -%}
        {{ onefold.composite_part_escaped(onefold.normalize_identifier(
            part.normalizer, onefold.composite_part_unescaped(onefold.text_part(raw_value, "'|'", loop.index)))) }}
        {%- if not loop.last %} || '|' || {% endif -%}
    {%- endfor -%}
{%- endmacro %}


{#- A composite key part with '%' and '|' escaped, and the part back from that. -#}
{% macro composite_part_escaped(part) -%}
    replace(replace({{ part }}, '%', '%25'), '|', '%7C')
{%- endmacro %}

{% macro composite_part_unescaped(part) -%}
    replace(replace({{ part }}, '%7C', '|'), '%25', '%')
{%- endmacro %}
