with

source as (

    {{ onefold.select_as_text(onefold.input_relation('shop', 'shop_order_lines')) }}

),

parsed as {{ onefold.parse_once() }} (

    select
        *,
        {{ onefold.safe_cast_utc_timestamp('updated_at') }} as parsed_updated_at,
        {{ onefold.safe_cast_integer('quantity') }} as parsed_quantity,
        {{ onefold.safe_cast_decimal('price') }} as parsed_price
    from source

),

validated as (

    select
        *,
        {{ onefold.quarantine_columns(
            onefold.value_length_checks(onefold.input_relation('shop', 'shop_order_lines'), 'shop_order_lines')
            + [onefold.missing_key_check('line_id'), onefold.missing_key_check('order_id'),
               onefold.missing_key_check('sku'), onefold.loaded_at_check()]
            + onefold.timestamp_checks('updated_at', 'parsed_updated_at', required=false)
            + [onefold.unparseable_check('quantity', 'parsed_quantity', 'invalid_number'),
               {'when': 'parsed_quantity is null', 'reason': 'missing_value', 'column': 'quantity'},
               {'when': 'parsed_quantity < 1', 'reason': 'unexpected_value', 'column': 'quantity'},
               onefold.unparseable_check('price', 'parsed_price', 'invalid_number')]
        ) }},
        -- A line holds no identifier, so erasure never screens one (its order is redacted).
        false as is_suppressed
    from parsed

),

flagged as (

    select
        *,
        {{ onefold.duplicate_flag(
            'line_id',
            ['parsed_updated_at desc', '_loaded_at desc'],
            ['line_id', 'order_id', 'sku', 'title', 'quantity', 'price', 'updated_at']
        ) }}
    from validated

)

select * from flagged
