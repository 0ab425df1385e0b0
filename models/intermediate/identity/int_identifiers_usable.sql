-- The identifiers that may link records and feed golden attributes: valid, not blocked.
-- A view: int_identifiers and int_identifier_values are incremental.
{{ config(materialized='view') }}
with

identifiers as (

    select * from {{ ref('int_identifiers') }}

),

blocked as (

    select * from {{ ref('int_identifiers_blocked') }}

),

usable as (

    select identifiers.*
    from identifiers
    left join blocked
        on
            identifiers.identifier_type = blocked.identifier_type
            and identifiers.match_key = blocked.match_key
    where blocked.match_key is null

)

select * from usable
