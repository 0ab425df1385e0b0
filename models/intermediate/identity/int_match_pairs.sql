{#-
    The record pairs probabilistic matching weighs (docs/identity.md, "Probabilistic
    matching"): every pair of int_match_records that agrees on all parts of at least one
    blocking rule, once, with the comparison level of each field (1 = the field's first
    declared level, 0 = none of them, null = a side is missing), the first rule that
    paired it, and every rule that did (blocking_rules_mask: bit k-1 for rule k). A
    blocking key held by more than max_block_records records pairs none of
    them. Rebuilt whole every run.
-#}
-- depends_on: {{ ref('name_aliases') }}
{%- set matching = onefold.match_config() %}
{%- set fields = matching.fields.values() | list %}

with

records as (

    select * from {{ ref('int_match_records') }}

),

block_keys as (

    {%- for rule in matching.blocking_rules %}

        select
            {{ loop.index }} as blocking_rule,
            {{ onefold.match_block_key(rule, 'records') }} as block_key,
            records.record_node_id
        from records

        union all
    {%- endfor %}

    -- Keeps the union well-formed; contributes no rows.
    select
        cast(null as {{ dbt.type_int() }}) as blocking_rule,
        cast(null as {{ dbt.type_string() }}) as block_key,
        cast(null as {{ dbt.type_bigint() }}) as record_node_id
    where 1 = 0

),

blocks as (

    select
        blocking_rule,
        block_key
    from block_keys
    where block_key is not null
    group by blocking_rule, block_key
    having count(*) between 2 and {{ matching.max_block_records }}

),

blocked as (

    select block_keys.*
    from block_keys
    inner join blocks
        on
            block_keys.blocking_rule = blocks.blocking_rule
            and block_keys.block_key = blocks.block_key

),

pairs as (

    select
        left_blocked.record_node_id as left_node_id,
        right_blocked.record_node_id as right_node_id,
        min(left_blocked.blocking_rule) as blocking_rule,
        {%- for rule in matching.blocking_rules %}
            max(case when left_blocked.blocking_rule = {{ loop.index }} then {{ 2 ** loop.index0 }} else 0 end)
            {%- if not loop.last %} +{% endif %}
        {%- endfor %}
        {%- if not matching.blocking_rules %}0{% endif %} as blocking_rules_mask
    from blocked as left_blocked
    inner join blocked as right_blocked
        on
            left_blocked.blocking_rule = right_blocked.blocking_rule
            and left_blocked.block_key = right_blocked.block_key
            and left_blocked.record_node_id < right_blocked.record_node_id
    group by left_blocked.record_node_id, right_blocked.record_node_id

),

compared as (

    select
        pairs.left_node_id,
        pairs.right_node_id,
        {%- for field in fields %}
            {%- if matching.enabled %}
                {{ onefold.match_level(field, 'left_records.' ~ field.name, 'right_records.' ~ field.name) }}
                    as {{ field.name }}_level,
            {%- else %}
                -- Disabled: no pairs, and no comparison functions the warehouse may lack.
                cast(null as {{ dbt.type_int() }}) as {{ field.name }}_level,
            {%- endif %}
        {%- endfor %}
        pairs.blocking_rule,
        pairs.blocking_rules_mask
    from pairs
    inner join records as left_records
        on pairs.left_node_id = left_records.record_node_id
    inner join records as right_records
        on pairs.right_node_id = right_records.record_node_id

)

select * from compared
