{{ onefold.quarantined_rows(ref('base_shop__orders'), source('shop', 'shop_orders')) }}
