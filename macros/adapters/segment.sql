{#-
    Segment / RudderStack warehouse tables back to the tracking spec's JSON: both
    loaders flatten `context` into snake_case `context_*` columns, identify traits and
    page properties into top-level columns, and track properties into one table per
    event. docs/loaders.md lists the mapping column by column.
-#}

{#- Columns that are the call's envelope, not traits or properties. -#}
{% macro segment_envelope_columns() %}
    {{ return(['id', 'anonymous_id', 'user_id', 'received_at', 'sent_at', 'timestamp',
               'original_timestamp', 'uuid_ts', 'loaded_at', 'uuid', 'channel', 'event',
               'event_text', 'context', 'request_ip', 'message_id', 'type', 'record_id',
               '_loaded_at', '_fivetran_synced', '_airbyte_extracted_at']) }}
{% endmacro %}


{#- context_<column> -> its path in the tracking spec's context object. -#}
{% macro segment_context_paths() %}
    {{ return({
        'ip': ['ip'], 'user_agent': ['userAgent'], 'locale': ['locale'], 'timezone': ['timezone'],
        'page_url': ['page', 'url'], 'page_path': ['page', 'path'],
        'page_referrer': ['page', 'referrer'], 'page_title': ['page', 'title'],
        'page_search': ['page', 'search'],
        'device_id': ['device', 'id'], 'device_type': ['device', 'type'],
        'device_manufacturer': ['device', 'manufacturer'], 'device_model': ['device', 'model'],
        'device_name': ['device', 'name'], 'device_advertising_id': ['device', 'advertisingId'],
        'library_name': ['library', 'name'], 'library_version': ['library', 'version'],
        'os_name': ['os', 'name'], 'os_version': ['os', 'version'],
        'app_name': ['app', 'name'], 'app_version': ['app', 'version'], 'app_build': ['app', 'build'],
        'campaign_name': ['campaign', 'name'], 'campaign_source': ['campaign', 'source'],
        'campaign_medium': ['campaign', 'medium'], 'campaign_term': ['campaign', 'term'],
        'campaign_content': ['campaign', 'content'],
        'screen_width': ['screen', 'width'], 'screen_height': ['screen', 'height'],
    }) }}
{% endmacro %}


{#- The context JSON text of a table's row, from its context_* columns. Known ones go
    back to their nested camelCase path; any other context_<x> becomes key <x>. -#}
{% macro segment_context_json(columns) %}
    {%- set paths = onefold.segment_context_paths() -%}
    {%- set entries = [] -%}
    {%- set nested = {} -%}
    {%- for name in columns if name.startswith('context_') -%}
        {%- set key = name[8:] -%}
        {%- set path = paths.get(key, [key]) -%}
        {%- set value = adapter.quote(columns[name].name) -%}
        {%- if path | length == 1 -%}
            {%- do entries.append([path[0], value]) -%}
        {%- else -%}
            {%- if path[0] not in nested -%}
                {%- set members = [] -%}
                {%- do nested.update({path[0]: members}) -%}
                {%- do entries.append([path[0], members]) -%}
            {%- endif -%}
            {%- do nested[path[0]].append([path[1], value]) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(onefold.loader_json_object(entries)) }}
{% endmacro %}


{#- A JSON object of the table's own columns: traits of identifies, properties of
    pages and per-event tables (every column but the envelope and context_*). -#}
{% macro segment_payload_json(columns, exclude=[]) %}
    {%- set envelope = onefold.segment_envelope_columns() + exclude -%}
    {%- set entries = [] -%}
    {%- for name in columns if name not in envelope and not name.startswith('context_') -%}
        {%- do entries.append([name, adapter.quote(columns[name].name)]) -%}
    {%- endfor -%}
    {{ return(onefold.loader_json_object(entries)) }}
{% endmacro %}


{#- One call type of one table in the native web_events shape. -#}
{% macro segment_calls(relation, call_type, properties_sql=none, traits=false) %}
    {%- set columns = onefold.loader_columns(relation) -%}
    {%- set empty = "'{}'" -%}
    select
        {{ onefold.loader_text(columns, 'id') }} as message_id,
        {{ onefold.loader_text(columns, 'anonymous_id') }} as anonymous_id,
        {{ onefold.loader_text(columns, 'user_id') }} as user_id,
        '{{ call_type }}' as type,
        {%- if call_type == 'track' %}
        {{ onefold.loader_text_coalesce(columns, ['event_text', 'event']) }} as event,
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as event,
        {%- endif %}
        {{ onefold.loader_text_coalesce(columns, ['original_timestamp', 'timestamp']) }} as original_timestamp,
        {{ onefold.loader_text(columns, 'sent_at') }} as sent_at,
        {{ onefold.loader_text(columns, 'received_at') }} as received_at,
        {{ onefold.segment_context_json(columns) }} as context,
        {{ properties_sql or empty }} as properties,
        {{ onefold.segment_payload_json(columns) if traits else empty }} as traits,
        {{ onefold.loader_loaded_at(columns, ['loaded_at', 'uuid_ts', 'received_at']) }} as _loaded_at
    from {{ relation }}
{% endmacro %}


{#- Per-event tables (onefold__segment_event_tables): table names in the Segment
    schema, or relations ("{{ source(...) }}", database.schema.table). -#}
{% macro segment_event_relations() %}
    {%- set relations = [] -%}
    {%- for entry in var('onefold__segment_event_tables') or [] -%}
        {%- if entry is string and '.' not in entry and '"' not in entry -%}
            {%- do relations.append(api.Relation.create(
                database=var('onefold__raw_database') or target.get('database'),
                schema=var('onefold__segment_schema'), identifier=entry)) -%}
        {%- else -%}
            {%- do relations.append(onefold.as_relation(entry, 'onefold__segment_event_tables')) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(relations) }}
{% endmacro %}
