{#-
    One row per customer whose golden attributes, traits or consent this run recomputes,
    and the first reason found (docs/profiles.md, "Incremental runs"). Compared with the
    marks of the last completed run (int_downstream_state): customers whose records
    moved, appeared or disappeared (int_customer_id_history rows opened or closed since),
    customers of records loaded since (new versions of a record, new events, new
    orders), customers holding a value whose blocked status changed, customers with new
    consent signals, customers of devices whose sessions were recomputed, and, when the
    reporting "now" moved, customers with sessions or email events at the edges of the
    trait windows. Without a previous state, on --full-refresh, or when the
    configuration changed (onefold.downstream_config_fingerprint), every customer id
    the history ever held is listed (reason full_recompute).
-#}
{{ onefold.identity_model_dependencies() }}
-- depends_on: {{ ref('customer_records') }}
-- depends_on: {{ ref('int_downstream_watermarks') }}
-- depends_on: {{ ref('int_downstream_records') }}
-- depends_on: {{ ref('int_identifiers') }}
-- depends_on: {{ ref('int_consent_signals') }}
{%- if onefold.source_enabled('web') %}
-- depends_on: {{ ref('web_sessions') }}
-- depends_on: {{ ref('stg_web__events') }}
{%- endif %}
{%- if onefold.source_enabled('email') %}
-- depends_on: {{ ref('email_activity') }}
{%- endif %}
{%- set state = onefold.downstream_state_relation() %}
{%- set full = state is none or flags.FULL_REFRESH %}
{%- set inputs = onefold.downstream_loaded_inputs() %}
{%- set has_web = onefold.source_enabled('web') %}
{%- set has_email = onefold.source_enabled('email') %}
{%- set fingerprint = onefold.downstream_config_fingerprint() %}
{%- set epoch = "cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")" %}

with

{%- if full %}

    -- noqa: disable=LT02
    history as (

        select * from {{ ref('int_customer_id_history') }}

    ),

    affected as (

        select distinct
            customer_id,
            'full_recompute' as reason
        from history

    )
    -- noqa: enable=LT02
{%- else %}

    history as (

        select * from {{ ref('int_customer_id_history') }}

    ),

    customer_records as (

        select * from {{ ref('customer_records') }}

    ),

    marks as (

        select * from {{ ref('int_downstream_watermarks') }}

    ),

    records as (

        select * from {{ ref('int_downstream_records') }}

    ),

    identifiers as (

        select * from {{ ref('int_identifiers') }}

    ),

    signals as (

        select * from {{ ref('int_consent_signals') }}

    ),

    {%- if has_web %}

        sessions as (

            select * from {{ ref('web_sessions') }}

        ),

        web_events as (

            select * from {{ ref('stg_web__events') }}

        ),
    {%- endif %}
    {%- if has_email %}

        email_activity as (

            select * from {{ ref('email_activity') }}

        ),
    {%- endif %}

    previous as (

        select * from {{ state }}

    ),

    is_full as (

        select count(*) = 0 as is_full
        from previous
        where state_kind = 'config' and state_key = '{{ fingerprint }}'

    ),

    previous_marks as (

        select
            state_kind,
            coalesce(state_key, '') as state_key,
            coalesce(state_at, {{ epoch }}) as state_at
        from previous
        where state_kind in ('history', 'loaded', 'signals_loaded', 'now')

    ),

    now_window as (

        -- The old and the new reporting "now", earliest first (equal: nothing moved).
        select
            least(previous_marks.state_at, marks.state_at) as earlier_now,
            greatest(previous_marks.state_at, marks.state_at) as later_now
        from marks
        inner join previous_marks
            on marks.state_kind = previous_marks.state_kind
        where marks.state_kind = 'now'

    ),

    blocked_changes as (

        select
            coalesce(current_blocked.identifier_type, previous_blocked.identifier_type) as identifier_type,
            coalesce(current_blocked.match_key, previous_blocked.match_key) as match_key
        from (select * from marks where state_kind = 'blocked') as current_blocked
        full outer join (select * from previous where state_kind = 'blocked') as previous_blocked
            on
                current_blocked.identifier_type = previous_blocked.identifier_type
                and current_blocked.match_key = previous_blocked.match_key
        where current_blocked.match_key is null or previous_blocked.match_key is null

    ),

    candidates as (

        -- Records that moved, appeared or disappeared: their old and new customers.
        select
            history.customer_id,
            'records_moved' as reason
        from history
        cross join (
            select coalesce(max(state_at), {{ epoch }}) as state_at
            from previous_marks
            where state_kind = 'history'
        ) as mark
        where history.valid_from > mark.state_at or history.valid_to > mark.state_at
        {%- for input in inputs %}

            union all

            -- Records of {{ input.name }} loaded since the last run (every record when the
            -- model has no loaded_at column).
            select
                customer_records.customer_id,
                'records_loaded' as reason
            from records as loaded
            inner join customer_records
                on
                    loaded.source = customer_records.source
                    and loaded.record_key = customer_records.record_key
            where
                loaded.model_name = '{{ input.name }}'
                {%- if input.has_loaded_at %}
                    and loaded.loaded_at > coalesce((
                        select max(state_at) from previous_marks
                        where state_kind = 'loaded' and state_key = '{{ input.name }}'
                    ), {{ epoch }})
                {%- endif %}
        {%- endfor %}

        union all

        -- Values that became blocked or unblocked: every customer holding one.
        select
            customer_records.customer_id,
            'blocked_value_changed' as reason
        from identifiers
        inner join blocked_changes
            on
                identifiers.identifier_type = blocked_changes.identifier_type
                and identifiers.match_key = blocked_changes.match_key
        inner join customer_records
            on
                identifiers.source = customer_records.source
                and identifiers.record_key = customer_records.record_key

        union all

        select
            signals.customer_id,
            'consent_signal' as reason
        from signals
        left join previous_marks
            on
                previous_marks.state_kind = 'signals_loaded'
                and signals.loaded_from = previous_marks.state_key
        where
            signals.customer_id is not null
            and signals.loaded_at > coalesce(previous_marks.state_at, {{ epoch }})
        {%- if has_web %}

            union all

            -- Devices whose sessions were recomputed: every customer of their events.
            select
                customer_records.customer_id,
                'sessions_recomputed' as reason
            from web_events
            inner join (
                select distinct anonymous_id
                from sessions
                where last_loaded_at > coalesce((
                    select max(state_at) from previous_marks
                    where state_kind = 'loaded' and state_key = 'stg_web__events'
                ), {{ epoch }})
            ) as devices
                on web_events.anonymous_id = devices.anonymous_id
            inner join customer_records
                on
                    customer_records.source = 'web_events'
                    and customer_records.record_key = web_events.event_id

            union all

            -- "Now" moved: sessions entering or leaving the 30-day window.
            select
                customer_records.customer_id,
                'time_window' as reason
            from sessions
            cross join now_window
            inner join customer_records
                on
                    customer_records.source = 'web_events'
                    and sessions.first_event_id = customer_records.record_key
            where
                now_window.earlier_now < now_window.later_now
                and (
                    (
                        sessions.started_at >= {{ dbt.dateadd('day', -30, 'now_window.earlier_now') }}
                        and sessions.started_at < {{ dbt.dateadd('day', -30, 'now_window.later_now') }}
                    )
                    or (
                        sessions.started_at >= {{ dbt.dateadd('day', 1, 'now_window.earlier_now') }}
                        and sessions.started_at < {{ dbt.dateadd('day', 1, 'now_window.later_now') }}
                    )
                )
        {%- endif %}
        {%- if has_email %}

            union all

            -- "Now" moved: email events entering or leaving the 90-day window.
            select
                customer_records.customer_id,
                'time_window' as reason
            from email_activity
            cross join now_window
            inner join customer_records
                on
                    email_activity.source = customer_records.source
                    and email_activity.record_key = customer_records.record_key
            where
                now_window.earlier_now < now_window.later_now
                and email_activity.event_type in ('open', 'click')
                and (
                    (
                        email_activity.occurred_at >= {{ dbt.dateadd('day', -90, 'now_window.earlier_now') }}
                        and email_activity.occurred_at < {{ dbt.dateadd('day', -90, 'now_window.later_now') }}
                    )
                    or (
                        email_activity.occurred_at >= {{ dbt.dateadd('day', 1, 'now_window.earlier_now') }}
                        and email_activity.occurred_at < {{ dbt.dateadd('day', 1, 'now_window.later_now') }}
                    )
                )
        {%- endif %}

        union all

        -- The configuration changed: every customer id the history ever held.
        select
            history.customer_id,
            'full_recompute' as reason
        from history
        cross join is_full
        where is_full.is_full

    ),

    affected as (

        select
            customer_id,
            min(reason) as reason
        from candidates
        where customer_id is not null
        group by customer_id

    )
{%- endif %}

select * from affected
