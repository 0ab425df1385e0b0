{#- The host project's own notion of a customer, one row per store signup. Onefold's
    `customers` mart sits in the same schema as onefold_customers
    (onefold__mart_alias_prefix), so the two coexist. -#}
select
    signup_id as customer_id,
    first_name,
    last_name,
    store_id,
    signed_up_at
from {{ ref('stg_store__signups') }}
