{#-
    One row per lookalike model and customer outside its segment whose consent allows
    profiling: how much they look like the segment's members, scored in SQL with the
    newest version of each `lookalike__<segment>` model `onefold train --lookalike`
    stored (docs/predictions.md, "Lookalikes"), ranked best first. A model of a
    segment no longer declared in onefold__segments is not scored. Empty before the
    first lookalike is trained.
-#}
{{ config(alias=onefold.mart_alias()) }}
-- depends_on: {{ ref('prediction_models') }}
-- depends_on: {{ ref('int_customer_features_current') }}
-- depends_on: {{ ref('segment_memberships') }}
{%- set declared = var('onefold__segments', {}) or {} %}
{%- set lookalikes = [] %}
{%- for name, model in onefold.newest_prediction_models() | dictsort
    if name.startswith('lookalike__') and model.parameters.segment in declared %}
    {%- do lookalikes.append(model) %}
{%- endfor %}

{%- if lookalikes %}

    with

    features as (

        select * from {{ ref('int_customer_features_current') }}
        where is_profiling_allowed

    ),

    members as (

        select * from {{ ref('segment_memberships') }}

    ),

    scored as (
        {%- for model in lookalikes %}

            select
                {{ onefold.sql_text(model.parameters.segment) }} as segment_name,
                features.customer_id,
                {{ onefold.classifier_probability_sql(model) }} as lookalike_score,
                {{ model.version }} as model_version
            from features
            where not exists (
                select 1 from members
                where
                    members.segment_name = {{ onefold.sql_text(model.parameters.segment) }}
                    and members.customer_id = features.customer_id
            )
            {%- if not loop.last %}

                union all
            {%- endif %}
        {%- endfor %}

    ),

    ranked as (

        select
            segment_name,
            customer_id,
            cast(lookalike_score as {{ onefold.type_double() }}) as lookalike_score,
            cast(row_number() over (
                partition by segment_name order by lookalike_score desc, customer_id
            ) as integer) as lookalike_rank,
            model_version
        from scored

    )

    select * from ranked
{%- else %}

    select
        cast(null as {{ dbt.type_string() }}) as segment_name,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ onefold.type_double() }}) as lookalike_score,
        cast(null as integer) as lookalike_rank,
        cast(null as integer) as model_version
    where false
{%- endif %}
