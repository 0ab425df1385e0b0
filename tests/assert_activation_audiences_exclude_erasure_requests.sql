{{ config(enabled=var('onefold__privacy_enabled')) }}
-- Fails on any activation row for a customer named by an erasure request.
select audiences.activation_audience_id
from {{ ref('activation_audiences') }} as audiences
inner join {{ ref('int_erasure_request_customers') }} as requests
    on audiences.customer_id = requests.customer_id
