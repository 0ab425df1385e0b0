{#-
    Segment / RudderStack warehouse tables in the native web_events shape that
    base_web__events reads: one row per identify, track and page call, `type` from the
    table it landed in, the event name from tracks.event_text, and context, properties
    and traits as JSON text rebuilt from the flattened columns. Typed columns
    (timestamps, numbers, booleans) come out as the text staging parses; a value that
    does not parse is quarantined by staging, not here.
-#}
{%- set identifies_relation = onefold.loader_input('onefold__segment_identifies_relation', 'segment', 'identifies') -%}
{%- set tracks_relation = onefold.loader_input('onefold__segment_tracks_relation', 'segment', 'tracks') -%}
{%- set pages_relation = onefold.loader_input('onefold__segment_pages_relation', 'segment', 'pages') -%}
{%- set event_relations = onefold.segment_event_relations() -%}

with

identifies as (

    {{ onefold.segment_calls(identifies_relation, 'identify', traits=true) }}

),

tracks as (

    {{ onefold.segment_calls(tracks_relation, 'track') }}

),

pages as (

    {%- set page_columns = onefold.loader_columns(pages_relation) %}
    {{ onefold.segment_calls(pages_relation, 'page', properties_sql=onefold.segment_payload_json(page_columns)) }}

),

event_tables as (

    {%- for relation in event_relations %}
    {%- set event_columns = onefold.loader_columns(relation) %}
    select
        {{ onefold.loader_text(event_columns, 'id') }} as message_id,
        {{ onefold.segment_payload_json(event_columns) }} as properties,
        {{ onefold.loader_loaded_at(event_columns, ['loaded_at', 'uuid_ts', 'received_at']) }} as properties_loaded_at
    from {{ relation }}
    union all
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as message_id,
        cast(null as {{ dbt.type_string() }}) as properties,
        cast(null as {{ dbt.type_timestamp() }}) as properties_loaded_at
    where false

),

-- A redelivered event can land twice in its event table: its first properties win.
event_properties as (

    select
        message_id,
        properties
    from (
        select
            message_id,
            properties,
            row_number() over (
                partition by message_id order by properties_loaded_at, properties
            ) as delivery_number
        from event_tables
    ) as numbered
    where delivery_number = 1

),

tracks_with_properties as (

    select
        tracks.message_id,
        tracks.anonymous_id,
        tracks.user_id,
        tracks.type,
        tracks.event,
        tracks.original_timestamp,
        tracks.sent_at,
        tracks.received_at,
        tracks.context,
        coalesce(event_properties.properties, tracks.properties) as properties,
        tracks.traits,
        tracks._loaded_at
    from tracks
    left join event_properties
        on tracks.message_id = event_properties.message_id

),

unioned as (

    select * from identifies
    union all
    select * from tracks_with_properties
    union all
    select * from pages

)

select * from unioned
