{{ onefold.quarantined_rows(ref('base_shop__order_lines'), onefold.input_relation('shop', 'shop_order_lines')) }}
