with

source as (

    {{ onefold.select_as_text(onefold.input_relation('pos', 'pos_transactions')) }}

),

parsed as {{ onefold.parse_once() }} (

    select
        *,
        {{ onefold.safe_cast_utc_timestamp('transacted_at') }} as parsed_transacted_at,
        {{ onefold.safe_cast_decimal('amount') }} as parsed_amount,
        {{ onefold.safe_cast_integer('items_count') }} as parsed_items_count
    from source

),

validated as (

    select
        *,
        {{ onefold.quarantine_columns(
            onefold.value_length_checks(onefold.input_relation('pos', 'pos_transactions'), 'pos_transactions')
            + [onefold.missing_key_check('transaction_id'), onefold.loaded_at_check()]
            + onefold.timestamp_checks('transacted_at', 'parsed_transacted_at')
            + [onefold.unparseable_check('amount', 'parsed_amount', 'invalid_number'),
               {'when': 'parsed_amount is null', 'reason': 'missing_value', 'column': 'amount'},
               onefold.unexpected_value_check('currency', var('onefold__currencies')),
               onefold.unparseable_check('items_count', 'parsed_items_count', 'invalid_number')]
        ) }},
        -- Rows carrying an erased identifier: neither staged nor quarantined (onefold erase).
        {{ onefold.suppression_flag('pos_transactions') }} as is_suppressed
    from parsed

),

flagged as (

    select
        *,
        {{ onefold.duplicate_flag(
            'transaction_id',
            ['_loaded_at asc'],
            ['transaction_id', 'store_id', 'loyalty_card_id', 'phone', 'amount', 'currency',
             'items_count', 'transacted_at']
        ) }}
    from validated

)

select * from flagged
