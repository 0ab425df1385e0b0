-- The project's own `customers` (one row per store signup) and Onefold's
-- (onefold_customers, one row per Onefold customer) are two tables in one schema, and
-- each ref() finds its own. Returns rows that landed in the wrong one.
select customer_id from {{ ref('customers') }}
where customer_id not like 'S-%'

union all

select customer_id from {{ ref('onefold', 'customers') }}
where customer_id not like 'cus\_%' escape '\'
