with

source as (

    {{ onefold.select_as_text(onefold.input_relation('email', 'email_events')) }}

),

parsed as (

    select
        *,
        {{ onefold.safe_cast_utc_timestamp('occurred_at') }} as parsed_occurred_at
    from source

),

validated as (

    select
        *,
        {{ onefold.quarantine_columns(
            onefold.value_length_checks(onefold.input_relation('email', 'email_events'), 'email_events')
            + [onefold.missing_key_check('event_id'),
             onefold.loaded_at_check(),
             onefold.unexpected_value_check(
                'event_type',
                ['sent', 'delivered', 'open', 'click', 'bounce', 'unsubscribe', 'spam_report'])]
            + onefold.timestamp_checks('occurred_at', 'parsed_occurred_at')
        ) }},
        -- Rows carrying an erased identifier: neither staged nor quarantined (onefold erase).
        {{ onefold.suppression_flag('email_events') }} as is_suppressed
    from parsed

),

flagged as (

    select
        *,
        {{ onefold.duplicate_flag(
            'event_id',
            ['_loaded_at asc'],
            ['event_id', 'email_address', 'campaign_id', 'event_type', 'url', 'occurred_at']
        ) }}
    from validated

)

select * from flagged
