with

source as (

    {{ onefold.select_as_text(onefold.input_relation('crm', 'crm_contacts')) }}

),

parsed as {{ onefold.parse_once() }} (

    select
        *,
        {{ onefold.safe_cast_utc_timestamp('created_at') }} as parsed_created_at,
        {{ onefold.safe_cast_utc_timestamp('updated_at') }} as parsed_updated_at,
        {{ onefold.safe_cast_date('birth_date') }} as parsed_birth_date
    from source

),

validated as (

    select
        *,
        {{ onefold.quarantine_columns(
            onefold.value_length_checks(onefold.input_relation('crm', 'crm_contacts'), 'crm_contacts')
            + [onefold.missing_key_check('contact_id'), onefold.loaded_at_check()]
            + onefold.timestamp_checks('updated_at', 'parsed_updated_at')
            + onefold.timestamp_checks('created_at', 'parsed_created_at', required=false)
            + onefold.date_checks('birth_date', 'parsed_birth_date', var('onefold__min_birth_date'))
            + [onefold.boolean_check('is_deleted')]
        ) }},
        -- Rows carrying an erased identifier: neither staged nor quarantined (onefold erase).
        {{ onefold.suppression_flag('crm_contacts') }} as is_suppressed
    from parsed

),

flagged as (

    select
        *,
        {{ onefold.duplicate_flag(
            'contact_id',
            ['parsed_updated_at desc', '_loaded_at desc'],
            ['contact_id', 'email', 'phone', 'first_name', 'last_name', 'company',
             'lifecycle_stage', 'birth_date', 'mailing_postal_code', 'mailing_country',
             'created_at', 'updated_at', 'is_deleted', 'loyalty_card_id']
        ) }}
    from validated

)

select * from flagged
