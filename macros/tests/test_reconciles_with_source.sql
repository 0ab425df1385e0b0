{#-
    Nothing is lost between a raw table and staging: every raw row is staged,
    quarantined, a dropped duplicate of a staged key, or suppressed (it carries an
    identifier `onefold erase` erased), and every raw key ends up staged, quarantined
    or suppressed. Returns one row per broken rule.

    The raw rows are read through `base_model`, which selects every row of the source's
    input as the text staging parses (select_as_text, no filter): the same rows whether
    the input is the package's source, a relation var or a loader adapter, and keys
    that compare as text even when the loader typed them. `source_relation` overrides it.

    Cost: the base model and the quarantine model are views that parse and screen every
    raw row (safe casts, JSON, the suppression check), so each is read exactly once:
    the base model's keys and flags, and the quarantine model's keys, are kept
    (materialized) and every count and key check reads those. The key checks are
    anti-joins (`not exists`), which both warehouses hash; `not in (subquery)` is not
    hashed by PostgreSQL once the subquery outgrows work_mem, and then compares every
    raw row with every quarantined one.
-#}
{% test reconciles_with_source(model, column_name, raw_key, base_model, quarantine_model, source_relation=none) %}
{#- PostgreSQL: the session settings models get from their pre-hook (JIT off), on the
    connection this test runs on (macros/table_maintenance.sql). -#}
{%- if execute and onefold.session_settings() %}{% do run_query(onefold.session_settings()) %}{% endif %}

with

-- The one read of the base model: each raw row's key and what staging decided for it.
base_rows as {{ onefold.compute_once() }} (

    select
        {{ raw_key }} as raw_key,
        is_duplicate,
        is_suppressed
    from {{ base_model }}

),

{% if source_relation is not none -%}
raw_keys as (

    select {{ raw_key }} as raw_key from {{ source_relation }}

),
{%- else -%}
raw_keys as (

    select raw_key from base_rows

),
{%- endif %}

-- The one read of the quarantine model.
quarantined as {{ onefold.compute_once() }} (

    select {{ raw_key }} as raw_key from {{ quarantine_model }}

),

raw_rows as (

    select count(*) as row_count from raw_keys

),

staged_rows as (

    select count(*) as row_count from {{ model }}

),

quarantined_rows as (

    select count(*) as row_count from quarantined

),

flagged_rows as (

    select
        coalesce(sum(case when is_duplicate then 1 else 0 end), 0) as duplicate_count,
        coalesce(sum(case when is_suppressed then 1 else 0 end), 0) as suppressed_count
    from base_rows

),

row_balance as (

    select
        'raw rows (' || cast(raw_rows.row_count as {{ dbt.type_string() }})
        || ') != staged (' || cast(staged_rows.row_count as {{ dbt.type_string() }})
        || ') + quarantined (' || cast(quarantined_rows.row_count as {{ dbt.type_string() }})
        || ') + duplicates (' || cast(flagged_rows.duplicate_count as {{ dbt.type_string() }})
        || ') + suppressed (' || cast(flagged_rows.suppressed_count as {{ dbt.type_string() }})
        || ')' as problem
    from raw_rows
    cross join staged_rows
    cross join quarantined_rows
    cross join flagged_rows
    where raw_rows.row_count
        != staged_rows.row_count + quarantined_rows.row_count + flagged_rows.duplicate_count
        + flagged_rows.suppressed_count

),

lost_keys as (

    select
        'raw key ' || raw.raw_key || ' is neither staged, quarantined nor suppressed' as problem
    from raw_keys as raw
    where raw.raw_key is not null and trim(raw.raw_key) != ''
        and not exists (
            select 1 from {{ model }} as staged
            where staged.{{ column_name }} = trim(raw.raw_key)
        )
        and not exists (
            select 1 from quarantined
            where quarantined.raw_key = raw.raw_key
        )
        and not exists (
            select 1 from base_rows as suppressed
            where suppressed.is_suppressed and suppressed.raw_key = raw.raw_key
        )

)

select problem from row_balance
union all
select problem from lost_keys

{% endtest %}
