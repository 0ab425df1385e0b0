{#-
    Fivetran's HubSpot `contact` table in the native crm_contacts shape
    base_crm__contacts reads. Fivetran lands each HubSpot contact property as a column
    `property_<internal name>`, and only properties the portal uses exist: an absent
    one is null. Contacts Fivetran marks deleted keep their row with is_deleted true
    (staging flags them like native soft deletes). docs/loaders.md.
-#}
{%- set contact_relation = onefold.loader_input('onefold__hubspot_contact_relation', 'hubspot_fivetran', 'contact') -%}
{%- set columns = onefold.loader_columns(contact_relation) -%}

with

contact as (

    select * from {{ contact_relation }}

),

renamed as (

    select
        {{ onefold.loader_text(columns, 'id') }} as contact_id,
        {{ onefold.loader_text(columns, 'property_email') }} as email,
        {{ onefold.loader_text_coalesce(columns, ['property_phone', 'property_mobilephone']) }} as phone,
        {{ onefold.loader_text(columns, 'property_firstname') }} as first_name,
        {{ onefold.loader_text(columns, 'property_lastname') }} as last_name,
        {{ onefold.loader_text(columns, 'property_company') }} as company,
        {{ onefold.loader_text(columns, 'property_lifecyclestage') }} as lifecycle_stage,
        {{ onefold.loader_text(columns, 'property_date_of_birth') }} as birth_date,
        {{ onefold.loader_text(columns, 'property_zip') }} as mailing_postal_code,
        {{ onefold.loader_text_coalesce(columns, ['property_hs_country_region_code', 'property_country']) }} as mailing_country,
        {{ onefold.loader_text(columns, 'property_createdate') }} as created_at,
        {{ onefold.loader_text_coalesce(columns, ['property_lastmodifieddate', 'property_hs_lastmodifieddate', '_fivetran_synced']) }} as updated_at,
        case when {{ onefold.loader_flag(columns, '_fivetran_deleted') }} then 'true' else 'false' end as is_deleted,
        {{ onefold.loader_text(columns, 'property_' ~ var('onefold__hubspot_loyalty_card_property')) if var('onefold__hubspot_loyalty_card_property') else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as loyalty_card_id,
        {{ onefold.loader_loaded_at(columns, ['_fivetran_synced']) }} as _loaded_at
    from contact

)

select * from renamed
