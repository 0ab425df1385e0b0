{#-
    One row per candidate value of a golden attribute, with its rank. Replaced per
    customer: the pre-hook deletes the affected customers' rows, the model inserts them
    recomputed (docs/profiles.md, "Incremental runs").
-#}
{{ onefold.per_customer_incremental(alias=onefold.mart_alias()) }}

with

candidates as (

    select * from {{ ref('int_customer_attribute_candidates') }}
    where {{ onefold.affected_customers_only('customer_id') }}

),

ranked as (

    select * from {{ ref('int_customer_attributes_ranked') }}
    where {{ onefold.affected_customers_only('customer_id') }}

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
        cast(ranked.value_rank as {{ dbt.type_bigint() }}) as value_rank,
        candidates.observed_at
    from candidates
    inner join ranked
        on
            candidates.customer_id = ranked.customer_id
            and candidates.attribute = ranked.attribute
            and lower(candidates.attribute_value) = ranked.value_key

)

select * from explained
