-- A table, like every staging model that declares identity records (docs/staging.md):
-- its data tests and the identity and profile models each read it, and a view would
-- parse, flag and screen the raw rows again on every read.
{{ config(materialized='table') }}

with

base_contacts as (

    select * from {{ ref('base_crm__contacts') }}
    where quarantine_reason is null and not is_duplicate and not is_suppressed

),

renamed as (

    select
        trim(contact_id) as crm_contact_id,
        nullif(trim(email), '') as email,
        nullif(trim(phone), '') as phone,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(trim(company), '') as company_name,
        nullif(trim(loyalty_card_id), '') as loyalty_card_id,
        lower(nullif(trim(lifecycle_stage), '')) as lifecycle_stage,
        upper(nullif(trim(mailing_postal_code), '')) as postcode,
        upper(nullif(trim(mailing_country), '')) as country_code,
        coalesce({{ onefold.safe_cast_boolean('is_deleted') }}, false) as is_deleted,
        parsed_birth_date as birth_date,
        parsed_created_at as created_at,
        parsed_updated_at as updated_at,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from base_contacts

)

select * from renamed
