-- No customer may hold more distinct identifier values than onefold__max_cluster_size.
select
    customer_id,
    count(*) as identifier_values
from {{ ref('identity_map') }}
group by customer_id
having count(*) > {{ var('onefold__max_cluster_size') }}
