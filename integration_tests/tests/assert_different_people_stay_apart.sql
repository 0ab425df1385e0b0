-- No customer holds records of two different fixture people: a namesake in another
-- postcode, people who share nothing and anonymous visitors each stay their own
-- customer. Returns the customers that merged people.
with

expected as (

    select * from {{ ref('expected_people') }}

),

customer_records as (

    select * from {{ ref('onefold', 'customer_records') }}

),

merged as (

    select
        customer_records.customer_id,
        count(distinct expected.person) as people_count
    from expected
    inner join customer_records
        on
            expected.source = customer_records.source
            and expected.record_key = customer_records.record_key
    group by customer_records.customer_id

)

select * from merged
where people_count > 1
