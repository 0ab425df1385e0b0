{{ onefold.quarantined_rows(ref('base_shop__orders'), onefold.input_relation('shop', 'shop_orders')) }}
