{#-
    One row per customer, purpose and validity interval [valid_from, valid_to): the
    consent state and why. Every customer starts at first observation with their
    jurisdiction's default; each signal under any of their identifiers may change it.
    Signals at the same instant apply grants before denials, so a denial wins a tie.
-#}
{#- Replaced per customer: the pre-hook deletes the affected customers' rows, the
    model inserts them recomputed (docs/profiles.md, "Incremental runs"). -#}
{{ onefold.per_customer_incremental(alias=onefold.mart_alias()) }}
{%- set policy = var('onefold__consent_conflict_policy') -%}
{%- if policy not in ['most_recent', 'deny_wins'] -%}
    {{ exceptions.raise_compiler_error(
        "onefold__consent_conflict_policy must be most_recent or deny_wins, not " ~ policy) }}
{%- endif %}

with

signals as (

    select * from {{ ref('int_consent_signals') }}
    where customer_id is not null and {{ onefold.affected_customers_only('customer_id') }}

),

baselines as (

    select * from {{ ref('int_customer_consent_baselines') }}
    where {{ onefold.affected_customers_only('customer_id') }}

),

purposes as (

    {{ onefold.consent_purpose_rows() }}

),

first_signals as (

    select
        customer_id,
        purpose,
        min(occurred_at) as first_signal_at
    from signals
    group by customer_id, purpose

),

defaults as (

    select
        baselines.customer_id,
        purposes.purpose,
        cast(null as {{ dbt.type_string() }}) as signal_id,
        'jurisdiction_default' as signal_type,
        'jurisdiction_default' as basis,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as match_key,
        cast(null as {{ dbt.type_string() }}) as consent_source,
        case
            when baselines.regime = 'opt_out' then purposes.is_granted_under_opt_out
            else purposes.is_granted_under_opt_in
        end as is_granted,
        case
            when first_signals.first_signal_at < baselines.first_seen_at
                then first_signals.first_signal_at
            else baselines.first_seen_at
        end as occurred_at,
        0 as precedence
    from baselines
    cross join purposes
    left join first_signals
        on
            baselines.customer_id = first_signals.customer_id
            and purposes.purpose = first_signals.purpose

),

explicit_signals as (

    select
        customer_id,
        purpose,
        signal_id,
        signal_type,
        basis,
        identifier_type,
        match_key,
        consent_source,
        is_granted,
        occurred_at,
        case when is_granted then 1 else 2 end as precedence
    from signals

),

sequenced as (

    select
        *,
        row_number() over (
            partition by customer_id, purpose order by occurred_at, precedence, signal_id
        ) as signal_order
    from (
        select * from defaults
        union all
        select * from explicit_signals
    ) as all_signals

),

with_identifier_state as (

    select
        *,
        -- deny_wins: how the signal changes the count of identifiers whose latest
        -- decision is a denial.
        case
            when match_key is null then 0
            else
                (case when is_granted then 0 else 1 end)
                - (case when lag(is_granted) over (
                    partition by customer_id, purpose, identifier_type, match_key
                    order by signal_order
                ) = false then 1 else 0 end)
        end as denial_count_change
    from sequenced

),

states as (

    select
        *,
        {%- if policy == 'deny_wins' %}
            case
                when precedence = 0 then is_granted
                else sum(denial_count_change) over (
                    partition by customer_id, purpose order by signal_order
                    rows between unbounded preceding and current row
                ) = 0
            end as is_granted_after
        {%- else %}
            is_granted as is_granted_after
        {%- endif %}
    from with_identifier_state

),

-- Only signals that explain the resulting state open an interval: under deny_wins a
-- grant that leaves another identifier's denial standing changes nothing.
explaining as (

    select
        *,
        row_number() over (
            partition by customer_id, purpose, occurred_at order by signal_order desc
        ) as instant_rank
    from states
    where is_granted = is_granted_after

),

changes as (

    select
        *,
        lag(is_granted) over (partition by customer_id, purpose order by signal_order) as previous_is_granted,
        lag(basis) over (partition by customer_id, purpose order by signal_order) as previous_basis
    from explaining
    where instant_rank = 1

),

intervals as (

    select
        customer_id,
        purpose,
        is_granted,
        basis,
        signal_type,
        signal_id as source_signal_id,
        identifier_type as source_identifier_type,
        consent_source,
        occurred_at as valid_from,
        lead(occurred_at) over (partition by customer_id, purpose order by signal_order) as valid_to,
        row_number() over (partition by customer_id, purpose order by signal_order) as interval_number
    from changes
    where
        previous_is_granted is null
        or previous_is_granted != is_granted
        or previous_basis != basis

),

final as (

    select
        cast(
            intervals.customer_id || ':' || intervals.purpose || ':'
            || cast(intervals.interval_number as {{ dbt.type_string() }}) as {{ dbt.type_string() }}
        ) as consent_history_id,
        cast(intervals.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(intervals.purpose as {{ dbt.type_string() }}) as purpose,
        cast(intervals.basis as {{ dbt.type_string() }}) as basis,
        cast(intervals.signal_type as {{ dbt.type_string() }}) as signal_type,
        cast(intervals.source_signal_id as {{ dbt.type_string() }}) as source_signal_id,
        cast(intervals.source_identifier_type as {{ dbt.type_string() }}) as source_identifier_type,
        cast(intervals.consent_source as {{ dbt.type_string() }}) as consent_source,
        cast(baselines.jurisdiction as {{ dbt.type_string() }}) as jurisdiction,
        cast(baselines.regime as {{ dbt.type_string() }}) as regime,
        intervals.is_granted,
        intervals.valid_to is null as is_current,
        cast(intervals.valid_from as {{ dbt.type_timestamp() }}) as valid_from,
        cast(intervals.valid_to as {{ dbt.type_timestamp() }}) as valid_to
    from intervals
    inner join baselines
        on intervals.customer_id = baselines.customer_id

)

select * from final
