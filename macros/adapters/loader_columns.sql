{#-
    Helpers of the loader adapter models (models/adapters/<loader>/): loaders add a
    column only once a value arrives for it (Segment, Fivetran), so an adapter looks its
    input's columns up when it runs and reads an absent column as null. Values come out
    as the text staging reads (select_as_text's rendering), so malformed loader values
    are quarantined by the base model exactly as native text would be.
-#}

{#- Lower-cased column name -> column of `relation` (empty while parsing). -#}
{% macro loader_columns(relation) %}
    {%- set found = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do found.update({column.name | lower: column}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{% endmacro %}


{#- The column as staging text, or a text null when the loader has not created it. -#}
{% macro loader_text(columns, name) -%}
    {%- if name in columns -%}
        {{ onefold.column_as_text(columns[name]) }}
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}


{#- The first of `names` the loader created, as staging text (coalesced in order). -#}
{% macro loader_text_coalesce(columns, names) -%}
    {%- set present = [] -%}
    {%- for name in names if name in columns -%}
        {%- do present.append(onefold.column_as_text(columns[name])) -%}
    {%- endfor -%}
    {%- if present | length == 0 -%}
        cast(null as {{ dbt.type_string() }})
    {%- elif present | length == 1 -%}
        {{ present[0] }}
    {%- else -%}
        coalesce({{ present | join(', ') }})
    {%- endif -%}
{%- endmacro %}


{#- The column as itself (a JSON value keeps its type), or a null of `type`. -#}
{% macro loader_value(columns, name, type=none) -%}
    {%- if name in columns -%}
        {{ adapter.quote(columns[name].name) }}
    {%- else -%}
        cast(null as {{ type or dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}


{#- A load time as a UTC timestamp without time zone: the first of `names` present. -#}
{% macro loader_loaded_at(columns, names) -%}
    {%- set present = [] -%}
    {%- for name in names if name in columns -%}
        {%- set kind = onefold.column_kind(columns[name]) -%}
        {%- set quoted = adapter.quote(columns[name].name) -%}
        {%- if kind == 'timestamptz' -%}
            {%- do present.append('cast((' ~ quoted ~ " at time zone 'UTC') as " ~ dbt.type_timestamp() ~ ')') -%}
        {%- elif kind == 'timestamp' -%}
            {%- do present.append('cast(' ~ quoted ~ ' as ' ~ dbt.type_timestamp() ~ ')') -%}
        {%- else -%}
            {%- do present.append(onefold.safe_cast_utc_timestamp(quoted)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if present | length == 0 -%}
        cast(null as {{ dbt.type_timestamp() }})
    {%- else -%}
        coalesce({{ present | join(', ') }})
    {%- endif -%}
{%- endmacro %}


{#- A boolean column (typed or text) is true; missing or null is false. -#}
{% macro loader_flag(columns, name) -%}
    {%- if name not in columns -%}
        false
    {%- elif onefold.column_kind(columns[name]) == 'boolean' -%}
        coalesce({{ adapter.quote(columns[name].name) }}, false)
    {%- else -%}
        coalesce({{ onefold.safe_cast_boolean(onefold.column_as_text(columns[name])) }}, false)
    {%- endif -%}
{%- endmacro %}


{#-
    A JSON object as text from `entries`: a list of [key, value] pairs, where value is a
    SQL expression or, for a nested object, another such list. Keys whose value is null
    are left out, as a tracking library leaves out what it does not set.
-#}
{% macro loader_json_object(entries) %}
    {{ return(adapter.dispatch('loader_json_object', 'onefold')(entries)) }}
{% endmacro %}

{% macro default__loader_json_object(entries) -%}
    {%- if entries | length == 0 -%}
        '{}'
    {%- else -%}
        cast(json_strip_nulls(json_object(
        {%- for key, value in entries -%}
            '{{ key }}', {{ onefold.default__loader_json_value(value) }}{{ ', ' if not loop.last }}
        {%- endfor -%}
        )) as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{#- Nested objects are JSON values; one whose members are all null stays `{}`. -#}
{% macro default__loader_json_value(value) -%}
    {%- if value is string -%}{{ value }}{%- else -%}json_object(
        {%- for key, inner in value -%}
            '{{ key }}', {{ onefold.default__loader_json_value(inner) }}{{ ', ' if not loop.last }}
        {%- endfor -%}){%- endif -%}
{%- endmacro %}

{% macro postgres__loader_json_object(entries) -%}
    {%- if entries | length == 0 -%}
        '{}'
    {%- else -%}
        cast(jsonb_strip_nulls(jsonb_build_object(
        {%- for key, value in entries -%}
            '{{ key }}', {{ onefold.postgres__loader_json_value(value) }}{{ ', ' if not loop.last }}
        {%- endfor -%}
        )) as text)
    {%- endif -%}
{%- endmacro %}

{% macro postgres__loader_json_value(value) -%}
    {%- if value is string -%}{{ value }}{%- else -%}jsonb_build_object(
        {%- for key, inner in value -%}
            '{{ key }}', {{ onefold.postgres__loader_json_value(inner) }}{{ ', ' if not loop.last }}
        {%- endfor -%}){%- endif -%}
{%- endmacro %}


{#- A loader table: its relation var when set, else the adapter's package source. -#}
{% macro loader_input(relation_var, source_name, table_name) %}
    {%- set override = var(relation_var, none) -%}
    {%- if override is not none and (override | string | trim) != '' -%}
        {{ return(onefold.as_relation(override, relation_var)) }}
    {%- endif -%}
    {{ return(source(source_name, table_name)) }}
{% endmacro %}


{#-
    Shopify marketing consent as the 'true'/'false' text staging reads:
    `email_marketing_consent_state` (subscribed = true; not_subscribed, unsubscribed,
    pending (double opt-in not confirmed), invalid, redacted = false), else the
    deprecated `accepts_marketing` flag; null when neither says.
-#}
{% macro shopify_accepts_marketing(columns) -%}
    {%- set legacy = onefold.loader_text(columns, 'accepts_marketing') -%}
    {%- if 'email_marketing_consent_state' in columns -%}
        {%- set state = 'lower(trim(' ~ onefold.column_as_text(columns['email_marketing_consent_state']) ~ '))' -%}
        case
            when {{ state }} = 'subscribed' then 'true'
            when {{ state }} in ('not_subscribed', 'unsubscribed', 'pending', 'invalid', 'redacted') then 'false'
            else {{ legacy }}
        end
    {%- else -%}
        {{ legacy }}
    {%- endif -%}
{%- endmacro %}
