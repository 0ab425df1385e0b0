-- A table, like every staging model that declares identity records (docs/staging.md):
-- its data tests and the identity and profile models each read it, and a view would
-- parse, flag and screen the raw rows again on every read.
{{ config(materialized='table') }}

with

base_transactions as (

    select * from {{ ref('base_pos__transactions') }}
    where quarantine_reason is null and not is_duplicate and not is_suppressed

),

renamed as (

    select
        trim(transaction_id) as pos_transaction_id,
        nullif(trim(store_id), '') as store_id,
        nullif(trim(loyalty_card_id), '') as loyalty_card_id,
        nullif(trim(phone), '') as phone,
        upper(trim(currency)) as currency,
        parsed_amount as amount,
        parsed_items_count as items_count,
        parsed_transacted_at as transacted_at,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from base_transactions

)

select * from renamed
