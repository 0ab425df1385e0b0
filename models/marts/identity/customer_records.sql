{{ config(alias=onefold.mart_alias()) }}
-- Published once the identity state of the run is saved (selecting +customer_records
-- runs the whole identity graph, incremental state included).
-- depends_on: {{ ref('int_identity_records_loaded') }}
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
