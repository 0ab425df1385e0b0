{#-
    Fivetran's Shopify `customer` table (with the customer's default address from
    `customer_address`) in the native shop_customers shape base_shop__customers reads.
    Customers Fivetran marks deleted (`_fivetran_deleted`) were deleted in Shopify and
    are left out. Marketing consent comes from `email_marketing_consent_state` (Shopify's
    current API), else the deprecated `accepts_marketing` flag. docs/loaders.md.
-#}
{%- set customer_relation = onefold.loader_input('onefold__shopify_customer_relation', 'shopify_fivetran', 'customer') -%}
{%- set address_relation = onefold.loader_input('onefold__shopify_customer_address_relation', 'shopify_fivetran', 'customer_address') -%}
{%- set customer = onefold.loader_columns(customer_relation) -%}
{%- set address = onefold.loader_columns(address_relation) -%}

with

customer as (

    select * from {{ customer_relation }}
    where not {{ onefold.loader_flag(customer, '_fivetran_deleted') }}

),

customer_address as (

    select * from {{ address_relation }}
    where not {{ onefold.loader_flag(address, '_fivetran_deleted') }}

),

-- One address per customer: the default one (customer.default_address_id, else the
-- address flagged is_default), the lowest address id breaking ties.
default_address as (

    select
        customer_id,
        address_1,
        city,
        province_code,
        zip,
        country_code
    from (
        select
            {{ onefold.loader_text(address, 'customer_id') }} as customer_id,
            {{ onefold.loader_text(address, 'address_1') }} as address_1,
            {{ onefold.loader_text(address, 'city') }} as city,
            {{ onefold.loader_text(address, 'province_code') }} as province_code,
            {{ onefold.loader_text(address, 'zip') }} as zip,
            {{ onefold.loader_text(address, 'country_code') }} as country_code,
            row_number() over (
                partition by {{ onefold.loader_text(address, 'customer_id') }}
                order by
                    {{ onefold.loader_flag(address, 'is_default') }} desc,
                    {{ onefold.loader_text(address, 'id') }}
            ) as address_rank
        from customer_address
    ) as ranked
    where address_rank = 1

),

renamed as (

    select
        {{ onefold.loader_text(customer, 'id') }} as customer_id,
        {{ onefold.loader_text(customer, 'email') }} as email,
        {{ onefold.loader_text(customer, 'phone') }} as phone,
        {{ onefold.loader_text(customer, 'first_name') }} as first_name,
        {{ onefold.loader_text(customer, 'last_name') }} as last_name,
        {{ onefold.shopify_accepts_marketing(customer) }} as accepts_marketing,
        {{ onefold.loader_text(customer, 'created_at') }} as created_at,
        {{ onefold.loader_text(customer, 'updated_at') }} as updated_at,
        {{ onefold.loader_loaded_at(customer, ['_fivetran_synced']) }} as _loaded_at
    from customer

),

with_address as (

    select
        renamed.customer_id,
        renamed.email,
        renamed.phone,
        renamed.first_name,
        renamed.last_name,
        default_address.address_1 as address1,
        default_address.city,
        default_address.province_code,
        default_address.zip,
        default_address.country_code,
        renamed.accepts_marketing,
        renamed.created_at,
        renamed.updated_at,
        renamed._loaded_at
    from renamed
    left join default_address
        on renamed.customer_id = default_address.customer_id

)

select * from with_address
