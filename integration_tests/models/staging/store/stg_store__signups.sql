{#- No suppression screen (onefold.suppression_flag): the signups carry no identifier a
    suppression list could hold; erase deletes a person's signups by record key. -#}
with

signups as (

    select * from {{ var('onefold_integration_tests__store_signups_relation') or source('store', 'store_signups') }}

),

renamed as (

    select
        trim(signup_id) as signup_id,
        trim(store_id) as store_id,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(trim(birth_date), '') as birth_date,
        upper(nullif(trim(postcode), '')) as postcode,
        cast(signed_up_at as {{ dbt.type_timestamp() }}) as signed_up_at
    from signups

)

select * from renamed
