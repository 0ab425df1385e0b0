{#-
    One row per erasure request and customer it names: the request's identifier looked
    up in identity_map by match key (customer_id requests name the customer directly).
    Requests whose identifier matches no customer have no row.
-#}

with

requests as (

    select * from {{ ref('stg_privacy__erasure_requests') }}

),

identity_map as (

    select * from {{ ref('identity_map') }}

),

customer_records as (

    select * from {{ ref('customer_records') }}

),

by_identifier as (

    select
        requests.erasure_request_id,
        identity_map.customer_id,
        requests.received_at
    from requests
    inner join identity_map
        on
            requests.identifier_type = identity_map.identifier_type
            and {{ onefold.identifier_match_key(
                'requests.identifier_type',
                'requests.identifier_value',
                "'" ~ var('onefold__default_phone_calling_code') ~ "'") }} = identity_map.match_key

),

by_customer_id as (

    select distinct
        requests.erasure_request_id,
        customer_records.customer_id,
        requests.received_at
    from requests
    inner join customer_records
        on requests.identifier_value = customer_records.customer_id
    where requests.identifier_type = 'customer_id'

),

resolved as (

    select * from by_identifier
    union
    select * from by_customer_id

)

select * from resolved
