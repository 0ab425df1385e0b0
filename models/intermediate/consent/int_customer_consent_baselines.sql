{#-
    One row per customer: the jurisdiction whose consent defaults apply and when the
    customer was first observed (where their consent history starts). Jurisdiction:
    the latest one a consent signal of theirs carried, else their golden country.
-#}
{#- Replaced per customer: the pre-hook deletes the affected customers' rows, the
    model inserts them recomputed (docs/profiles.md, "Incremental runs"). -#}
{{ onefold.per_customer_incremental() }}

with

traits as (

    select * from {{ ref('int_customer_traits') }}
    where is_seen and {{ onefold.affected_customers_only('customer_id') }}

),

ranked_attributes as (

    select * from {{ ref('int_customer_attributes_ranked') }}
    where {{ onefold.affected_customers_only('customer_id') }}

),

signals as (

    select * from {{ ref('int_consent_signals') }}
    where {{ onefold.affected_customers_only('customer_id') }}

),

regimes as (

    select * from {{ ref('consent_regimes') }}

),

latest_signal_jurisdictions as (

    select
        customer_id,
        jurisdiction,
        row_number() over (
            partition by customer_id order by occurred_at desc, signal_id desc
        ) as recency_rank
    from signals
    where customer_id is not null and jurisdiction is not null

),

golden_countries as (

    select
        customer_id,
        attribute_value as country_code
    from ranked_attributes
    where attribute = 'country_code' and is_winner

),

located as (

    select
        traits.customer_id,
        coalesce(latest_signal_jurisdictions.jurisdiction, golden_countries.country_code) as jurisdiction,
        case
            when latest_signal_jurisdictions.jurisdiction is not null
                then {{ onefold.jurisdiction_country('latest_signal_jurisdictions.jurisdiction') }}
            else upper(golden_countries.country_code)
        end as country_code,
        case
            when latest_signal_jurisdictions.jurisdiction is not null then 'consent_signal'
            when golden_countries.country_code is not null then 'profile_country'
            else 'unknown'
        end as jurisdiction_source,
        traits.first_seen_at
    from traits
    left join latest_signal_jurisdictions
        on
            traits.customer_id = latest_signal_jurisdictions.customer_id
            and latest_signal_jurisdictions.recency_rank = 1
    left join golden_countries
        on traits.customer_id = golden_countries.customer_id

),

baselines as (

    select
        located.customer_id,
        located.jurisdiction,
        located.country_code,
        located.jurisdiction_source,
        coalesce(regimes.regime, '{{ var("onefold__consent_unknown_regime") }}') as regime,
        located.first_seen_at
    from located
    left join regimes
        on located.country_code = regimes.country_code

)

select * from baselines
