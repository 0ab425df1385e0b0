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
{%- set has_lines = onefold.source_enabled('shop') and var('onefold__shop_order_lines_enabled') %}
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
            {{ onefold.literal_rows([['customer_id', text], ['sku', text]], []) }}
        {%- endif %}

    ),

    neighbours as (

        {{ onefold.literal_rows([['sku', text], ['candidate', text], ['similarity', dbt.type_bigint()]], p.neighbours) }}

    ),

    popular as (

        {{ onefold.literal_rows([['sku', text], ['buyers', dbt.type_bigint()]], p.popularity) }}

    ),

    co_occurrence as (

        -- the products they have not bought, scored by similarity to those they have
        select
            bought.customer_id,
            neighbours.candidate as sku,
            sum(neighbours.similarity) as score
        from bought
        inner join neighbours
            on bought.sku = neighbours.sku
        where not exists (
            select 1 from bought as owned
            where
                owned.customer_id = bought.customer_id
                and owned.sku = neighbours.candidate
        )
        group by bought.customer_id, neighbours.candidate

    ),

    co_occurrence_ranked as (

        select
            co_occurrence.customer_id,
            co_occurrence.sku,
            co_occurrence.score,
            row_number() over (
                partition by co_occurrence.customer_id
                order by co_occurrence.score desc, coalesce(popular.buyers, 0) desc, co_occurrence.sku
            ) as suggestion_rank
        from co_occurrence
        left join popular
            on co_occurrence.sku = popular.sku

    ),

    co_occurrence_chosen as (

        select * from co_occurrence_ranked
        where suggestion_rank <= {{ p.suggestions }}

    ),

    chosen_counts as (

        select
            customer_id,
            count(*) as chosen
        from co_occurrence_chosen
        group by customer_id

    ),

    popularity_fill as (

        -- every scored product ranks first (its score is above 0): popular products
        -- they have not bought fill the places left
        select
            features.customer_id,
            popular.sku,
            coalesce(chosen_counts.chosen, 0) + row_number() over (
                partition by features.customer_id
                order by popular.buyers desc, popular.sku
            ) as suggestion_rank
        from features
        cross join popular
        left join chosen_counts
            on features.customer_id = chosen_counts.customer_id
        where
            coalesce(chosen_counts.chosen, 0) < {{ p.suggestions }}
            and not exists (
                select 1 from bought
                where
                    bought.customer_id = features.customer_id
                    and bought.sku = popular.sku
            )
            and not exists (
                select 1 from co_occurrence_chosen
                where
                    co_occurrence_chosen.customer_id = features.customer_id
                    and co_occurrence_chosen.sku = popular.sku
            )

    ),

    suggested as (

        select
            customer_id,
            cast(suggestion_rank as integer) as suggestion_rank,
            sku,
            cast(score as {{ onefold.type_double() }}) / {{ p.similarity_scale }} as score,
            'co_occurrence' as basis,
            {{ model.version }} as model_version
        from co_occurrence_chosen
        union all
        select
            customer_id,
            cast(suggestion_rank as integer) as suggestion_rank,
            sku,
            cast(0 as {{ onefold.type_double() }}) as score,
            'popularity' as basis,
            {{ model.version }} as model_version
        from popularity_fill
        where suggestion_rank <= {{ p.suggestions }}

    )

    select * from suggested
{%- else %}

    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as integer) as suggestion_rank,
        cast(null as {{ dbt.type_string() }}) as sku,
        cast(null as {{ onefold.type_double() }}) as score,
        cast(null as {{ dbt.type_string() }}) as basis,
        cast(null as integer) as model_version
    where false
{%- endif %}
