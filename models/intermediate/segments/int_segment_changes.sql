{#-
    The membership changes of this run (docs/consent-and-segments.md, "Incremental
    runs"): every segment predicate (onefold__segments) evaluated over the narrow
    `customers` table, compared with the spells still open in
    segment_membership_history. One row per (segment, customer) that entered
    (is_member) or left (not is_member, with the open spell it closes). The pass over
    `customers` is the time-based one: a customer's days-since counts move with "now"
    and the RFM scores rank everyone, so a membership can change for a customer whose
    records did not; only the changes go on to the history, segment_memberships (its
    open spells) and activation_audiences. Without a history yet, every current member
    enters.
-#}
{%- set history = onefold.downstream_model_relation('segment_membership_history') %}

with

customers as (

    select * from {{ ref('customers') }}

),

evaluated as (

    {%- if not var('onefold__segments') %}
        -- No segments declared: no members (and no dependency on the predicates).
        select
            cast(null as {{ dbt.type_string() }}) as segment_name,
            customer_id
        from customers
        where false
    {%- endif %}
    {%- for name, segment in var('onefold__segments').items() %}
        select
            cast('{{ name }}' as {{ dbt.type_string() }}) as segment_name,
            customer_id
        from customers
        where ({{ segment.predicate }})
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

open_spells as (

    {{ onefold.open_membership_spells(history) }}

),

changes as (

    select
        cast(coalesce(evaluated.segment_name, open_spells.segment_name) as {{ dbt.type_string() }}) as segment_name,
        cast(coalesce(evaluated.customer_id, open_spells.customer_id) as {{ dbt.type_string() }}) as customer_id,
        evaluated.customer_id is not null as is_member,
        open_spells.segment_membership_spell_id,
        open_spells.entered_at
    from evaluated
    full outer join open_spells
        on
            evaluated.segment_name = open_spells.segment_name
            and evaluated.customer_id = open_spells.customer_id
    where evaluated.customer_id is null or open_spells.customer_id is null

)

select * from changes
