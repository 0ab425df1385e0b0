{#- Every product line of a customer's orders that count (customer_orders: not
    cancelled or voided), for product suggestions: `onefold train` fits on the lines
    before its cutoff, customer_product_suggestions scores with all of them. -#}

with

customer_records as (

    select * from {{ ref('customer_records') }}

),

orders as (

    select * from {{ ref('orders') }}

),

order_lines as (

    select * from {{ ref('order_lines') }}

),

customer_orders as (

    {{ onefold.customer_orders('orders', 'customer_records') }}

),

customer_lines as (

    select
        customer_orders.customer_id,
        order_lines.order_id,
        order_lines.line_id,
        order_lines.sku,
        order_lines.quantity,
        order_lines.ordered_at
    from order_lines
    inner join customer_orders
        on order_lines.order_id = customer_orders.order_id

)

select * from customer_lines
