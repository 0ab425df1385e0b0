{{ config(alias=onefold.mart_alias()) }}
with

assigned as (

    select * from {{ ref('int_customer_ids_assigned') }}

),

final as (

    select
        customer_id,
        source,
        record_key,
        customer_created_at
    from assigned

)

select * from final
