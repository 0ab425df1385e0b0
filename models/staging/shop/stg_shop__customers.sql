-- A table, like every staging model that declares identity records (docs/staging.md):
-- its data tests and the identity and profile models each read it, and a view would
-- parse, flag and screen the raw rows again on every read.
{{ config(materialized='table') }}

with

base_customers as (

    select * from {{ ref('base_shop__customers') }}
    where quarantine_reason is null and not is_duplicate and not is_suppressed

),

renamed as (

    select
        trim(customer_id) as shop_customer_id,
        nullif(trim(email), '') as email,
        nullif(trim(phone), '') as phone,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(trim(address1), '') as address_line_1,
        nullif(trim(city), '') as city,
        upper(nullif(trim(province_code), '')) as province_code,
        upper(nullif(trim(zip), '')) as postcode,
        upper(nullif(trim(country_code), '')) as country_code,
        coalesce({{ onefold.safe_cast_boolean('accepts_marketing') }}, false) as has_accepted_marketing,
        parsed_created_at as created_at,
        parsed_updated_at as updated_at,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from base_customers

)

select * from renamed
