{{ onefold.quarantined_rows(ref('base_shop__customers'), source('shop', 'shop_customers')) }}
