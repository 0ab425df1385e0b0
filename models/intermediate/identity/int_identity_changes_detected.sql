{#-
    What this run did to customer ids, one row per event:
      created     a new customer from records never seen before;
      merged      previous customer merged into this one (the older id survives);
      split       records left a previous customer that still exists, under a new id;
      reassigned  records moved between two customers that both still exist;
      retired     a previous customer has no records left (deleted or erased upstream).
    `cause` names the identifier type that joined a merge (`probabilistic` when only a
    probabilistic link did), or the rule that cut a split (`weak_link` for the guard).
    Incremental runs look only at the run's scope: every record of a customer that can
    change is in it (docs/identity.md, "Incremental runs").
-#}
-- depends_on: {{ ref('int_identity_scope') }}
{%- set run_started = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as " ~ dbt.type_timestamp() ~ ")" %}

with

assigned as (

    select * from {{ ref('int_customer_ids_assigned') }}
    where {{ onefold.identity_in_scope('record_node_id') }}

),

edges as (

    select * from {{ ref('int_identity_edges_classified') }}
    where {{ onefold.identity_in_scope('left_node_id') }}

),

history as (

    {{ onefold.customer_id_history_rows() }}

),

previous_customers as (

    select
        customer_id,
        count(*) as record_count
    from history
    where
        valid_to is null
        and {{ onefold.identity_in_scope('record_node_id') }}
    group by customer_id

),

current_customers as (

    select
        customer_id,
        count(*) as record_count
    from assigned
    group by customer_id

),

moves as (

    -- Records whose customer differs from last run, grouped by (from, to).
    select
        previous_customer_id,
        customer_id,
        count(*) as records_moved
    from assigned
    where previous_customer_id is null or previous_customer_id != customer_id
    group by previous_customer_id, customer_id

),

merge_causes as (

    -- The identifier types that now link the moved records to the rest of their new
    -- customer (records that stayed, or new records that bridged the two).
    select
        moved.previous_customer_id,
        moved.customer_id,
        min(moved_edges.identifier_type) as identifier_type,
        max(case when moved_edges.rule = 'probabilistic' then 1 else 0 end) as by_probabilistic_link
    from assigned as moved
    inner join edges as moved_edges
        on
            moved.record_node_id = moved_edges.left_node_id
            and moved_edges.drop_rule is null
            and moved_edges.rule != 'record'
    inner join edges as staying_edges
        on
            moved_edges.right_node_id = staying_edges.right_node_id
            and staying_edges.drop_rule is null
    inner join assigned as staying
        on
            staying_edges.left_node_id = staying.record_node_id
            and moved.customer_id = staying.customer_id
            and (
                staying.previous_customer_id is null
                or moved.previous_customer_id != staying.previous_customer_id
            )
    where
        moved.previous_customer_id is not null
        and moved.previous_customer_id != moved.customer_id
    group by moved.previous_customer_id, moved.customer_id

),

split_causes as (

    select
        moved.previous_customer_id,
        moved.customer_id,
        min(cut.drop_rule) as drop_rule
    from assigned as moved
    inner join edges as cut
        on
            moved.record_node_id = cut.left_node_id
            and cut.drop_rule is not null
    where
        moved.previous_customer_id is not null
        and moved.previous_customer_id != moved.customer_id
    group by moved.previous_customer_id, moved.customer_id

),

events as (

    select
        case
            when moves.previous_customer_id is null then 'created'
            when still_there.customer_id is null then 'merged'
            when was_there.customer_id is null then 'split'
            else 'reassigned'
        end as change_type,
        moves.customer_id,
        moves.previous_customer_id,
        moves.records_moved,
        case
            when moves.previous_customer_id is null then 'new records'
            when still_there.customer_id is null
                then coalesce(
                    'shared_' || merge_causes.identifier_type,
                    case when merge_causes.by_probabilistic_link = 1 then 'probabilistic' end,
                    'link to an existing customer'
                )
            else coalesce(split_causes.drop_rule, 'link no longer present')
        end as cause
    from moves
    left join current_customers as still_there
        on moves.previous_customer_id = still_there.customer_id
    left join previous_customers as was_there
        on moves.customer_id = was_there.customer_id
    left join merge_causes
        on
            moves.previous_customer_id = merge_causes.previous_customer_id
            and moves.customer_id = merge_causes.customer_id
    left join split_causes
        on
            moves.previous_customer_id = split_causes.previous_customer_id
            and moves.customer_id = split_causes.customer_id
    -- New records joining a customer that already existed are not an id change.
    where moves.previous_customer_id is not null or was_there.customer_id is null

),

retired as (

    select
        'retired' as change_type,
        previous_customers.customer_id,
        previous_customers.customer_id as previous_customer_id,
        previous_customers.record_count as records_moved,
        'no records left' as cause
    from previous_customers
    left join current_customers
        on previous_customers.customer_id = current_customers.customer_id
    left join moves
        on previous_customers.customer_id = moves.previous_customer_id
    where
        current_customers.customer_id is null
        and moves.previous_customer_id is null

),

all_events as (

    select * from events
    union all
    select * from retired

),

identified as (

    select
        {{ onefold.sha256_hex("'" ~ invocation_id ~ "|' || change_type || '|' || customer_id || '|' || coalesce(previous_customer_id, '')") }} as change_id,
        '{{ invocation_id }}' as run_id,
        change_type,
        customer_id,
        previous_customer_id,
        cause,
        records_moved,
        {{ run_started }} as changed_at
    from all_events

)

select * from identified
