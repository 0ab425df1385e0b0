-- Fails on any activation row whose customer lacks a current grant for a purpose the
-- segment or the destination requires: nothing leaves without consent.
with

audiences as (

    select * from {{ ref('activation_audiences') }}

),

consent_current as (

    select * from {{ ref('consent_current') }}

),

requirements as (

    {{ onefold.activation_requirement_rows() }}

)

select
    audiences.activation_audience_id,
    requirements.purpose
from audiences
left join requirements
    on
        audiences.segment_name = requirements.segment_name
        and audiences.destination_name = requirements.destination_name
left join consent_current
    on
        audiences.customer_id = consent_current.customer_id
        and requirements.purpose = consent_current.purpose
where
    requirements.segment_name is null
    or (requirements.purpose is not null and not coalesce(consent_current.is_granted, false))
