{#-
    One row per segment member and destination they may be activated to, with the
    identifiers that destination matches on (hashed where it expects hashes). Only
    customers whose current consent grants every purpose the segment and the
    destination require, who are not under an erasure request, and who have at least
    one identifier the destination matches on. Replaced per customer: only the
    customers onefold.audience_customers() lists (membership changed, golden
    identifiers or consent recomputed, erasure request) are deleted and inserted again.
-#}
{{ onefold.per_customer_incremental(scope_macro='audience_customers', alias=onefold.mart_alias()) }}
-- depends_on: {{ ref('int_segment_changes') }}

with

memberships as (

    select * from {{ ref('segment_memberships') }}
    where {{ onefold.affected_customers_only('customer_id', scope=onefold.audience_customers()) }}

),

customers as (

    select * from {{ ref('customers') }}

),

consent_current as (

    select * from {{ ref('consent_current') }}

),

erasure_request_customers as (
    {%- if onefold.source_enabled('privacy') %}

        select * from {{ ref('int_erasure_request_customers') }}
    {%- else %}

    -- No erasure-request source: requests arrive through `onefold erase` only, which
    -- erases at once.
    select cast(null as {{ dbt.type_string() }}) as customer_id
    where 1 = 0
    {%- endif %}

),

requirements as (

    {{ onefold.activation_requirement_rows() }}

),

pairs as (

    select distinct
        segment_name,
        destination_name
    from requirements

),

candidates as (

    select
        memberships.customer_id,
        memberships.segment_name,
        pairs.destination_name
    from memberships
    inner join pairs
        on memberships.segment_name = pairs.segment_name

),

lacking_consent as (

    select distinct
        candidates.customer_id,
        candidates.segment_name,
        candidates.destination_name
    from candidates
    inner join requirements
        on
            candidates.segment_name = requirements.segment_name
            and candidates.destination_name = requirements.destination_name
    left join consent_current
        on
            candidates.customer_id = consent_current.customer_id
            and requirements.purpose = consent_current.purpose
    where
        requirements.purpose is not null
        and not coalesce(consent_current.is_granted, false)

),

eligible as (

    select candidates.*
    from candidates
    left join lacking_consent
        on
            candidates.customer_id = lacking_consent.customer_id
            and candidates.segment_name = lacking_consent.segment_name
            and candidates.destination_name = lacking_consent.destination_name
    left join erasure_request_customers
        on candidates.customer_id = erasure_request_customers.customer_id
    where
        lacking_consent.customer_id is null
        and erasure_request_customers.customer_id is null

),

identified as (

    select
        cast(
            eligible.segment_name || ':' || eligible.destination_name || ':' || eligible.customer_id
            as {{ dbt.type_string() }}
        ) as activation_audience_id,
        eligible.customer_id,
        eligible.segment_name,
        eligible.destination_name,
        {%- for identifier in ['email', 'phone'] %}
            cast(
                {{ onefold.destination_identifier('eligible.destination_name', 'customers.' ~ identifier, identifier, 'plain') }}
                as {{ dbt.type_string() }}
            ) as {{ identifier }},
            cast(
                {{ onefold.destination_identifier('eligible.destination_name', 'customers.' ~ identifier, identifier, 'sha256') }}
                as {{ dbt.type_string() }}
            ) as {{ identifier }}_sha256{% if not loop.last %},{% endif %}
        {%- endfor %}
    from eligible
    inner join customers
        on eligible.customer_id = customers.customer_id

),

final as (

    select * from identified
    where coalesce(email, email_sha256, phone, phone_sha256) is not null

)

select * from final
