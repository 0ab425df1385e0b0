{#-
    The one definition of a customer's features as they stood at a cutoff: a select of
    one row per customer and cutoff date, for every customer with an order, a web
    session or an email event before the cutoff. `cutoffs` is a select of `cutoff_date`
    (a date; the cutoff is its midnight, UTC). Every input is read strictly before the
    cutoff (python/tests/test_predictions_e2e.py deletes everything after it and gets
    the same features). With `with_labels`, the row also has what happened in the
    horizon after the cutoff (onefold__predictions.horizon_days), for training and the
    holdout.

    BG/NBD's inputs follow the `lifetimes` package at daily periods: `frequency` is the
    number of days with an order after the first, `recency_days` the days from the
    first to the last, `age_days` (T) from the first to the cutoff, `monetary_value` the
    mean spend of the days after the first (0 without any).
-#}
{% macro customer_features(cutoffs, with_labels=false) %}
    {%- set config = onefold.prediction_config() %}
    {%- set has_web = onefold.source_enabled('web') %}
    {%- set has_email = onefold.source_enabled('email') %}
    {%- set horizon = config.horizon_days %}
    {%- set before_cutoff = "{} < cutoffs.cutoff_date" %}
    {#- noqa: disable=LT02 #}
with

cutoffs as (

    {{ cutoffs }}

),

customer_records as (

    select * from {{ ref('customer_records') }}

),

orders as (

    select * from {{ ref('orders') }}

),

consent as (

    select * from {{ ref('consent_current') }}
    where purpose = '{{ config.purpose }}'

),
{%- if var('onefold__privacy_enabled') %}

erasure_requested as (

    select distinct customer_id from {{ ref('int_erasure_request_customers') }}

),
{%- endif %}
{%- if has_web %}

sessions as (

    select * from {{ ref('web_sessions') }}

),
{%- endif %}
{%- if has_email %}

email_activity as (

    select * from {{ ref('email_activity') }}

),
{%- endif %}

purchase_days as (

    -- A customer's orders per day: BG/NBD counts days with an order.
    select
        customer_orders.customer_id,
        customer_orders.purchase_date,
        count(*) as orders_count,
        sum(customer_orders.net_amount_reporting) as spend,
        min(customer_orders.purchase_date) over (
            partition by customer_orders.customer_id
        ) as first_purchase_date
    from (
        select
            counted.customer_id,
            cast(counted.ordered_at as date) as purchase_date,
            counted.net_amount_reporting
        from ({{ onefold.customer_orders('orders', 'customer_records') }}) as counted
    ) as customer_orders
    group by customer_orders.customer_id, customer_orders.purchase_date

),

order_features as (

    select
        cutoffs.cutoff_date,
        purchase_days.customer_id,
        sum(purchase_days.orders_count) as orders_count,
        sum(purchase_days.spend) as spend_total,
        count(*) - 1 as frequency,
        {{ dbt.datediff('min(purchase_days.purchase_date)', 'max(purchase_days.purchase_date)', 'day') }}
            as recency_days,
        {{ dbt.datediff('min(purchase_days.purchase_date)', 'cutoffs.cutoff_date', 'day') }} as age_days,
        {{ dbt.datediff('max(purchase_days.purchase_date)', 'cutoffs.cutoff_date', 'day') }}
            as days_since_last_order,
        sum(
            case when purchase_days.purchase_date > purchase_days.first_purchase_date then purchase_days.spend end
        ) as repeat_spend,
        sum(
            case
                when purchase_days.purchase_date >= {{ dbt.dateadd('day', -90, 'cutoffs.cutoff_date') }}
                    then purchase_days.orders_count
                else 0
            end
        ) as orders_90d_count,
        sum(
            case
                when purchase_days.purchase_date >= {{ dbt.dateadd('day', -90, 'cutoffs.cutoff_date') }}
                    then purchase_days.spend
                else 0
            end
        ) as spend_90d
    from cutoffs
    inner join purchase_days
        on {{ before_cutoff.format('purchase_days.purchase_date') }}
    group by cutoffs.cutoff_date, purchase_days.customer_id

),
{%- if has_web %}

session_features as (

    select
        cutoffs.cutoff_date,
        customer_records.customer_id,
        count(*) as web_sessions_count,
        sum(
            case when sessions.started_at >= {{ dbt.dateadd('day', -30, 'cutoffs.cutoff_date') }} then 1 else 0 end
        ) as web_sessions_30d_count,
        sum(
            case when sessions.started_at >= {{ dbt.dateadd('day', -90, 'cutoffs.cutoff_date') }} then 1 else 0 end
        ) as web_sessions_90d_count
    from cutoffs
    inner join sessions
        on {{ before_cutoff.format('sessions.started_at') }}
    inner join customer_records
        on
            customer_records.source = 'web_events'
            and sessions.first_event_id = customer_records.record_key
    group by cutoffs.cutoff_date, customer_records.customer_id

),
{%- endif %}
{%- if has_email %}

email_features as (

    select
        cutoffs.cutoff_date,
        customer_records.customer_id,
        count(*) as email_events_count,
        sum(
            case
                when
                    email_activity.event_type = 'open'
                    and email_activity.occurred_at >= {{ dbt.dateadd('day', -90, 'cutoffs.cutoff_date') }}
                    then 1
                else 0
            end
        ) as email_opens_90d_count,
        sum(
            case
                when
                    email_activity.event_type = 'click'
                    and email_activity.occurred_at >= {{ dbt.dateadd('day', -90, 'cutoffs.cutoff_date') }}
                    then 1
                else 0
            end
        ) as email_clicks_90d_count
    from cutoffs
    inner join email_activity
        on {{ before_cutoff.format('email_activity.occurred_at') }}
    inner join customer_records
        on
            email_activity.source = customer_records.source
            and email_activity.record_key = customer_records.record_key
    group by cutoffs.cutoff_date, customer_records.customer_id

),
{%- endif %}

active as (

    select cutoff_date, customer_id from order_features
    {%- if has_web %}
        union
        select cutoff_date, customer_id from session_features
    {%- endif %}
    {%- if has_email %}
        union
        select cutoff_date, customer_id from email_features
    {%- endif %}

),
{%- if with_labels %}

labels as (

    select
        cutoffs.cutoff_date,
        purchase_days.customer_id,
        sum(
            case
                when purchase_days.purchase_date < {{ dbt.dateadd('day', 30, 'cutoffs.cutoff_date') }}
                    then purchase_days.orders_count
                else 0
            end
        ) as orders_next_30d_count,
        sum(
            case
                when purchase_days.purchase_date < {{ dbt.dateadd('day', 90, 'cutoffs.cutoff_date') }}
                    then purchase_days.orders_count
                else 0
            end
        ) as orders_next_90d_count,
        count(*) as purchase_days_next_horizon_count,
        sum(purchase_days.spend) as spend_next_horizon
    from cutoffs
    inner join purchase_days
        on
            purchase_days.purchase_date >= cutoffs.cutoff_date
            and purchase_days.purchase_date < {{ dbt.dateadd('day', horizon, 'cutoffs.cutoff_date') }}
    group by cutoffs.cutoff_date, purchase_days.customer_id

),
{%- endif %}

features as (

    select
        active.customer_id,
        active.cutoff_date,
        coalesce(consent.is_granted, false)
        {%- if var('onefold__privacy_enabled') %}
            and erasure_requested.customer_id is null
        {%- endif %} as is_profiling_allowed,
        cast(coalesce(order_features.orders_count, 0) as {{ dbt.type_bigint() }}) as orders_count,
        cast(coalesce(order_features.spend_total, 0) as {{ onefold.type_double() }}) as spend_total,
        cast(coalesce(order_features.frequency, 0) as {{ dbt.type_bigint() }}) as frequency,
        cast(coalesce(order_features.recency_days, 0) as integer) as recency_days,
        cast(coalesce(order_features.age_days, 0) as integer) as age_days,
        cast(
            case
                when order_features.frequency > 0 then order_features.repeat_spend / order_features.frequency
                else 0
            end
            as {{ onefold.type_double() }}
        ) as monetary_value,
        order_features.customer_id is not null as has_ordered,
        -- Null without an order: models see the days since the cutoff's horizon instead.
        cast(order_features.days_since_last_order as integer) as days_since_last_order,
        cast(coalesce(order_features.orders_90d_count, 0) as {{ dbt.type_bigint() }}) as orders_90d_count,
        cast(coalesce(order_features.spend_90d, 0) as {{ onefold.type_double() }}) as spend_90d,
        {%- if has_web %}
            cast(coalesce(session_features.web_sessions_count, 0) as {{ dbt.type_bigint() }}) as web_sessions_count,
            cast(coalesce(session_features.web_sessions_30d_count, 0) as {{ dbt.type_bigint() }}) as web_sessions_30d_count,
            cast(coalesce(session_features.web_sessions_90d_count, 0) as {{ dbt.type_bigint() }}) as web_sessions_90d_count,
        {%- else %}
        cast(0 as {{ dbt.type_bigint() }}) as web_sessions_count,
        cast(0 as {{ dbt.type_bigint() }}) as web_sessions_30d_count,
        cast(0 as {{ dbt.type_bigint() }}) as web_sessions_90d_count,
        {%- endif %}
        {%- if has_email %}
            cast(coalesce(email_features.email_events_count, 0) as {{ dbt.type_bigint() }}) as email_events_count,
            cast(coalesce(email_features.email_opens_90d_count, 0) as {{ dbt.type_bigint() }}) as email_opens_90d_count,
            cast(coalesce(email_features.email_clicks_90d_count, 0) as {{ dbt.type_bigint() }}) as email_clicks_90d_count
        {%- else %}
        cast(0 as {{ dbt.type_bigint() }}) as email_events_count,
        cast(0 as {{ dbt.type_bigint() }}) as email_opens_90d_count,
        cast(0 as {{ dbt.type_bigint() }}) as email_clicks_90d_count
        {%- endif %}
        {%- if with_labels %},
            cast(coalesce(labels.orders_next_30d_count, 0) as {{ dbt.type_bigint() }}) as orders_next_30d_count,
            cast(coalesce(labels.orders_next_90d_count, 0) as {{ dbt.type_bigint() }}) as orders_next_90d_count,
            cast(coalesce(labels.purchase_days_next_horizon_count, 0) as {{ dbt.type_bigint() }}) as purchase_days_next_horizon_count,
            cast(coalesce(labels.spend_next_horizon, 0) as {{ onefold.type_double() }}) as spend_next_horizon
        {%- endif %}
    from active
    left join consent
        on active.customer_id = consent.customer_id
    {%- if var('onefold__privacy_enabled') %}
        left join erasure_requested
            on active.customer_id = erasure_requested.customer_id
    {%- endif %}
    left join order_features
        on
            active.cutoff_date = order_features.cutoff_date
            and active.customer_id = order_features.customer_id
    {%- if has_web %}
        left join session_features
            on
                active.cutoff_date = session_features.cutoff_date
                and active.customer_id = session_features.customer_id
    {%- endif %}
    {%- if has_email %}
        left join email_features
            on
                active.cutoff_date = email_features.cutoff_date
                and active.customer_id = email_features.customer_id
    {%- endif %}
    {%- if with_labels %}
        left join labels
            on
                active.cutoff_date = labels.cutoff_date
                and active.customer_id = labels.customer_id
    {%- endif %}

)

select * from features
{#- noqa: enable=LT02 #}
{%- endmacro %}
