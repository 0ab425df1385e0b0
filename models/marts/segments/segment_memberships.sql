{#-
    One row per segment and current member: every customer satisfying the segment's
    predicate (onefold__segments) at this run. A view of the open spells of
    segment_membership_history, which each run updates with the membership changes
    only (int_segment_changes; docs/consent-and-segments.md, "Incremental runs").
-#}
{{ config(alias=onefold.mart_alias(), materialized='view') }}

with

history as (

    select * from {{ ref('segment_membership_history') }}

),

final as (

    select
        cast(segment_name || ':' || customer_id as {{ dbt.type_string() }}) as segment_membership_id,
        segment_name,
        customer_id,
        {{ onefold.run_timestamp() }} as evaluated_at
    from history
    where exited_at is null

)

select * from final
