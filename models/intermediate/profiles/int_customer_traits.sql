{#-
    One row per customer: the per-customer aggregates the traits are computed from
    (the customers mart adds the scores ranked over everyone and the day counts against
    "now"). Definitions are in the README ("Traits"); "now" is onefold__now (default:
    today), money is in onefold__reporting_currency. Replaced per customer: the
    pre-hook deletes the affected customers' rows, the model inserts them recomputed
    (docs/profiles.md, "Incremental runs"); the 30- and 90-day counts move with "now",
    and int_customers_affected lists the customers whose counts the move can change.
-#}
{{ onefold.per_customer_incremental() }}
{%- set now = onefold.reporting_now() %}
{#- Traits of a disabled source are null (unknown), not zero; segments that need them
    are refused by the segment check (macros/segments/segment_config.sql). -#}
{%- set has_orders = onefold.any_source_enabled(['shop', 'pos']) %}
{%- set has_web = onefold.source_enabled('web') %}
{%- set has_email = onefold.source_enabled('email') %}

with

customer_records as (

    select * from {{ ref('customer_records') }}
    where {{ onefold.affected_customers_only('customer_id') }}

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

customer_ids as (

    select
        customer_id,
        min(customer_created_at) as customer_created_at,
        count(*) as records_count
    from customer_records
    group by customer_id

),

record_times as (

    select
        identifiers.source,
        identifiers.record_key,
        min(identifiers.observed_at) as observed_at
    from identifiers
    inner join customer_records
        on
            identifiers.source = customer_records.source
            and identifiers.record_key = customer_records.record_key
    group by identifiers.source, identifiers.record_key

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

        {{ onefold.customer_orders('orders', 'customer_records') }}

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

    -- Columns are null for a customer with no identifier observation (is_seen false),
    -- as the customers mart had them when it joined on observed customers only.
    select
        customer_ids.customer_id,
        customer_ids.records_count,
        customer_ids.customer_created_at,
        seen.customer_id is not null as is_seen,
        seen.first_seen_at,
        seen.last_seen_at,
        {%- if has_orders %}
            order_traits.orders_count,
            order_traits.lifetime_value,
            order_traits.last_order_at,
            order_traits.online_orders_count,
            order_traits.store_orders_count,
        {%- else %}
        cast(null as {{ dbt.type_bigint() }}) as orders_count,
        cast(null as decimal(18, 2)) as lifetime_value,
        cast(null as {{ dbt.type_timestamp() }}) as last_order_at,
        cast(null as {{ dbt.type_bigint() }}) as online_orders_count,
        cast(null as {{ dbt.type_bigint() }}) as store_orders_count,
        {%- endif %}
        {%- if has_web %}
            cart_traits.last_cart_activity_at,
            session_traits.web_sessions_30d_count,
        {%- else %}
        cast(null as {{ dbt.type_timestamp() }}) as last_cart_activity_at,
        cast(null as {{ dbt.type_bigint() }}) as web_sessions_30d_count,
        {%- endif %}
        {%- if has_email %}
            email_traits.email_opens_90d_count,
            email_traits.email_clicks_90d_count
        {%- else %}
        cast(null as {{ dbt.type_bigint() }}) as email_opens_90d_count,
        cast(null as {{ dbt.type_bigint() }}) as email_clicks_90d_count
        {%- endif %}
    from
        customer_ids
    left join seen
        on customer_ids.customer_id = seen.customer_id
    {%- if has_orders %}
        left join order_traits
            on customer_ids.customer_id = order_traits.customer_id
    {%- endif %}
    {%- if has_web %}
        left join session_traits
            on customer_ids.customer_id = session_traits.customer_id
        left join cart_traits
            on customer_ids.customer_id = cart_traits.customer_id
    {%- endif %}
    {%- if has_email %}
        left join email_traits
            on customer_ids.customer_id = email_traits.customer_id
    {%- endif %}

)

select * from traits
