-- A table, like every staging model that declares identity records (docs/staging.md):
-- its data tests and the identity and profile models each read it, and a view would
-- parse, flag and screen the raw rows again on every read.
{{ config(materialized='table') }}

with

base_orders as (

    select * from {{ ref('base_shop__orders') }}
    where quarantine_reason is null and not is_duplicate and not is_suppressed

),

renamed as (

    select
        trim(order_id) as order_id,
        nullif(trim(customer_id), '') as shop_customer_id,
        nullif(trim(email), '') as email,
        nullif(trim(order_number), '') as order_number,
        upper(trim(currency)) as currency,
        lower(nullif(trim(financial_status), '')) as financial_status,
        lower(nullif(trim(fulfillment_status), '')) as fulfillment_status,
        lower(nullif(trim(source_name), '')) as source_name,
        parsed_total_price as total_price,
        coalesce(parsed_subtotal_price, parsed_total_price) as subtotal_price,
        coalesce(parsed_total_discounts, 0) as total_discounts,
        coalesce(parsed_total_refunded, 0) as total_refunded,
        parsed_line_items_count as line_items_count,
        parsed_cancelled_at is not null as is_cancelled,
        parsed_created_at as created_at,
        parsed_updated_at as updated_at,
        parsed_cancelled_at as cancelled_at,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from base_orders

)

select * from renamed
