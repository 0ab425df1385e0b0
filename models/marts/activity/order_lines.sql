{#-
    One row per product line of a shop order in `orders`: what was bought, in the
    order's currency. A line whose order is not in `orders` (quarantined in staging)
    is left out; stg_shop__order_lines' relationships test counts them. It reaches a
    customer only through its order (orders.order_id): erasure redacts the order's
    link to the person and keeps the order, and so the lines.
-#}
{{ config(alias=onefold.mart_alias()) }}

with

order_lines as (

    select * from {{ ref('stg_shop__order_lines') }}

),

orders as (

    select * from {{ ref('orders') }}
    where source = 'shop_orders'

),

joined as (

    select
        order_lines.line_id,
        orders.order_id,
        order_lines.sku,
        order_lines.title,
        cast(order_lines.quantity as integer) as quantity,
        cast(order_lines.unit_price as decimal(18, 2)) as unit_price,
        cast(order_lines.quantity * order_lines.unit_price as decimal(18, 2)) as amount,
        orders.currency,
        orders.is_cancelled,
        orders.ordered_at
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id

)

select * from joined
