with

base_order_lines as (

    select * from {{ ref('base_shop__order_lines') }}
    where quarantine_reason is null and not is_duplicate

),

renamed as (

    select
        trim(line_id) as line_id,
        trim(order_id) as order_id,
        trim(sku) as sku,
        nullif(trim(title), '') as title,
        parsed_quantity as quantity,
        parsed_price as unit_price,
        parsed_updated_at as updated_at,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from base_order_lines

)

select * from renamed
