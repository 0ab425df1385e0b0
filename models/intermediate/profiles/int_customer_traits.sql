{#-
    One row per customer with every computed trait. Definitions are in the README
    ("Traits"); "now" is onefold__now (default: today), money is in
    onefold__reporting_currency.
-#}
{%- set now = onefold.reporting_now() %}
{#- Traits of a disabled source are null (unknown), not zero; segments that need them
    are refused by the segment check (macros/segments/segment_config.sql). -#}
{%- set has_orders = onefold.any_source_enabled(['shop', 'pos']) %}
{%- set has_web = onefold.source_enabled('web') %}
{%- set has_email = onefold.source_enabled('email') %}

with

customer_records as (

    select * from {{ ref('customer_records') }}

),

identifiers as (

    select * from {{ ref('int_identifiers') }}

),

{%- if has_orders %}

    orders as (

        select * from {{ ref('orders') }}

    ),
{%- endif %}
{%- if has_web %}

    sessions as (

        select * from {{ ref('web_sessions') }}

    ),

    web_activity as (

        select * from {{ ref('web_activity') }}

    ),
{%- endif %}
{%- if has_email %}

    email_activity as (

        select * from {{ ref('email_activity') }}

    ),
{%- endif %}

record_times as (

    select
        source,
        record_key,
        min(observed_at) as observed_at
    from identifiers
    group by source, record_key

),

seen as (

    select
        customer_records.customer_id,
        min(record_times.observed_at) as first_seen_at,
        max(record_times.observed_at) as last_seen_at
    from customer_records
    inner join record_times
        on
            customer_records.source = record_times.source
            and customer_records.record_key = record_times.record_key
    group by customer_records.customer_id

),

{%- if has_orders %}

    customer_orders as (

        select
            customer_records.customer_id,
            orders.*
        from orders
        inner join customer_records
            on
                orders.source = customer_records.source
                and orders.record_key = customer_records.record_key
        where not orders.is_cancelled

    ),

    order_traits as (

        select
            customer_id,
            count(*) as orders_count,
            sum(net_amount_reporting) as lifetime_value,
            max(ordered_at) as last_order_at,
            sum(case when channel = 'online' then 1 else 0 end) as online_orders_count,
            sum(case when channel = 'store' then 1 else 0 end) as store_orders_count
        from customer_orders
        group by customer_id

    ),

    rfm as (

    -- Quintiles over customers with at least one order; 5 is best. Ties are broken by
    -- customer_id so the scores are the same on every run and warehouse.
        select
            customer_id,
            ntile(5) over (order by last_order_at, customer_id) as recency_score,
            ntile(5) over (order by orders_count, customer_id) as frequency_score,
            ntile(5) over (order by lifetime_value, customer_id) as monetary_score
        from order_traits

    ),
{%- endif %}
{%- if has_web %}

    cart_traits as (

        select
            customer_records.customer_id,
            max(web_activity.occurred_at) as last_cart_activity_at
        from web_activity
        inner join customer_records
            on
                web_activity.source = customer_records.source
                and web_activity.record_key = customer_records.record_key
        where web_activity.event_name in ({{ onefold.sql_text_list(var('onefold__cart_event_names')) }})
        group by customer_records.customer_id

    ),

    session_traits as (

        select
            customer_records.customer_id,
            count(*) as web_sessions_30d_count
        from sessions
        inner join customer_records
            on
                customer_records.source = 'web_events'
                and sessions.first_event_id = customer_records.record_key
        where
            sessions.started_at >= {{ dbt.dateadd('day', -30, now) }}
            and sessions.started_at < {{ dbt.dateadd('day', 1, now) }}
        group by customer_records.customer_id

    ),
{%- endif %}
{%- if has_email %}

    email_traits as (

        select
            customer_records.customer_id,
            sum(case when email_activity.event_type = 'open' then 1 else 0 end) as email_opens_90d_count,
            sum(case when email_activity.event_type = 'click' then 1 else 0 end) as email_clicks_90d_count
        from email_activity
        inner join customer_records
            on
                email_activity.source = customer_records.source
                and email_activity.record_key = customer_records.record_key
        where
            email_activity.occurred_at >= {{ dbt.dateadd('day', -90, now) }}
            and email_activity.occurred_at < {{ dbt.dateadd('day', 1, now) }}
        group by customer_records.customer_id

    ),
{%- endif %}

traits as (

    select
        seen.customer_id,
        seen.first_seen_at,
        seen.last_seen_at,
        {%- if has_orders %}
            cast(coalesce(order_traits.orders_count, 0) as {{ dbt.type_bigint() }}) as orders_count,
            cast(coalesce(order_traits.lifetime_value, 0) as decimal(18, 2)) as lifetime_value,
            cast(
                case
                    when order_traits.orders_count > 0
                        then order_traits.lifetime_value / order_traits.orders_count
                end as decimal(18, 2)
            ) as average_order_value,
            order_traits.last_order_at,
        {%- else %}
        cast(null as {{ dbt.type_bigint() }}) as orders_count,
        cast(null as decimal(18, 2)) as lifetime_value,
        cast(null as decimal(18, 2)) as average_order_value,
        cast(null as {{ dbt.type_timestamp() }}) as last_order_at,
        {%- endif %}
        {%- if has_web %}
        -- Abandoned: cart activity with no order after it.
            {%- set no_order_since = "order_traits.last_order_at is null or cart_traits.last_cart_activity_at > order_traits.last_order_at" if has_orders else "true" %}
            case
                when ({{ no_order_since }})
                    then cart_traits.last_cart_activity_at
            end as cart_abandoned_at,
        {%- else %}
        cast(null as {{ dbt.type_timestamp() }}) as cart_abandoned_at,
        {%- endif %}
        {%- if has_orders %}
            cast({{ dbt.datediff('order_traits.last_order_at', now, 'day') }} as integer) as days_since_last_order,
        {%- else %}
        cast(null as integer) as days_since_last_order,
        {%- endif %}
        {%- if has_web %}
            cast(
                case
                    when ({{ no_order_since }})
                        then {{ dbt.datediff('cart_traits.last_cart_activity_at', now, 'day') }}
                end as integer
            ) as days_since_cart_abandoned,
        {%- else %}
        cast(null as integer) as days_since_cart_abandoned,
        {%- endif %}
        {%- if has_orders %}
            cast(rfm.recency_score as integer) as recency_score,
            cast(rfm.frequency_score as integer) as frequency_score,
            cast(rfm.monetary_score as integer) as monetary_score,
        {%- else %}
        cast(null as integer) as recency_score,
        cast(null as integer) as frequency_score,
        cast(null as integer) as monetary_score,
        {%- endif %}
        {%- if has_web %}
            cast(coalesce(session_traits.web_sessions_30d_count, 0) as {{ dbt.type_bigint() }}) as web_sessions_30d_count,
        {%- else %}
        cast(null as {{ dbt.type_bigint() }}) as web_sessions_30d_count,
        {%- endif %}
        {%- if has_email %}
            cast(coalesce(email_traits.email_opens_90d_count, 0) as {{ dbt.type_bigint() }}) as email_opens_90d_count,
            cast(coalesce(email_traits.email_clicks_90d_count, 0) as {{ dbt.type_bigint() }}) as email_clicks_90d_count,
        {%- else %}
        cast(null as {{ dbt.type_bigint() }}) as email_opens_90d_count,
        cast(null as {{ dbt.type_bigint() }}) as email_clicks_90d_count,
        {%- endif %}
        {%- if has_orders %}
            cast(
                case
                    when order_traits.orders_count > 0
                        then 1.0 * order_traits.online_orders_count / order_traits.orders_count
                end as decimal(5, 4)
            ) as online_order_share,
            cast(
                case
                    when order_traits.orders_count > 0
                        then 1.0 * order_traits.store_orders_count / order_traits.orders_count
                end as decimal(5, 4)
            ) as store_order_share,
            case
                when coalesce(order_traits.orders_count, 0) = 0 then null
                when order_traits.online_orders_count >= order_traits.store_orders_count then 'online'
                else 'store'
            end as preferred_channel
        {%- else %}
        cast(null as decimal(5, 4)) as online_order_share,
        cast(null as decimal(5, 4)) as store_order_share,
        cast(null as {{ dbt.type_string() }}) as preferred_channel
        {%- endif %}
    from
        seen
    {%- if has_orders %}
    left join order_traits
        on seen.customer_id = order_traits.customer_id
    left join rfm
        on seen.customer_id = rfm.customer_id
    {%- endif %}
    {%- if has_web %}
        left join session_traits
            on seen.customer_id = session_traits.customer_id
        left join cart_traits
            on seen.customer_id = cart_traits.customer_id
    {%- endif %}
    {%- if has_email %}
        left join email_traits
            on seen.customer_id = email_traits.customer_id
    {%- endif %}

)

select * from traits
