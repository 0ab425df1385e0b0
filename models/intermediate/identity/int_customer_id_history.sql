{#-
    The memory behind stable customer ids: one row per record and period during
    which it belonged to a customer (valid_to null = now). It is never rebuilt by
    `dbt build --full-refresh`: losing it would re-mint ids. To reset it on purpose,
    run with --full-refresh --vars '{onefold__reset_identity_history: true}'.
-#}
{{ config(
    materialized='incremental',
    unique_key=['record_node_id', 'valid_from'],
    incremental_strategy=onefold.keyed_incremental_strategy(),
    on_schema_change='fail',
    full_refresh=(none if var('onefold__reset_identity_history') else false),
    post_hook="{{ onefold.drop_superseded_rows(['record_node_id', 'valid_from'], 'valid_to is null') }}",
) }}
{%- set run_started = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as " ~ dbt.type_timestamp() ~ ")" %}
-- The change log reads this table's state from before the run, so it must run first.
-- depends_on: {{ ref('int_identity_changes_detected') }}
-- Incremental runs compare only the records of the run's scope: no other record moved.
-- depends_on: {{ ref('int_identity_scope') }}

with

assigned as (

    select * from {{ ref('int_customer_ids_assigned') }}
    where {{ onefold.identity_in_scope('record_node_id') }}

),

-- The open periods from before this run (none on the first build).
-- noqa: disable=LT02
current_rows as (

{% if is_incremental() %}
    select * from {{ this }}
    where
        valid_to is null
        and {{ onefold.identity_in_scope('record_node_id') }}
{% else %}
    select
        record_node_id,
        source,
        record_key,
        customer_id,
        customer_created_at,
        cast(null as {{ dbt.type_timestamp() }}) as valid_from,
        cast(null as {{ dbt.type_timestamp() }}) as valid_to
    from assigned
    where 1 = 0
{% endif %}

),
-- noqa: enable=LT02

opened as (

    -- Records that are new or moved to another customer start a period now.
    select
        assigned.record_node_id,
        assigned.source,
        assigned.record_key,
        assigned.customer_id,
        assigned.customer_created_at,
        {{ run_started }} as valid_from,
        cast(null as {{ dbt.type_timestamp() }}) as valid_to
    from assigned
    left join current_rows
        on assigned.record_node_id = current_rows.record_node_id
    where
        current_rows.customer_id is null
        or current_rows.customer_id != assigned.customer_id

),

closed as (

    -- Records that moved to another customer, or are gone (erased, deleted upstream),
    -- end their period now.
    select
        current_rows.record_node_id,
        current_rows.source,
        current_rows.record_key,
        current_rows.customer_id,
        current_rows.customer_created_at,
        current_rows.valid_from,
        {{ run_started }} as valid_to
    from current_rows
    left join assigned
        on current_rows.record_node_id = assigned.record_node_id
    where
        assigned.customer_id is null
        or assigned.customer_id != current_rows.customer_id

),

history as (

    select * from opened
    union all
    select * from closed

)

select * from history
