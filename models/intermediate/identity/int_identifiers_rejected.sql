-- A view: only data tests read it, and its input is incremental.
{{ config(materialized='view') }}
with

rejected as (

    select
        source,
        record_key,
        identifier_type,
        raw_value,
        rejection_reason,
        observed_at
    from {{ ref('int_identifiers_normalized') }}
    where rejection_reason is not null

)

select * from rejected
