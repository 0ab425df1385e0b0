{{ config(alias=onefold.mart_alias()) }}
with

candidates as (

    select * from {{ ref('int_customer_attribute_candidates') }}

),

ranked as (

    select * from {{ ref('int_customer_attributes_ranked') }}

),

explained as (

    select
        candidates.customer_id,
        candidates.attribute,
        candidates.attribute_value,
        candidates.source,
        candidates.record_key,
        ranked.is_winner,
        ranked.won_by_rule,
        ranked.value_rank,
        candidates.observed_at
    from candidates
    inner join ranked
        on
            candidates.customer_id = ranked.customer_id
            and candidates.attribute = ranked.attribute
            and lower(candidates.attribute_value) = ranked.value_key

)

select * from explained
