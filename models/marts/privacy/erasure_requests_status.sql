{#-
    A view, not a table (the exception to the marts default): status must be live,
    because `onefold erase` updates its receipts between dbt runs.
-#}
{{ config(materialized='view') }}

with

intake_requests as (

    select * from {{ ref('stg_privacy__erasure_requests') }}

),

receipts as (

    select * from {{ source('onefold_privacy', 'erasure_receipts') }}

),

destinations as (

    select * from {{ source('onefold_privacy', 'erasure_destinations') }}

),

all_requests as (

    -- Intake requests, whether or not erasure has started them; command-line requests
    -- exist only as receipts.
    select
        erasure_request_id,
        'erasure_requests' as request_source,
        identifier_type,
        regulation,
        received_at
    from intake_requests

    union all

    select
        erasure_request_id,
        request_source,
        identifier_types as identifier_type,
        regulation,
        received_at
    from receipts
    where request_source != 'erasure_requests'

),

destination_counts as (

    select
        erasure_request_id,
        count(*) as destinations_count,
        sum(case when status = 'succeeded' then 1 else 0 end) as destinations_succeeded,
        sum(case when status != 'succeeded' then 1 else 0 end) as destinations_failed
    from destinations
    group by erasure_request_id

),

joined as (

    select
        all_requests.erasure_request_id,
        all_requests.request_source,
        all_requests.identifier_type,
        all_requests.regulation,
        receipts.status as receipt_status,
        coalesce(destination_counts.destinations_count, 0) as destinations_count,
        coalesce(destination_counts.destinations_succeeded, 0) as destinations_succeeded,
        coalesce(destination_counts.destinations_failed, 0) as destinations_failed,
        receipts.residuals_count,
        all_requests.received_at,
        {{ onefold.erasure_due_at('all_requests.regulation', 'all_requests.received_at') }} as due_at,
        receipts.started_at,
        receipts.completed_at,
        receipts.verified_at,
        receipts.updated_at
    from all_requests
    left join receipts
        on all_requests.erasure_request_id = receipts.erasure_request_id
    left join destination_counts
        on all_requests.erasure_request_id = destination_counts.erasure_request_id

),

progressed as (

    select
        *,
        case
            when receipt_status = 'completed' then 'completed'
            when receipt_status = 'partially_failed' or destinations_failed > 0 then 'partially_failed'
            when receipt_status is not null then 'in_progress'
            else 'received'
        end as progress_status
    from joined

),

timed as (

    select
        *,
        progress_status != 'completed' and {{ onefold.utc_now() }} > due_at as is_overdue
    from progressed

),

final as (

    select
        cast(erasure_request_id as {{ dbt.type_string() }}) as erasure_request_id,
        cast(request_source as {{ dbt.type_string() }}) as request_source,
        cast(identifier_type as {{ dbt.type_string() }}) as identifier_type,
        cast(regulation as {{ dbt.type_string() }}) as regulation,
        cast(
            case when is_overdue then 'overdue' else progress_status end
            as {{ dbt.type_string() }}
        ) as status,
        cast(progress_status as {{ dbt.type_string() }}) as progress_status,
        cast(destinations_count as {{ dbt.type_bigint() }}) as destinations_count,
        cast(destinations_succeeded as {{ dbt.type_bigint() }}) as destinations_succeeded,
        cast(destinations_failed as {{ dbt.type_bigint() }}) as destinations_failed,
        cast(residuals_count as {{ dbt.type_bigint() }}) as residuals_count,
        is_overdue,
        coalesce(completed_at > due_at, false) as is_completed_late,
        cast(received_at as {{ dbt.type_timestamp() }}) as received_at,
        cast(due_at as {{ dbt.type_timestamp() }}) as due_at,
        cast(started_at as {{ dbt.type_timestamp() }}) as started_at,
        cast(completed_at as {{ dbt.type_timestamp() }}) as completed_at,
        cast(verified_at as {{ dbt.type_timestamp() }}) as verified_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from timed

)

select * from final
