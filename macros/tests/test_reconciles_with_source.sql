{#-
    Nothing is lost between a raw table and staging: every raw row is staged,
    quarantined, a dropped duplicate of a staged key, or suppressed (it carries an
    identifier `onefold erase` erased), and every raw key ends up staged, quarantined
    or suppressed. Returns one row per broken rule.

    The raw rows are read through `base_model`, which selects every row of the source's
    input as the text staging parses (select_as_text, no filter): the same rows whether
    the input is the package's source, a relation var or a loader adapter, and keys
    that compare as text even when the loader typed them. `source_relation` overrides it.
-#}
{% test reconciles_with_source(model, column_name, raw_key, base_model, quarantine_model, source_relation=none) %}
{%- set source_relation = source_relation or base_model %}

with

raw_rows as (

    select count(*) as row_count from {{ source_relation }}

),

staged_rows as (

    select count(*) as row_count from {{ model }}

),

quarantined_rows as (

    select count(*) as row_count from {{ quarantine_model }}

),

-- One pass over the base model for both counts (it is a view: each read recomputes it).
flagged_rows as (

    select
        coalesce(sum(case when is_duplicate then 1 else 0 end), 0) as duplicate_count,
        coalesce(sum(case when is_suppressed then 1 else 0 end), 0) as suppressed_count
    from {{ base_model }}

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
        'raw key ' || raw.{{ raw_key }} || ' is neither staged, quarantined nor suppressed' as problem
    from {{ source_relation }} as raw
    where raw.{{ raw_key }} is not null and trim(raw.{{ raw_key }}) != ''
        and trim(raw.{{ raw_key }}) not in (
            select staged.{{ column_name }} from {{ model }} as staged
        )
        and raw.{{ raw_key }} not in (
            select quarantined.{{ raw_key }} from {{ quarantine_model }} as quarantined
            where quarantined.{{ raw_key }} is not null
        )
        and raw.{{ raw_key }} not in (
            select suppressed.{{ raw_key }} from {{ base_model }} as suppressed
            where suppressed.is_suppressed and suppressed.{{ raw_key }} is not null
        )

)

select problem from row_balance
union all
select problem from lost_keys

{% endtest %}
