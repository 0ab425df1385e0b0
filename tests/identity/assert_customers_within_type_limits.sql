-- No customer holds more values of a type than its max_per_customer allows.
{%- set limited = [] -%}
{%- for type_name, type_config in var('onefold__identifier_types').items() if type_config.get('max_per_customer') -%}
    {%- do limited.append((type_name, type_config.max_per_customer)) -%}
{%- endfor %}

select
    customer_id,
    identifier_type,
    count(*) as distinct_values
from {{ ref('identity_map') }}
group by customer_id, identifier_type
having
    {%- for type_name, limit in limited %}
        (identifier_type = '{{ type_name }}' and count(*) > {{ limit }}){% if not loop.last %} or{% endif %}
    {%- else %}
    1 = 0
{%- endfor %}
