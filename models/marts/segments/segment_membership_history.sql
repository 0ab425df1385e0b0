{#-
    One row per membership spell: a customer entered a segment at one run and (once
    they no longer match) exited at a later one. Each run closes the open spells of
    customers who left and opens spells for those who joined; a customer who comes
    back gets a new spell. State that no rebuild can recreate: protected from
    --full-refresh.
-#}
{{ config(
    alias=onefold.mart_alias(),
    materialized='incremental',
    unique_key='segment_membership_spell_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    full_refresh=false,
) }}

with

memberships as (

    select * from {{ ref('segment_memberships') }}

),

open_spells as (

    {{ onefold.open_membership_spells() }}

),

exits as (

    select
        open_spells.segment_membership_spell_id,
        open_spells.segment_name,
        open_spells.customer_id,
        open_spells.entered_at,
        {{ onefold.run_timestamp() }} as exited_at
    from open_spells
    left join memberships
        on
            open_spells.segment_name = memberships.segment_name
            and open_spells.customer_id = memberships.customer_id
    where memberships.customer_id is null

),

entries as (

    select memberships.*
    from memberships
    left join open_spells
        on
            memberships.segment_name = open_spells.segment_name
            and memberships.customer_id = open_spells.customer_id
    where open_spells.customer_id is null

),

spells as (

    select
        segment_membership_spell_id,
        segment_name,
        customer_id,
        entered_at,
        exited_at
    from exits
    union all
    select
        cast(
            segment_membership_id || ':' || {{ dbt.cast(onefold.run_timestamp(), dbt.type_string()) }}
            as {{ dbt.type_string() }}
        ) as segment_membership_spell_id,
        segment_name,
        customer_id,
        evaluated_at as entered_at,
        cast(null as {{ dbt.type_timestamp() }}) as exited_at
    from entries

)

select
    segment_membership_spell_id,
    segment_name,
    customer_id,
    entered_at,
    exited_at,
    exited_at is null as is_active
from spells
