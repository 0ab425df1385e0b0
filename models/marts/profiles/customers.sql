{#- One row per customer: golden attributes (survivorship) and computed traits. -#}
{{ config(alias=onefold.mart_alias()) }}
{%- set attributes = var('onefold__golden_attributes') %}

with

customer_records as (

    select * from {{ ref('customer_records') }}

),

ranked_attributes as (

    select * from {{ ref('int_customer_attributes_ranked') }}

),

traits as (

    select * from {{ ref('int_customer_traits') }}

),

customer_ids as (

    select
        customer_id,
        min(customer_created_at) as customer_created_at,
        count(*) as records_count
    from customer_records
    group by customer_id

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

final as (

    select
        customer_ids.customer_id,
        {%- for attribute in attributes %}
            cast(golden.{{ attribute }} as {{ dbt.type_string() }}) as {{ attribute }},
        {%- endfor %}
        cast(traits.preferred_channel as {{ dbt.type_string() }}) as preferred_channel,
        customer_ids.records_count,
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
        customer_ids.customer_created_at
    from customer_ids
    left join golden
        on customer_ids.customer_id = golden.customer_id
    left join traits
        on customer_ids.customer_id = traits.customer_id

)

select * from final
