{#-
    One row per input mark this run's downstream models are computed through: the
    latest identity history change, the newest load time of each identity model and of
    the consent signals, the reporting "now", the configuration fingerprint, and each
    blocked identifier value. int_downstream_state keeps them once every incremental
    downstream model is built; the next run's int_customers_affected compares against it.
-#}

with

history as (

    select * from {{ ref('int_customer_id_history') }}

),

signals as (

    select * from {{ ref('int_consent_signals') }}

),

records as (

    select * from {{ ref('int_downstream_records') }}

),

blocked as (

    select * from {{ ref('identity_blocked_values') }}

),

marks as (

    select
        cast('history' as {{ dbt.type_string() }}) as state_kind,
        cast(null as {{ dbt.type_string() }}) as state_key,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as match_key,
        max(coalesce(valid_to, valid_from)) as state_at
    from history

    union all

    -- The newest load of each identity model with a loaded_at column.
    select
        'loaded' as state_kind,
        model_name as state_key,
        null as identifier_type,
        null as match_key,
        max(loaded_at) as state_at
    from records
    where loaded_at is not null
    group by model_name

    union all

    select
        'signals_loaded' as state_kind,
        loaded_from as state_key,
        null as identifier_type,
        null as match_key,
        max(loaded_at) as state_at
    from signals
    group by loaded_from

    union all

    select
        'now' as state_kind,
        null as state_key,
        null as identifier_type,
        null as match_key,
        {{ onefold.reporting_now() }} as state_at

    union all

    -- The dbt invocation that computed these marks and int_customers_affected.
    select
        'invocation' as state_kind,
        '{{ invocation_id }}' as state_key,
        null as identifier_type,
        null as match_key,
        cast(null as {{ dbt.type_timestamp() }}) as state_at

    union all

    select
        'config' as state_kind,
        '{{ onefold.downstream_config_fingerprint() }}' as state_key,
        null as identifier_type,
        null as match_key,
        cast(null as {{ dbt.type_timestamp() }}) as state_at

    union all

    -- Blocked values in their own columns, so erasure finds a person's among them.
    select distinct
        'blocked' as state_kind,
        null as state_key,
        identifier_type,
        match_key,
        cast(null as {{ dbt.type_timestamp() }}) as state_at
    from blocked

)

select * from marks
