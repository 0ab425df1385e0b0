-- Every record of one fixture person (web, shop and store signups) belongs to one and
-- the same Onefold customer. Returns the people whose records are missing from
-- customer_records or spread over more than one customer.
with

expected as (

    select * from {{ ref('expected_people') }}

),

customer_records as (

    select * from {{ ref('onefold', 'customer_records') }}

),

assigned as (

    select
        expected.person,
        expected.source,
        expected.record_key,
        customer_records.customer_id
    from expected
    left join customer_records
        on
            expected.source = customer_records.source
            and expected.record_key = customer_records.record_key

),

per_person as (

    select
        person,
        count(*) as records_count,
        count(customer_id) as assigned_count,
        count(distinct customer_id) as customers_count
    from assigned
    group by person

)

select * from per_person
where assigned_count < records_count or customers_count <> 1
