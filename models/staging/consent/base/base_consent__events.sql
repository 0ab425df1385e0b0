with

source as (

    {{ onefold.select_as_text(onefold.input_relation('consent', 'consent_events')) }}

),

parsed as {{ onefold.parse_once() }} (

    select
        *,
        {{ onefold.safe_cast_utc_timestamp('occurred_at') }} as parsed_occurred_at
    from source

),

validated as (

    select
        *,
        {{ onefold.quarantine_columns(
            onefold.value_length_checks(onefold.input_relation('consent', 'consent_events'), 'consent_events')
            + [onefold.missing_key_check('consent_event_id'),
             onefold.loaded_at_check(),
             onefold.unexpected_value_check('identifier_type', var('onefold__consent_identifier_types')),
             {'when': "identifier_value is null or trim(identifier_value) = ''",
              'reason': 'missing_value', 'column': 'identifier_value'},
             onefold.unexpected_value_check('purpose', var('onefold__consent_purposes') | list),
             onefold.unexpected_value_check('status', ['granted', 'denied'])]
            + onefold.timestamp_checks('occurred_at', 'parsed_occurred_at')
            + [onefold.boolean_check('gpc')]
        ) }},
        -- Rows carrying an erased identifier: neither staged nor quarantined (onefold erase).
        {{ onefold.suppression_flag('consent_events') }} as is_suppressed
    from parsed

),

flagged as (

    select
        *,
        {{ onefold.duplicate_flag(
            'consent_event_id',
            ['_loaded_at asc'],
            ['consent_event_id', 'identifier_type', 'identifier_value', 'purpose', 'status',
             'source', 'jurisdiction', 'gpc', 'occurred_at']
        ) }}
    from validated

)

select * from flagged
