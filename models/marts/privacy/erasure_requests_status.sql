{#-
    A view, not a table (the exception to the marts default): status must be live,
    because `onefold erase` updates its receipts between dbt runs.
-#}
{{ config(materialized='view', alias=onefold.mart_alias()) }}

{%- set listed_identifier_types = "'" ~ (var('onefold__erasure_identifier_types') | map('lower') | join("', '")) ~ "'" -%}
{%- set listed_regulations = "'" ~ (var('onefold__erasure_regulations') | map('lower') | join("', '")) ~ "'" %}

with

intake_requests as (

    select * from {{ ref('stg_privacy__erasure_requests') }}

),

quarantined_requests as (

    select * from {{ ref('stg_privacy__erasure_requests_quarantine') }}

),

receipts as (

    select * from {{ source('onefold_privacy', 'erasure_receipts') }}

),

destinations as (

    select * from {{ source('onefold_privacy', 'erasure_destinations') }}

),

rejected_requests as (

    -- Intake rows staging quarantined (a bad date, an unknown regulation, ...): erasure
    -- cannot act on them, and they are shown with the reason until the row is fixed. A
    -- request id staged from another, valid row, or taken by a receipt, is not rejected.
    -- Rows without a request id have nothing to be tracked by: they stay in the
    -- quarantine model (and `onefold erase` reports them). A bad row may carry anything
    -- in any column, so only listed identifier types and regulations are shown.
    select
        trim(request_id) as erasure_request_id,
        case
            when lower(trim(identifier_type)) in ({{ listed_identifier_types }})
                then lower(trim(identifier_type))
        end as identifier_type,
        case
            when lower(trim(regulation)) in ({{ listed_regulations }})
                then upper(trim(regulation))
        end as regulation,
        case
            when quarantine_column != 'received_at' then {{ onefold.safe_cast_utc_timestamp('received_at') }}
        end as received_at,
        quarantine_reason || ' (' || quarantine_column || ')' as rejection_reason,
        row_number() over (
            partition by trim(request_id)
            order by _loaded_at, quarantine_reason, quarantine_column
        ) as delivery_number
    from quarantined_requests
    where
        trim(request_id) != ''
        and trim(request_id) not in (select intake_requests.erasure_request_id from intake_requests)
        and trim(request_id) not in (select receipts.erasure_request_id from receipts)

),

all_requests as (

    -- Intake requests, whether or not erasure has started them; command-line requests
    -- exist only as receipts.
    select
        erasure_request_id,
        'erasure_requests' as request_source,
        identifier_type,
        regulation,
        received_at,
        cast(null as {{ dbt.type_string() }}) as rejection_reason
    from intake_requests

    union all

    select
        erasure_request_id,
        'erasure_requests' as request_source,
        identifier_type,
        regulation,
        received_at,
        rejection_reason
    from rejected_requests
    where delivery_number = 1

    union all

    select
        erasure_request_id,
        request_source,
        identifier_types as identifier_type,
        regulation,
        received_at,
        cast(null as {{ dbt.type_string() }}) as rejection_reason
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
        -- Quarantined by staging, or staged but refused by `onefold erase` (a value
        -- that is no valid identifier): the receipt says why, without the value.
        coalesce(
            all_requests.rejection_reason,
            case when receipts.status = 'rejected' then receipts.last_error end
        ) as rejection_reason,
        all_requests.received_at,
        case
            when all_requests.regulation is not null
                then {{ onefold.erasure_due_at('all_requests.regulation', 'all_requests.received_at') }}
        end as due_at,
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
            when rejection_reason is not null then 'rejected'
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
        progress_status != 'completed' and coalesce({{ onefold.utc_now() }} > due_at, false) as is_overdue
    from progressed

),

final as (

    select
        cast(erasure_request_id as {{ dbt.type_string() }}) as erasure_request_id,
        cast(request_source as {{ dbt.type_string() }}) as request_source,
        cast(identifier_type as {{ dbt.type_string() }}) as identifier_type,
        cast(regulation as {{ dbt.type_string() }}) as regulation,
        cast(
            case
                when progress_status = 'rejected' then 'rejected'
                when is_overdue then 'overdue'
                else progress_status
            end
            as {{ dbt.type_string() }}
        ) as status,
        cast(progress_status as {{ dbt.type_string() }}) as progress_status,
        cast(rejection_reason as {{ dbt.type_string() }}) as rejection_reason,
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
