{#-
    Fivetran's Shopify `order_line` table in the native shop_order_lines shape
    base_shop__order_lines reads. A line has no timestamp of its own in Fivetran's
    schema: updated_at is null and the latest sync wins. docs/loaders.md.
-#}
{%- set line_relation = onefold.loader_input('onefold__shopify_order_line_relation', 'shopify_fivetran', 'order_line') -%}
{%- set columns = onefold.loader_columns(line_relation) -%}

with

order_line as (

    select * from {{ line_relation }}
    where not {{ onefold.loader_flag(columns, '_fivetran_deleted') }}

),

renamed as (

    select
        {{ onefold.loader_text(columns, 'id') }} as line_id,
        {{ onefold.loader_text(columns, 'order_id') }} as order_id,
        {{ onefold.loader_text_coalesce(columns, ['sku', 'variant_id', 'product_id']) }} as sku,
        {{ onefold.loader_text_coalesce(columns, ['title', 'name']) }} as title,
        {{ onefold.loader_text(columns, 'quantity') }} as quantity,
        {{ onefold.loader_text(columns, 'price') }} as price,
        cast(null as {{ dbt.type_string() }}) as updated_at,
        {{ onefold.loader_loaded_at(columns, ['_fivetran_synced']) }} as _loaded_at
    from order_line

)

select * from renamed
