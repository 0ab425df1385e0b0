{{ config(alias=onefold.mart_alias()) }}
with

blocked as (

    select * from {{ ref('int_identifiers_blocked') }}

),

final as (

    select
        identifier_type,
        normalized_value,
        match_key,
        block_rule,
        block_reason,
        records_touched
    from blocked

)

select * from final
