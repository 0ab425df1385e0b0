{#-
    One row per segment and run: members, and how many entered and exited at that run.
    Appended each run, so BI can chart a segment's size over time; protected from
    --full-refresh like the membership history it summarizes.
-#}
{{ config(
    alias=onefold.mart_alias(),
    materialized='incremental',
    unique_key='segment_size_id',
    incremental_strategy=onefold.keyed_incremental_strategy(),
    on_schema_change='fail',
    full_refresh=false,
) }}

with

definitions as (

    select * from {{ ref('segment_definitions') }}

),

history as (

    select * from {{ ref('segment_membership_history') }}

),

counts as (

    select
        segment_name,
        sum(case when exited_at is null then 1 else 0 end) as members_count,
        sum(case when entered_at = {{ onefold.run_timestamp() }} then 1 else 0 end) as entered_count,
        sum(case when exited_at = {{ onefold.run_timestamp() }} then 1 else 0 end) as exited_count
    from history
    group by segment_name

),

sizes as (

    select
        cast(
            definitions.segment_name || ':' || {{ dbt.cast(onefold.run_timestamp(), dbt.type_string()) }}
            as {{ dbt.type_string() }}
        ) as segment_size_id,
        definitions.segment_name,
        cast(coalesce(counts.members_count, 0) as {{ dbt.type_bigint() }}) as members_count,
        cast(coalesce(counts.entered_count, 0) as {{ dbt.type_bigint() }}) as entered_count,
        cast(coalesce(counts.exited_count, 0) as {{ dbt.type_bigint() }}) as exited_count,
        {{ onefold.run_timestamp() }} as measured_at
    from definitions
    left join counts
        on definitions.segment_name = counts.segment_name

)

select * from sizes
