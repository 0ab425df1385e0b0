with

source as (

    {{ onefold.select_as_text(onefold.input_relation('shop', 'shop_orders')) }}

),

parsed as {{ onefold.parse_once() }} (

    select
        *,
        {{ onefold.safe_cast_utc_timestamp('created_at') }} as parsed_created_at,
        {{ onefold.safe_cast_utc_timestamp('updated_at') }} as parsed_updated_at,
        {{ onefold.safe_cast_utc_timestamp('cancelled_at') }} as parsed_cancelled_at,
        {{ onefold.safe_cast_decimal('total_price') }} as parsed_total_price,
        {{ onefold.safe_cast_decimal('subtotal_price') }} as parsed_subtotal_price,
        {{ onefold.safe_cast_decimal('total_discounts') }} as parsed_total_discounts,
        {{ onefold.safe_cast_decimal('total_refunded') }} as parsed_total_refunded,
        {{ onefold.safe_cast_integer('line_items_count') }} as parsed_line_items_count
    from source

),

validated as (

    select
        *,
        {{ onefold.quarantine_columns(
            onefold.value_length_checks(onefold.input_relation('shop', 'shop_orders'), 'shop_orders')
            + [onefold.missing_key_check('order_id'), onefold.loaded_at_check()]
            + onefold.timestamp_checks('updated_at', 'parsed_updated_at')
            + onefold.timestamp_checks('created_at', 'parsed_created_at')
            + onefold.timestamp_checks('cancelled_at', 'parsed_cancelled_at', required=false)
            + [onefold.unparseable_check('total_price', 'parsed_total_price', 'invalid_number'),
               {'when': 'parsed_total_price is null', 'reason': 'missing_value', 'column': 'total_price'},
               onefold.unexpected_value_check('currency', var('onefold__currencies')),
               onefold.unparseable_check('subtotal_price', 'parsed_subtotal_price', 'invalid_number'),
               onefold.unparseable_check('total_discounts', 'parsed_total_discounts', 'invalid_number'),
               onefold.unparseable_check('total_refunded', 'parsed_total_refunded', 'invalid_number'),
               onefold.unparseable_check('line_items_count', 'parsed_line_items_count', 'invalid_number')]
        ) }},
        -- Rows carrying an erased identifier: neither staged nor quarantined (onefold erase).
        {{ onefold.suppression_flag('shop_orders') }} as is_suppressed
    from parsed

),

flagged as (

    select
        *,
        {{ onefold.duplicate_flag(
            'order_id',
            ['parsed_updated_at desc', '_loaded_at desc'],
            ['order_id', 'customer_id', 'email', 'order_number', 'currency', 'total_price',
             'subtotal_price', 'total_discounts', 'total_refunded', 'financial_status',
             'fulfillment_status', 'cancelled_at', 'line_items_count', 'source_name',
             'created_at', 'updated_at']
        ) }}
    from validated

)

select * from flagged
