-- Every record with at least one usable (valid, not blocked) identifier has a customer.
with

usable_records as (

    select distinct
        identifiers.source,
        identifiers.record_key
    from {{ ref('int_identifiers') }} as identifiers
    left join {{ ref('identity_blocked_values') }} as blocked
        on
            identifiers.identifier_type = blocked.identifier_type
            and identifiers.match_key = blocked.match_key
    where blocked.match_key is null

)

select usable_records.*
from usable_records
left join {{ ref('customer_records') }} as customer_records
    on
        usable_records.source = customer_records.source
        and usable_records.record_key = customer_records.record_key
where customer_records.customer_id is null
