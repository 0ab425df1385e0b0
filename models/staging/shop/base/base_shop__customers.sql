with

source as (

    {{ onefold.select_as_text(onefold.input_relation('shop', 'shop_customers')) }}

),

parsed as {{ onefold.parse_once() }} (

    select
        *,
        {{ onefold.safe_cast_utc_timestamp('created_at') }} as parsed_created_at,
        {{ onefold.safe_cast_utc_timestamp('updated_at') }} as parsed_updated_at
    from source

),

validated as (

    select
        *,
        {{ onefold.quarantine_columns(
            onefold.value_length_checks(onefold.input_relation('shop', 'shop_customers'), 'shop_customers')
            + [onefold.missing_key_check('customer_id'), onefold.loaded_at_check()]
            + onefold.timestamp_checks('updated_at', 'parsed_updated_at')
            + onefold.timestamp_checks('created_at', 'parsed_created_at', required=false)
            + [onefold.boolean_check('accepts_marketing')]
        ) }},
        -- Rows carrying an erased identifier: neither staged nor quarantined (onefold erase).
        {{ onefold.suppression_flag('shop_customers') }} as is_suppressed
    from parsed

),

flagged as (

    select
        *,
        {{ onefold.duplicate_flag(
            'customer_id',
            ['parsed_updated_at desc', '_loaded_at desc'],
            ['customer_id', 'email', 'phone', 'first_name', 'last_name', 'address1', 'city',
             'province_code', 'zip', 'country_code', 'accepts_marketing', 'created_at',
             'updated_at']
        ) }}
    from validated

)

select * from flagged
