{#-
    One row per web or app session: events of one anonymous_id with no gap longer than
    onefold__session_timeout_minutes. Incremental: every anonymous_id with events loaded
    within the lookback, or whose staged events differ in number or latest load time
    from its sessions' events_count and last_loaded_at (an event loaded however late),
    has all its sessions recomputed, so a late event that bridges or extends sessions
    replaces them exactly (delete+insert by anonymous_id, hence the non-unique
    unique_key).
-#}
{{ config(
    alias=onefold.mart_alias(),
    materialized=onefold.keyed_incremental(),
    unique_key='anonymous_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

staged_devices as (

    select
        anonymous_id,
        count(*) as events_count,
        max(loaded_at) as last_loaded_at
    from {{ ref('stg_web__events') }}
    group by anonymous_id

),

{% if is_incremental() -%}
processed_devices as (

    select
        anonymous_id,
        sum(events_count) as events_count,
        max(last_loaded_at) as last_loaded_at
    from {{ this }}
    group by anonymous_id

),

{% endif -%}
newly_loaded as (

    select staged_devices.anonymous_id
    from staged_devices
    {%- if is_incremental() %}
    left join processed_devices
        on staged_devices.anonymous_id = processed_devices.anonymous_id
    where
        processed_devices.anonymous_id is null
        or staged_devices.events_count != processed_devices.events_count
        or staged_devices.last_loaded_at != processed_devices.last_loaded_at
        or staged_devices.last_loaded_at >= {{ onefold.incremental_lookback_start('last_loaded_at') }}
    {%- endif %}

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
