-- The blocked values: a view over int_identifier_values, which is incremental.
{{ config(materialized='view') }}
with

identifier_values as (

    select * from {{ ref('int_identifier_values') }}

),

blocked as (

    select
        identifier_type,
        match_key,
        normalized_value,
        block_rule,
        block_reason,
        records_touched
    from identifier_values
    where block_rule is not null

)

select * from blocked
