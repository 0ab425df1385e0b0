{#-
    Fivetran's Shopify `order` table in the native shop_orders shape base_shop__orders
    reads. Money columns (Fivetran: float or numeric) come out as text and are cast to
    decimal(18, 2) by staging. Test orders (`test`) and orders Fivetran marks deleted
    (`_fivetran_deleted`) are left out. Refunds and line items live in other Fivetran
    tables (`refund`, `order_line`) and are not read: total_refunded and
    line_items_count are null (staging: 0 refunded). docs/loaders.md.
-#}
{%- set order_relation = onefold.loader_input('onefold__shopify_order_relation', 'shopify_fivetran', 'order') -%}
{%- set columns = onefold.loader_columns(order_relation) -%}

with

shop_order as (

    select * from {{ order_relation }}
    where
        not {{ onefold.loader_flag(columns, '_fivetran_deleted') }}
        and not {{ onefold.loader_flag(columns, 'test') }}

),

renamed as (

    select
        {{ onefold.loader_text(columns, 'id') }} as order_id,
        {{ onefold.loader_text(columns, 'customer_id') }} as customer_id,
        {{ onefold.loader_text(columns, 'email') }} as email,
        {{ onefold.loader_text_coalesce(columns, ['name', 'order_number']) }} as order_number,
        {{ onefold.loader_text_coalesce(columns, ['currency', 'presentment_currency']) }} as currency,
        {{ onefold.loader_text(columns, 'total_price') }} as total_price,
        {{ onefold.loader_text(columns, 'subtotal_price') }} as subtotal_price,
        {{ onefold.loader_text(columns, 'total_discounts') }} as total_discounts,
        cast(null as {{ dbt.type_string() }}) as total_refunded,
        {{ onefold.loader_text(columns, 'financial_status') }} as financial_status,
        {{ onefold.loader_text(columns, 'fulfillment_status') }} as fulfillment_status,
        {{ onefold.loader_text(columns, 'cancelled_at') }} as cancelled_at,
        cast(null as {{ dbt.type_string() }}) as line_items_count,
        {{ onefold.loader_text(columns, 'source_name') }} as source_name,
        {{ onefold.loader_text_coalesce(columns, ['created_at', 'processed_at']) }} as created_at,
        {{ onefold.loader_text(columns, 'updated_at') }} as updated_at,
        {{ onefold.loader_loaded_at(columns, ['_fivetran_synced']) }} as _loaded_at
    from shop_order

)

select * from renamed
