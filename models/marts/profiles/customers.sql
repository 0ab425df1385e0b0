{#-
    One row per customer: golden attributes (survivorship) and computed traits. A table
    rebuilt each run from narrow per-customer inputs that are themselves incremental:
    the scores rank everyone and the day counts move with "now", so this is the cheap
    pass over every customer (docs/profiles.md, "Incremental runs").
-#}
{{ config(alias=onefold.mart_alias()) }}
{%- set attributes = var('onefold__golden_attributes') %}
{%- set now = onefold.reporting_now() %}
{%- set has_orders = onefold.any_source_enabled(['shop', 'pos']) %}
{%- set has_web = onefold.source_enabled('web') %}
{%- set has_email = onefold.source_enabled('email') %}

with

ranked_attributes as (

    select * from {{ ref('int_customer_attributes_ranked') }}

),

customer_traits as (

    select * from {{ ref('int_customer_traits') }}

),

predictions as (

    select * from {{ ref('customer_predictions') }}

),

golden as (

    select
        customer_id,
        {%- for attribute in attributes %}
            max(case when attribute = '{{ attribute }}' then attribute_value end) as {{ attribute }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from ranked_attributes
    where is_winner
    group by customer_id

),

{%- if has_orders %}

    rfm as (

    -- Quintiles over customers with at least one order; 5 is best. Ties are broken by
    -- customer_id so the scores are the same on every run and warehouse.
        select
            customer_id,
            ntile(5) over (order by last_order_at, customer_id) as recency_score,
            ntile(5) over (order by orders_count, customer_id) as frequency_score,
            ntile(5) over (order by lifetime_value, customer_id) as monetary_score
        from customer_traits
        where orders_count is not null

    ),
{%- endif %}

traits as (

    select
        customer_traits.customer_id,
        customer_traits.first_seen_at,
        customer_traits.last_seen_at,
        {%- if has_orders %}
            cast(coalesce(customer_traits.orders_count, 0) as {{ dbt.type_bigint() }}) as orders_count,
            cast(coalesce(customer_traits.lifetime_value, 0) as decimal(18, 2)) as lifetime_value,
            cast(
                case
                    when customer_traits.orders_count > 0
                        then customer_traits.lifetime_value / customer_traits.orders_count
                end as decimal(18, 2)
            ) as average_order_value,
            customer_traits.last_order_at,
        {%- else %}
        cast(null as {{ dbt.type_bigint() }}) as orders_count,
        cast(null as decimal(18, 2)) as lifetime_value,
        cast(null as decimal(18, 2)) as average_order_value,
        cast(null as {{ dbt.type_timestamp() }}) as last_order_at,
        {%- endif %}
        {%- if has_web %}
        -- Abandoned: cart activity with no order after it.
            {%- set no_order_since = "customer_traits.last_order_at is null or customer_traits.last_cart_activity_at > customer_traits.last_order_at" if has_orders else "true" %}
            case
                when ({{ no_order_since }})
                    then customer_traits.last_cart_activity_at
            end as cart_abandoned_at,
        {%- else %}
        cast(null as {{ dbt.type_timestamp() }}) as cart_abandoned_at,
        {%- endif %}
        {%- if has_orders %}
            cast({{ dbt.datediff('customer_traits.last_order_at', now, 'day') }} as integer) as days_since_last_order,
        {%- else %}
        cast(null as integer) as days_since_last_order,
        {%- endif %}
        {%- if has_web %}
            cast(
                case
                    when ({{ no_order_since }})
                        then {{ dbt.datediff('customer_traits.last_cart_activity_at', now, 'day') }}
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
            cast(coalesce(customer_traits.web_sessions_30d_count, 0) as {{ dbt.type_bigint() }}) as web_sessions_30d_count,
        {%- else %}
        cast(null as {{ dbt.type_bigint() }}) as web_sessions_30d_count,
        {%- endif %}
        {%- if has_email %}
            cast(coalesce(customer_traits.email_opens_90d_count, 0) as {{ dbt.type_bigint() }}) as email_opens_90d_count,
            cast(coalesce(customer_traits.email_clicks_90d_count, 0) as {{ dbt.type_bigint() }}) as email_clicks_90d_count,
        {%- else %}
        cast(null as {{ dbt.type_bigint() }}) as email_opens_90d_count,
        cast(null as {{ dbt.type_bigint() }}) as email_clicks_90d_count,
        {%- endif %}
        {%- if has_orders %}
            cast(
                case
                    when customer_traits.orders_count > 0
                        then 1.0 * customer_traits.online_orders_count / customer_traits.orders_count
                end as decimal(5, 4)
            ) as online_order_share,
            cast(
                case
                    when customer_traits.orders_count > 0
                        then 1.0 * customer_traits.store_orders_count / customer_traits.orders_count
                end as decimal(5, 4)
            ) as store_order_share,
            case
                when coalesce(customer_traits.orders_count, 0) = 0 then null
                when customer_traits.online_orders_count >= customer_traits.store_orders_count then 'online'
                else 'store'
            end as preferred_channel
        {%- else %}
        cast(null as decimal(5, 4)) as online_order_share,
        cast(null as decimal(5, 4)) as store_order_share,
        cast(null as {{ dbt.type_string() }}) as preferred_channel
        {%- endif %}
    from
        customer_traits
    {%- if has_orders %}
    left join rfm
        on customer_traits.customer_id = rfm.customer_id
    {%- endif %}
    where customer_traits.is_seen

),

final as (

    select
        customer_traits.customer_id,
        {%- for attribute in attributes %}
            cast(golden.{{ attribute }} as {{ dbt.type_string() }}) as {{ attribute }},
        {%- endfor %}
        cast(traits.preferred_channel as {{ dbt.type_string() }}) as preferred_channel,
        customer_traits.records_count,
        traits.orders_count,
        traits.lifetime_value,
        traits.average_order_value,
        traits.days_since_last_order,
        traits.days_since_cart_abandoned,
        traits.recency_score,
        traits.frequency_score,
        traits.monetary_score,
        traits.web_sessions_30d_count,
        traits.email_opens_90d_count,
        traits.email_clicks_90d_count,
        traits.online_order_share,
        traits.store_order_share,
        traits.orders_count > 0 as has_ordered,
        traits.first_seen_at,
        traits.last_seen_at,
        traits.last_order_at,
        traits.cart_abandoned_at,
        customer_traits.customer_created_at,
        predictions.predicted_clv_365d,
        predictions.p_alive,
        predictions.p_purchase_30d,
        predictions.p_churn_90d,
        predictions.top_products
    from customer_traits
    left join golden
        on customer_traits.customer_id = golden.customer_id
    left join traits
        on customer_traits.customer_id = traits.customer_id
    left join predictions
        on customer_traits.customer_id = predictions.customer_id

)

select * from final
