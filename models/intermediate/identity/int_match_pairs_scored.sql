{#-
    Every blocked pair scored (docs/identity.md, "Probabilistic matching"): each
    field's comparison level and its match weight, the prior weight, the pair's match
    weight (their sum) and match probability 2^w / (1 + 2^w), under the parameter set
    this run uses: var onefold__match_training_id, or the newest set trained for the
    current declaration. An exact match on a term-frequency field weighs
    log2(m / frequency of the value among the records) instead of log2(m / u), so a
    shared rare surname says more than a shared common one. `onefold explain` shows
    these columns as the waterfall of a probabilistic link.
-#}
{%- set matching = onefold.match_config() %}
{%- set fields = matching.fields.values() | list %}
{%- set training_id = var('onefold__match_training_id') %}
{%- set float = onefold.type_double() %}

with

pairs as (

    select * from {{ ref('int_match_pairs') }}

),

records as (

    select * from {{ ref('int_match_records') }}

),

stored_parameters as (

    select * from {{ ref('identity_match_parameters') }}

),

chosen as (

    select training_id
    from stored_parameters
    {%- if training_id %}
        where training_id = '{{ training_id }}'
    {%- else %}
        where config_fingerprint = '{{ onefold.match_config_fingerprint() }}'
    {%- endif %}
    group by training_id
    order by max(trained_at) desc
    limit 1

),

parameters as (

    select
        chosen.training_id,
        {%- for field in fields %}
            {%- for level in range(0, field.levels | length + 1) %}
                max(case
                    when stored_parameters.field_name = '{{ field.name }}' and stored_parameters.level = {{ level }}
                        then stored_parameters.match_weight
                end) as {{ field.name }}_weight_{{ level }},
                max(case
                    when stored_parameters.field_name = '{{ field.name }}' and stored_parameters.level = {{ level }}
                        then stored_parameters.m_probability
                end) as {{ field.name }}_m_{{ level }},
            {%- endfor %}
        {%- endfor %}
        max(stored_parameters.prior_match_probability) as prior_match_probability
    from stored_parameters
    inner join chosen
        on stored_parameters.training_id = chosen.training_id
    group by chosen.training_id

),

frequencies as (

    -- How common each value of a term-frequency field is among the records.
    {%- for field in fields if field.term_frequency %}
        select
            '{{ field.name }}' as field_name,
            {{ field.name }} as field_value,
            cast(count(*) as {{ float }}) / sum(count(*)) over () as frequency,
            cast(1 as {{ float }}) / sum(count(*)) over () as lowest_frequency
        from records
        where {{ field.name }} is not null
        group by {{ field.name }}

        union all
    {%- endfor %}

    -- Keeps the union well-formed; contributes no rows.
    select
        cast(null as {{ dbt.type_string() }}) as field_name,
        cast(null as {{ dbt.type_string() }}) as field_value,
        cast(null as {{ float }}) as frequency,
        cast(null as {{ float }}) as lowest_frequency
    where 1 = 0

),

weighed as (

    select
        pairs.left_node_id,
        pairs.right_node_id,
        pairs.blocking_rule,
        parameters.training_id,
        ln(parameters.prior_match_probability / (1 - parameters.prior_match_probability)) / ln(2) as prior_weight,
        {%- for field in fields %}
            pairs.{{ field.name }}_level,
            coalesce(case pairs.{{ field.name }}_level
                {%- for level in field.levels %}
                    {%- if level.kind == 'exact' and field.term_frequency %}
                        when {{ loop.index }}
                            then ln(
                                parameters.{{ field.name }}_m_{{ loop.index }}
                                / greatest({{ field.name }}_frequencies.frequency, {{ field.name }}_frequencies.lowest_frequency)
                            ) / ln(2)
                    {%- else %}
                        when {{ loop.index }} then parameters.{{ field.name }}_weight_{{ loop.index }}
                    {%- endif %}
                {%- endfor %}
                when 0 then parameters.{{ field.name }}_weight_0
            end, 0) as {{ field.name }}_weight{% if not loop.last %},{% endif %}
        {%- endfor %}
    from pairs
    cross join parameters
    {%- if fields | selectattr('term_frequency') | list %}
        inner join records as left_records
            on pairs.left_node_id = left_records.record_node_id
    {%- endif %}
    {%- for field in fields if field.term_frequency %}
        left join frequencies as {{ field.name }}_frequencies
            on
                {{ field.name }}_frequencies.field_name = '{{ field.name }}'
                and left_records.{{ field.name }} = {{ field.name }}_frequencies.field_value
    {%- endfor %}

),

scored as (

    select
        *,
        prior_weight
        {%- for field in fields %} + {{ field.name }}_weight{% endfor %} as match_weight
    from weighed

)

select
    *,
    1 / (1 + power(cast(2 as {{ float }}), -greatest(least(match_weight, 1000), -1000))) as match_probability
from scored
