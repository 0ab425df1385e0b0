{#- The orders that count for a customer: `orders` rows joined to the customer of their
    record, cancelled and voided ones left out. The one rule for traits and prediction
    features; `orders` and `customer_records` name relations or CTEs. -#}
{% macro customer_orders(orders, customer_records) -%}
    select
        {{ customer_records }}.customer_id,
        {{ orders }}.*
    from {{ orders }}
    inner join {{ customer_records }}
        on
            {{ orders }}.source = {{ customer_records }}.source
            and {{ orders }}.record_key = {{ customer_records }}.record_key
    where not {{ orders }}.is_cancelled
{%- endmacro %}
