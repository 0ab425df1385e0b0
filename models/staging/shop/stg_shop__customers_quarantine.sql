{{ onefold.quarantined_rows(ref('base_shop__customers'), onefold.input_relation('shop', 'shop_customers')) }}
