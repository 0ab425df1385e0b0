{#-
    1:1 with raw web events: parses every column, flags rows that cannot be used
    (quarantine) and older copies of the same message_id (duplicates). The staging
    and quarantine models both read from here so they can never disagree.
-#}
with

source as (

    {{ onefold.select_as_text(onefold.input_relation('web', 'web_events')) }}

),

parsed as (

    select
        *,
        {{ onefold.safe_cast_utc_timestamp('original_timestamp') }} as parsed_original_at,
        {{ onefold.safe_cast_utc_timestamp('sent_at') }} as parsed_sent_at,
        {{ onefold.safe_cast_utc_timestamp('received_at') }} as parsed_received_at,
        {{ onefold.safe_parse_json('context') }} as context_json,
        {{ onefold.safe_parse_json('properties') }} as properties_json,
        {{ onefold.safe_parse_json('traits') }} as traits_json
    from source

),

validated as (

    select
        *,
        {{ onefold.quarantine_columns(
            onefold.value_length_checks(onefold.input_relation('web', 'web_events'), 'web_events')
            + [onefold.missing_key_check('message_id'),
             onefold.loaded_at_check(),
             onefold.unexpected_value_check('type', ['track', 'page', 'identify'])]
            + onefold.timestamp_checks('original_timestamp', 'parsed_original_at')
            + [onefold.unparseable_check('context', 'context_json', 'invalid_json'),
               onefold.unparseable_check('properties', 'properties_json', 'invalid_json'),
               onefold.unparseable_check('traits', 'traits_json', 'invalid_json')]
        ) }},
        -- Rows carrying an erased identifier: neither staged nor quarantined (onefold erase).
        {{ onefold.suppression_flag('web_events', parsed_json={'context': 'context_json', 'traits': 'traits_json'}) }} as is_suppressed
    from parsed

),

flagged as (

    select
        *,
        {{ onefold.duplicate_flag(
            'message_id',
            ['_loaded_at asc'],
            ['message_id', 'anonymous_id', 'user_id', 'type', 'event', 'original_timestamp',
             'sent_at', 'received_at', 'context', 'properties', 'traits']
        ) }}
    from validated

)

select * from flagged
