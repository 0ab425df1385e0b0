with

source as (

    {{ onefold.select_as_text(onefold.input_relation('privacy', 'erasure_requests')) }}

),

parsed as {{ onefold.parse_once() }} (

    select
        *,
        {{ onefold.safe_cast_utc_timestamp('received_at') }} as parsed_received_at
    from source

),

validated as (

    select
        *,
        {{ onefold.quarantine_columns(
            onefold.value_length_checks(onefold.input_relation('privacy', 'erasure_requests'), 'erasure_requests')
            + [onefold.missing_key_check('request_id'),
             onefold.loaded_at_check(),
             onefold.unexpected_value_check('identifier_type', var('onefold__erasure_identifier_types')),
             {'when': "identifier_value is null or trim(identifier_value) = ''",
              'reason': 'missing_value', 'column': 'identifier_value'},
             onefold.unexpected_value_check('regulation', var('onefold__erasure_regulations'))]
            + onefold.timestamp_checks('received_at', 'parsed_received_at')
        ) }},
        -- Rows carrying an erased identifier: neither staged nor quarantined (onefold erase).
        {{ onefold.suppression_flag('erasure_requests') }} as is_suppressed
    from parsed

),

flagged as (

    select
        *,
        {{ onefold.duplicate_flag(
            'request_id',
            ['_loaded_at asc'],
            ['request_id', 'identifier_type', 'identifier_value', 'regulation', 'received_at']
        ) }}
    from validated

)

select * from flagged
