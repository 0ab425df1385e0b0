{#-
    One row per active customer: the predictive traits, scored in SQL with the newest
    version of each model in prediction_models (docs/predictions.md). A model not
    trained yet leaves its columns null, as does a customer whose consent does not
    allow profiling (onefold__predictions.purpose). The CLV columns are for customers
    with an order (BG/NBD describes buyers), as is p_churn_90d.

    BG/NBD's conditional expectation (Fader, Hardie and Lee 2005, eq. 10) needs the
    Gauss hypergeometric function. It is summed here as its series, after Euler's
    transformation, 2F1(a+b-1-r, a-1; a+b+x-1; z), for each distinct (frequency, age)
    pair, over the number of terms training found enough for every customer
    (parameters.series_terms); it then equals the `lifetimes` package's value.
-#}
{{ config(alias=onefold.mart_alias()) }}
-- depends_on: {{ ref('prediction_models') }}
-- depends_on: {{ ref('customer_product_suggestions') }}
{%- set models = onefold.newest_prediction_models() %}
{%- set clv = models.get('clv_365d') %}
{%- set purchase = models.get('purchase_30d') %}
{%- set churn = models.get('churn_90d') %}
{%- set suggestions = models.get('top_products') %}
{%- set number = onefold.float_literal %}

with

features as (

    select * from {{ ref('int_customer_features_current') }}
    where is_profiling_allowed

),
{%- if clv %}
    {%- set p = clv.parameters %}

    buyers as (

        select
            customer_id,
            cast(frequency as {{ onefold.type_double() }}) as frequency,
            cast(recency_days as {{ onefold.type_double() }}) as recency_days,
            cast(age_days as {{ onefold.type_double() }}) as age_days,
            monetary_value
        from features
        where has_ordered

    ),

    series_points as (

        select distinct
            frequency,
            age_days,
            {{ p.horizon_days }} / ({{ number(p.alpha) }} + age_days + {{ p.horizon_days }}) as z
        from buyers

    ),

    series_ratios as (

        -- term n + 1 over term n of 2F1(a+b-1-r, a-1; a+b+x-1; z)
        select
            series_points.frequency,
            series_points.age_days,
            numbers.n,
            ({{ number(p.a) }} + {{ number(p.b) }} - 1 - {{ number(p.r) }} + numbers.n)
            * ({{ number(p.a) }} - 1 + numbers.n)
            / (({{ number(p.a) }} + {{ number(p.b) }} + series_points.frequency - 1 + numbers.n) * (numbers.n + 1))
            * series_points.z as ratio
        from series_points
        cross join ({{ onefold.whole_numbers(p.series_terms) }}) as numbers

    ),

    series_terms as (

        -- term n: the product of the ratios before it, through logarithms, with its sign
        select
            frequency,
            age_days,
            sum(case when ratio = 0 then 1 else 0 end) over earlier_terms as zeros,
            sum(case when ratio < 0 then 1 else 0 end) over earlier_terms as negatives,
            sum(case when ratio <> 0 then ln(abs(ratio)) else 0 end) over earlier_terms as log_magnitude
        from series_ratios
        window earlier_terms as (
            partition by frequency, age_days order by n rows between unbounded preceding and 1 preceding
        )

    ),

    series_sums as (

        select
            frequency,
            age_days,
            sum(
                case
                    when coalesce(zeros, 0) > 0 then 0
                    else
                        (1 - 2 * mod(coalesce(negatives, 0), 2))
                        * exp(greatest(coalesce(log_magnitude, 0), -700))
                end
            ) as hypergeometric
        from series_terms
        group by frequency, age_days

    ),

    clv_scores as (

        select
            buyers.customer_id,
            case
                when buyers.frequency = 0 then cast(1 as {{ onefold.type_double() }})
                else {{ onefold.logistic_sql(
                    '-((' ~ number(p.r) ~ ' + buyers.frequency) * (ln(' ~ number(p.alpha) ~ ' + buyers.age_days) - ln('
                    ~ number(p.alpha) ~ ' + buyers.recency_days)) + ln(' ~ number(p.a) ~ ') - ln(' ~ number(p.b)
                    ~ ' + buyers.frequency - 1))') }}
            end as p_alive,
            ({{ number(p.a) }} + {{ number(p.b) }} + buyers.frequency - 1) / ({{ number(p.a) }} - 1)
            * (
                1 - exp(
                    ({{ number(p.a) }} - 1)
                    * (ln({{ number(p.alpha) }} + buyers.age_days) - ln({{ number(p.alpha) }} + buyers.age_days + {{ p.horizon_days }}))
                ) * series_sums.hypergeometric
            )
            / (
                1 + case
                    when buyers.frequency > 0
                        then exp(least(
                            ln({{ number(p.a) }}) - ln({{ number(p.b) }} + buyers.frequency - 1)
                            + ({{ number(p.r) }} + buyers.frequency)
                            * (ln({{ number(p.alpha) }} + buyers.age_days) - ln({{ number(p.alpha) }} + buyers.recency_days)),
                            700
                        ))
                    else 0
                end
            ) as predicted_purchases,
            -- Gamma-Gamma: the customer's mean spend shrunk towards the population's
            (1 - {{ number(p.p) }} * buyers.frequency / ({{ number(p.p) }} * buyers.frequency + {{ number(p.q) }} - 1))
            * {{ number(p.v) }} * {{ number(p.p) }} / ({{ number(p.q) }} - 1)
            + {{ number(p.p) }} * buyers.frequency / ({{ number(p.p) }} * buyers.frequency + {{ number(p.q) }} - 1)
            * buyers.monetary_value as expected_order_value
        from buyers
        inner join series_sums
            on
                buyers.frequency = series_sums.frequency
                and buyers.age_days = series_sums.age_days

    ),
{%- endif %}
{%- if suggestions %}

    suggestion_lists as (

        -- a JSON array of the SKUs, best first (to_json quotes and escapes each)
        select
            customer_id,
            '[' || {{ dbt.listagg(
                'cast(to_json(sku) as ' ~ dbt.type_string() ~ ')', "','", 'order by suggestion_rank'
            ) }} || ']' as top_products
        from {{ ref('customer_product_suggestions') }}
        group by customer_id

    ),
{%- endif %}

scored as (

    select
        features.customer_id,
        {%- if clv %}
            clv_scores.p_alive,
            clv_scores.predicted_purchases as predicted_purchases_365d,
            clv_scores.expected_order_value,
            clv_scores.predicted_purchases * clv_scores.expected_order_value as predicted_clv_365d,
            {{ clv.version }} as clv_model_version,
        {%- else %}
            cast(null as {{ onefold.type_double() }}) as p_alive,
            cast(null as {{ onefold.type_double() }}) as predicted_purchases_365d,
            cast(null as {{ onefold.type_double() }}) as expected_order_value,
            cast(null as {{ onefold.type_double() }}) as predicted_clv_365d,
            cast(null as {{ dbt.type_int() }}) as clv_model_version,
        {%- endif %}
        {%- if purchase %}
            {{ onefold.classifier_probability_sql(purchase) }} as p_purchase_30d,
            {{ purchase.version }} as purchase_model_version,
        {%- else %}
            cast(null as {{ onefold.type_double() }}) as p_purchase_30d,
            cast(null as {{ dbt.type_int() }}) as purchase_model_version,
        {%- endif %}
        {%- if churn %}
            case
                when features.has_ordered then {{ onefold.classifier_probability_sql(churn) }}
            end as p_churn_90d,
            {{ churn.version }} as churn_model_version,
        {%- else %}
            cast(null as {{ onefold.type_double() }}) as p_churn_90d,
            cast(null as {{ dbt.type_int() }}) as churn_model_version,
        {%- endif %}
        {%- if suggestions %}
            suggestion_lists.top_products,
            {{ suggestions.version }} as suggestions_model_version
        {%- else %}
            cast(null as {{ dbt.type_string() }}) as top_products,
            cast(null as {{ dbt.type_int() }}) as suggestions_model_version
        {%- endif %}
    from features
    {%- if clv %}
        left join clv_scores
            on features.customer_id = clv_scores.customer_id
    {%- endif %}
    {%- if suggestions %}
        left join suggestion_lists
            on features.customer_id = suggestion_lists.customer_id
    {%- endif %}

)

select * from scored
