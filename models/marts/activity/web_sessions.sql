{#-
    One row per web or app session: events of one anonymous_id with no gap longer than
    onefold__session_timeout_minutes. Incremental: every anonymous_id with events loaded
    since the last run (minus the lookback) has all its sessions recomputed, so a late
    event that bridges or extends sessions replaces them exactly (delete+insert by
    anonymous_id, hence the non-unique unique_key).
-#}
{{ config(
    materialized='incremental',
    unique_key='anonymous_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

newly_loaded as (

    select distinct anonymous_id
    from {{ ref('stg_web__events') }}
    where {{ onefold.loaded_since_last_run(this_column='last_loaded_at') }}

),

events as (

    select stg_web__events.*
    from {{ ref('stg_web__events') }} as stg_web__events
    inner join newly_loaded
        on stg_web__events.anonymous_id = newly_loaded.anonymous_id

),

gaps as (

    select
        event_id,
        anonymous_id,
        event_type,
        is_app_event,
        occurred_at,
        loaded_at,
        lag(occurred_at) over (
            partition by anonymous_id order by occurred_at, event_id
        ) as previous_occurred_at
    from events

),

numbered as (

    select
        *,
        sum(
            case
                when
                    previous_occurred_at is null
                    or occurred_at > {{ dbt.dateadd('minute', var('onefold__session_timeout_minutes'), 'previous_occurred_at') }}
                    then 1
                else 0
            end
        ) over (
            partition by anonymous_id order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from gaps

),

firsts as (

    select
        *,
        row_number() over (
            partition by anonymous_id, session_number order by occurred_at, event_id
        ) as position_in_session
    from numbered

),

sessions as (

    select
        {{ onefold.sha256_hex("anonymous_id || '|' || max(case when position_in_session = 1 then event_id end)") }} as session_id,
        anonymous_id,
        max(case when position_in_session = 1 then event_id end) as first_event_id,
        cast(count(*) as {{ dbt.type_bigint() }}) as events_count,
        cast(sum(case when event_type = 'page' then 1 else 0 end) as {{ dbt.type_bigint() }}) as page_views_count,
        max(case when is_app_event then 1 else 0 end) = 1 as is_app_session,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        max(loaded_at) as last_loaded_at
    from firsts
    group by anonymous_id, session_number

)

select * from sessions
