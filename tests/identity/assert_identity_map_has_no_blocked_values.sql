-- A blocked value must never link records, so it can never map to a customer.
select
    identity_map.identifier_type,
    identity_map.match_key,
    identity_map.customer_id
from {{ ref('identity_map') }} as identity_map
inner join {{ ref('identity_blocked_values') }} as blocked
    on
        identity_map.identifier_type = blocked.identifier_type
        and identity_map.match_key = blocked.match_key
