{#-
    One row per consent signal: a decision from the consent platform, a denial implied
    by a Global Privacy Control signal, or an email platform event (unsubscribe, spam
    report, bounce) that denies email marketing for its address. Each is resolved to
    the customer its identifier belongs to through identity_map; customer_id is null
    when the identifier is not (yet) known to the identity graph.

    Incremental (docs/profiles.md, "Incremental runs"): a run computes the signals not
    stored yet with their load time (new staged rows, rows loaded again, however late),
    and resolves again the stored signals whose identifier now maps to another customer
    (or none); its pre-hook first deletes the signals whose staged row is gone or was
    loaded again. A first build, --full-refresh or a changed configuration
    (onefold.downstream_config_fingerprint) computes every signal.
-#}
{{ config(
    materialized=onefold.keyed_incremental(),
    unique_key='signal_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ onefold.delete_stale_consent_signals() }}",
) }}
{%- set email_signals = var('onefold__consent_email_signals') -%}

{%- set has_consent = onefold.source_enabled('consent') %}
{%- set has_email = onefold.source_enabled('email') %}
{%- set partial = onefold.downstream_partial_run() %}

with

{%- if has_consent %}

    consent_events as (

        select * from {{ ref('stg_consent__events') }}

    ),
{%- endif %}
{%- if has_email %}

    email_events as (

        select * from {{ ref('stg_email__events') }}

    ),
{%- endif %}

identity_map as (

    select * from {{ ref('identity_map') }}

),

calling_codes as (

    select * from {{ ref('country_calling_codes') }}

),

purposes as (

    {{ onefold.consent_purpose_rows() }}

),

{%- if has_consent %}

    decisions as (

        select
            consent_events.consent_event_id as signal_id,
            'consent_decision' as signal_type,
            'explicit' as basis,
            consent_events.identifier_type,
            consent_events.identifier_value,
            consent_events.purpose,
            consent_events.is_granted,
            consent_events.consent_source,
            consent_events.jurisdiction,
            consent_events.occurred_at,
            'consent_events' as loaded_from,
            consent_events.loaded_at
        from consent_events
        inner join purposes
            on consent_events.purpose = purposes.purpose
        -- A GPC signal decides the purposes it covers (gpc_denials below).
        where not (consent_events.is_gpc and purposes.is_denied_by_gpc)

    ),

    gpc_denials as (

        select
            consent_events.consent_event_id || ':gpc:' || purposes.purpose as signal_id,
            'gpc' as signal_type,
            'gpc' as basis,
            consent_events.identifier_type,
            consent_events.identifier_value,
            purposes.purpose,
            false as is_granted,
            consent_events.consent_source,
            consent_events.jurisdiction,
            consent_events.occurred_at,
            'consent_events' as loaded_from,
            consent_events.loaded_at
        from consent_events
        cross join purposes
        where consent_events.is_gpc and purposes.is_denied_by_gpc

    ),
{%- endif %}
{%- if has_email %}

    email_denials as (

        select
            email_event_id as signal_id,
            event_type as signal_type,
            'explicit' as basis,
            'email' as identifier_type,
            email as identifier_value,
            case event_type
                {%- for event_type, purpose in email_signals.items() %}
                    when '{{ event_type }}' then '{{ purpose }}'
                {%- endfor %}
            end as purpose,
            false as is_granted,
            'email_platform' as consent_source,
            cast(null as {{ dbt.type_string() }}) as jurisdiction,
            occurred_at,
            'email_events' as loaded_from,
            loaded_at
        from email_events
        where
            email is not null
            and event_type in ({{ onefold.sql_text_list(email_signals) }})

    ),
{%- endif %}

signals as (
    {%- if has_consent %}

        select * from gpc_denials
        union all
        select * from decisions
    {%- endif %}
    {%- if has_consent and has_email %}
        union all
    {%- endif %}
    {%- if has_email %}

        select * from email_denials
    {%- endif %}
    {%- if not (has_consent or has_email) %}

    -- Neither consent nor email is enabled: no signal, every customer on defaults.
    select
        cast(null as {{ dbt.type_string() }}) as signal_id,
        cast(null as {{ dbt.type_string() }}) as signal_type,
        cast(null as {{ dbt.type_string() }}) as basis,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as identifier_value,
        cast(null as {{ dbt.type_string() }}) as purpose,
        cast(null as {{ dbt.type_boolean() }}) as is_granted,
        cast(null as {{ dbt.type_string() }}) as consent_source,
        cast(null as {{ dbt.type_string() }}) as jurisdiction,
        cast(null as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(null as {{ dbt.type_string() }}) as loaded_from,
        cast(null as {{ dbt.type_timestamp() }}) as loaded_at
    where 1 = 0
    {%- endif %}

),

unprocessed as (

    -- Incrementally, only the signals not stored yet with this load time (new staged
    -- rows, rows loaded again, however late): match keys are computed for them alone.
    select signals.*
    from signals
    {%- if partial %}
        where not exists (
            select 1 from {{ this }} as stored
            where
                stored.signal_id = signals.signal_id
                and stored.loaded_at = signals.loaded_at
        )
    {%- endif %}

),

keyed as (

    select
        unprocessed.*,
        {{ onefold.identifier_match_key(
            'unprocessed.identifier_type',
            'unprocessed.identifier_value',
            "coalesce(calling_codes.calling_code, '" ~ var('onefold__default_phone_calling_code') ~ "')") }} as match_key
    from unprocessed
    left join calling_codes
        on {{ onefold.jurisdiction_country('unprocessed.jurisdiction') }} = calling_codes.country_code

),

resolved as (

    select
        keyed.signal_id,
        identity_map.customer_id,
        keyed.signal_type,
        keyed.basis,
        keyed.identifier_type,
        keyed.match_key,
        keyed.purpose,
        keyed.consent_source,
        keyed.jurisdiction,
        keyed.is_granted,
        keyed.occurred_at,
        keyed.loaded_from,
        keyed.loaded_at
    from keyed
    left join identity_map
        on
            keyed.identifier_type = identity_map.identifier_type
            and keyed.match_key = identity_map.match_key
    {%- if partial %}

        union all

        -- Stored signals whose identifier now belongs to another customer, or to none.
        select
            stored.signal_id,
            identity_map.customer_id,
            stored.signal_type,
            stored.basis,
            stored.identifier_type,
            stored.match_key,
            stored.purpose,
            stored.consent_source,
            stored.jurisdiction,
            stored.is_granted,
            stored.occurred_at,
            stored.loaded_from,
            stored.loaded_at
        from {{ this }} as stored
        left join identity_map
            on
                stored.identifier_type = identity_map.identifier_type
                and stored.match_key = identity_map.match_key
        where
            stored.customer_id is distinct from identity_map.customer_id
            and not exists (
                select 1 from keyed
                where keyed.signal_id = stored.signal_id
            )
    {%- endif %}

)

select * from resolved
