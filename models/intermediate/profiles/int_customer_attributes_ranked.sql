{#-
    One row per customer, attribute and distinct value (compared case-insensitively),
    ranked by the attribute's survivorship rules (onefold__golden_attributes). Rank 1
    wins; `won_by_rule` is the first rule that separates the winner from the runner-up
    (`only_candidate` when there is none, `tie_break` when only the value order does).
-#}
{%- set attributes = var('onefold__golden_attributes') -%}
{%- set rule_columns = {
    'source_priority': ('best_source_rank', 'asc'),
    'most_recent': ('last_observed_at', 'desc'),
    'most_frequent': ('record_count', 'desc'),
    'first_non_null': ('first_observed_at', 'asc'),
} -%}
{%- for attribute, config in attributes.items() -%}
    {%- for rule in config.rules if rule not in rule_columns -%}
        {{ exceptions.raise_compiler_error(
            "onefold__golden_attributes." ~ attribute ~ ": unknown rule '" ~ rule ~ "'. Use "
            ~ (rule_columns.keys() | sort | join(', ')) ~ ".") }}
    {%- endfor -%}
{%- endfor %}
{#- Replaced per customer: the pre-hook deletes the affected customers' rows, the
    model inserts them recomputed (docs/profiles.md, "Incremental runs"). -#}
{{ onefold.per_customer_incremental() }}

with

candidates as (

    select * from {{ ref('int_customer_attribute_candidates') }}
    where {{ onefold.affected_customers_only('customer_id') }}

),

keyed as (

    select
        *,
        lower(attribute_value) as value_key,
        {{ onefold.source_priority_rank('source') }} as source_rank,
        row_number() over (
            partition by customer_id, attribute, lower(attribute_value)
            order by observed_at desc, attribute_value asc
        ) as spelling_rank
    from candidates

),

values_per_customer as (

    select
        customer_id,
        attribute,
        value_key,
        -- The spelling shown is the most recently observed one.
        max(case when spelling_rank = 1 then attribute_value end) as attribute_value,
        min(source_rank) as best_source_rank,
        max(observed_at) as last_observed_at,
        min(observed_at) as first_observed_at,
        count(*) as record_count
    from keyed
    group by customer_id, attribute, value_key

),

ranked as (

    -- One sort key per (rule position, rule): non-null only for the attributes that
    -- use that rule at that position, so every attribute sorts by its own rules.
    select
        *,
        row_number() over (
            partition by customer_id, attribute
            order by
                {%- for position in range(4) %}
                    {%- for rule, (column, direction) in rule_columns.items() %}
                        {%- set users = [] %}
                        {%- for attribute, config in attributes.items() if config.rules | length > position and config.rules[position] == rule %}
                            {%- do users.append(attribute) %}
                        {%- endfor %}
                        {%- if users %}
                            case when attribute in ('{{ users | join("', '") }}') then {{ column }} end {{ direction }} nulls last,
                        {%- endif %}
                    {%- endfor %}
                {%- endfor %}
                value_key
        ) as value_rank
    from values_per_customer

),

decided as (

    select
        winner.customer_id,
        winner.attribute,
        case
            when runner_up.value_key is null then 'only_candidate'
            {%- for attribute, config in attributes.items() %}
                {%- for rule in config.rules %}
                    {%- set column = rule_columns[rule][0] %}
                    when winner.attribute = '{{ attribute }}' and winner.{{ column }} != runner_up.{{ column }}
                        then '{{ rule }}'
                {%- endfor %}
            {%- endfor %}
            else 'tie_break'
        end as won_by_rule
    from ranked as winner
    left join ranked as runner_up
        on
            winner.customer_id = runner_up.customer_id
            and winner.attribute = runner_up.attribute
            and runner_up.value_rank = 2
    where winner.value_rank = 1

),

final as (

    select
        ranked.customer_id,
        ranked.attribute,
        ranked.value_key,
        ranked.attribute_value,
        ranked.best_source_rank,
        ranked.last_observed_at,
        ranked.first_observed_at,
        ranked.record_count,
        ranked.value_rank,
        ranked.value_rank = 1 as is_winner,
        case when ranked.value_rank = 1 then decided.won_by_rule end as won_by_rule
    from ranked
    inner join decided
        on
            ranked.customer_id = decided.customer_id
            and ranked.attribute = decided.attribute

)

select * from final
