{#-
    Up to `suggestions` products per customer whose consent allows profiling, ranked,
    scored in SQL with the newest top_products model in prediction_models
    (docs/predictions.md, "Product suggestions"). A product's score is the sum of its
    similarities (whole millionths, so the sum is exact) to the products the customer
    has bought; where fewer products score, the most popular ones they have not bought
    fill the list. Ties go to the more popular product, then the smaller SKU, as in
    onefold.predictions.suggestions. Empty before the first `onefold train`.
-#}
{{ config(alias=onefold.mart_alias()) }}
{%- set has_lines = var('onefold__shop_enabled') and var('onefold__shop_order_lines_enabled') %}
-- depends_on: {{ ref('prediction_models') }}
-- depends_on: {{ ref('int_customer_features_current') }}
{%- if has_lines %}
-- depends_on: {{ ref('int_customer_order_lines') }}
{%- endif %}
{%- set model = onefold.newest_prediction_models().get('top_products') %}
{%- set text = dbt.type_string() %}

{%- if model %}
    {%- set p = model.parameters %}

    with

    features as (

        select customer_id from {{ ref('int_customer_features_current') }}
        where is_profiling_allowed

    ),

    bought as (

        {%- if has_lines %}
            select distinct
                lines.customer_id,
                lines.sku
            from {{ ref('int_customer_order_lines') }} as lines
            inner join features
                on lines.customer_id = features.customer_id
        {%- else %}
            select
                cast(null as {{ dbt.type_string() }}) as customer_id,
                cast(null as {{ dbt.type_string() }}) as sku
            where false
        {%- endif %}

    ),

    neighbours as (

        {{ onefold.literal_rows([['sku', text], ['candidate', text], ['similarity', dbt.type_bigint()]], p.neighbours) }}

    ),

    popular as (

        {{ onefold.literal_rows([['sku', text], ['buyers', dbt.type_bigint()]], p.popularity) }}

    ),

    co_occurrence as (

        select
            bought.customer_id,
            neighbours.candidate as sku,
            sum(neighbours.similarity) as score,
            'co_occurrence' as basis
        from bought
        inner join neighbours
            on bought.sku = neighbours.sku
        group by bought.customer_id, neighbours.candidate

    ),

    fallback as (

        select
            features.customer_id,
            popular.sku,
            0 as score,
            'popularity' as basis
        from features
        cross join popular

    ),

    candidates as (

        select * from co_occurrence
        union all
        select fallback.* from fallback
        where not exists (
            select 1 from co_occurrence
            where
                co_occurrence.customer_id = fallback.customer_id
                and co_occurrence.sku = fallback.sku
        )

    ),

    ranked as (

        select
            candidates.customer_id,
            candidates.sku,
            candidates.score,
            candidates.basis,
            row_number() over (
                partition by candidates.customer_id
                order by candidates.score desc, coalesce(popular.buyers, 0) desc, candidates.sku
            ) as suggestion_rank
        from candidates
        left join popular
            on candidates.sku = popular.sku
        where not exists (
            select 1 from bought
            where
                bought.customer_id = candidates.customer_id
                and bought.sku = candidates.sku
        )

    ),

    suggested as (

        select
            customer_id,
            cast(suggestion_rank as integer) as suggestion_rank,
            sku,
            cast(score as double precision) / {{ p.similarity_scale }} as score,
            basis,
            {{ model.version }} as model_version
        from ranked
        where suggestion_rank <= {{ p.suggestions }}

    )

    select * from suggested
{%- else %}

    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as integer) as suggestion_rank,
        cast(null as {{ dbt.type_string() }}) as sku,
        cast(null as double precision) as score,
        cast(null as {{ dbt.type_string() }}) as basis,
        cast(null as integer) as model_version
    where false
{%- endif %}
