{#-
    One row per membership spell: a customer entered a segment at one run and (once
    they no longer match) exited at a later one. Each run closes the spells of the
    customers who left and opens spells for those who joined (int_segment_changes); a
    customer who comes back gets a new spell. State that no rebuild can recreate:
    protected from --full-refresh. Its open spells are segment_memberships.
-#}
{{ config(
    alias=onefold.mart_alias(),
    materialized='incremental',
    unique_key='segment_membership_spell_id',
    incremental_strategy=onefold.keyed_incremental_strategy(),
    on_schema_change='fail',
    full_refresh=false,
    post_hook="{{ onefold.drop_superseded_rows(['segment_membership_spell_id'], 'exited_at is null') }}",
) }}

with

changes as (

    select * from {{ ref('int_segment_changes') }}

),

exits as (

    select
        segment_membership_spell_id,
        segment_name,
        customer_id,
        entered_at,
        {{ onefold.run_timestamp() }} as exited_at
    from changes
    where not is_member

),

entries as (

    select
        cast(
            segment_name || ':' || customer_id || ':' || {{ dbt.cast(onefold.run_timestamp(), dbt.type_string()) }}
            as {{ dbt.type_string() }}
        ) as segment_membership_spell_id,
        segment_name,
        customer_id,
        {{ onefold.run_timestamp() }} as entered_at,
        cast(null as {{ dbt.type_timestamp() }}) as exited_at
    from changes
    where is_member

),

spells as (

    select * from exits
    union all
    select * from entries

)

select
    segment_membership_spell_id,
    segment_name,
    customer_id,
    entered_at,
    exited_at,
    exited_at is null as is_active
from spells
