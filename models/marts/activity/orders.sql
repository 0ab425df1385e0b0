{#-
    One row per order, online (shop) or in store (POS), with money net of refunds in
    the order's currency and in onefold__reporting_currency. Incremental: rows loaded
    within the lookback, and any order whose (key, load time) is not in the table yet
    however late it was loaded (onefold.unprocessed_rows), so late orders and later
    status changes (refunds, cancellations) replace the earlier version of the order.
-#}
{{ config(
    alias=onefold.mart_alias(),
    materialized=onefold.keyed_incremental(),
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

{#- Built when the shop or the POS source is enabled, from the ones that are. -#}
{%- set has_shop = onefold.source_enabled('shop') %}
{%- set has_pos = onefold.source_enabled('pos') %}

with
{% if has_shop %}
    shop_orders as (

        {{ onefold.unprocessed_rows(ref('stg_shop__orders'), 'order_id', 'shop_orders') }}

    ),
{% endif %}
{%- if has_pos %}
    pos_transactions as (

        {{ onefold.unprocessed_rows(ref('stg_pos__transactions'), 'pos_transaction_id', 'pos_transactions') }}

    ),
{% endif %}

rates as (

    select * from {{ ref('currency_rates') }}

),

unioned as (
    {%- if has_shop %}

        select
            order_id,
            'shop_orders' as source,
            order_id as record_key,
            case when source_name = 'pos' then 'store' else 'online' end as channel,
            currency,
            financial_status,
            total_price as gross_amount,
            total_refunded as refunded_amount,
            is_cancelled or financial_status = 'voided' as is_cancelled,
            created_at as ordered_at,
            loaded_at
        from shop_orders
    {%- endif %}
    {%- if has_shop and has_pos %}

        union all
    {%- endif %}
    {%- if has_pos %}

        select
            'pos-' || pos_transaction_id as order_id,
            'pos_transactions' as source,
            pos_transaction_id as record_key,
            'store' as channel,
            currency,
            'paid' as financial_status,
            amount as gross_amount,
            cast(0 as {{ dbt.type_numeric() }}) as refunded_amount,
            false as is_cancelled,
            transacted_at as ordered_at,
            loaded_at
        from pos_transactions
    {%- endif %}

),

converted as (

    select
        unioned.order_id,
        unioned.source,
        unioned.record_key,
        unioned.channel,
        unioned.currency,
        unioned.financial_status,
        cast(unioned.gross_amount as decimal(18, 2)) as gross_amount,
        cast(unioned.refunded_amount as decimal(18, 2)) as refunded_amount,
        cast(
            case when unioned.is_cancelled then 0 else unioned.gross_amount - unioned.refunded_amount end
            as decimal(18, 2)
        ) as net_amount,
        cast(
            case when unioned.is_cancelled then 0 else unioned.gross_amount - unioned.refunded_amount end
            * order_rate.usd_per_unit / reporting_rate.usd_per_unit
            as decimal(18, 2)
        ) as net_amount_reporting,
        unioned.is_cancelled,
        unioned.ordered_at,
        unioned.loaded_at
    from unioned
    inner join rates as order_rate
        on unioned.currency = order_rate.currency
    inner join rates as reporting_rate
        on reporting_rate.currency = '{{ var("onefold__reporting_currency") }}'

)

select * from converted
