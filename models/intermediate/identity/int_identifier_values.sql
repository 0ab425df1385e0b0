{#-
    One row per (identifier type, match key) in int_identifiers: its normalized value,
    how many records carry it and when, and whether it is blocked (blocklist or hub
    detection) and why. int_identifiers_blocked, identity_map and identity_edges read
    the values from here.

    Incremental (docs/identity.md, "Incremental runs"): a pre-hook deletes the values
    whose records changed (the values the run's changed records carry now, and every
    value whose record count no longer matches, which covers the values those records
    no longer carry and records erased between builds); the model computes again every
    value int_identifiers holds that this table lacks. A value's counts and hub
    co-occurrences depend only on the records carrying it, so the others are unchanged.
    computed_at is the run that computed the row.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    unique_key=['identifier_type', 'match_key'],
    on_schema_change='fail',
    pre_hook="{{ onefold.identity_values_delete() }}",
) }}
-- depends_on: {{ ref('int_identity_records_changed') }}
{%- set identifier_types = var('onefold__identifier_types') -%}
{%- set in_unit_test = model is mapping and model.get('resource_type') == 'unit_test' -%}
{%- set regex_rows = none -%}
{%- if execute and not in_unit_test and load_relation(ref('identity_blocklist')) is not none -%}
    {%- set regex_rows = run_query(
        "select identifier_type, pattern, reason from " ~ ref('identity_blocklist')
        ~ " where match_type = 'regex' order by identifier_type, pattern").rows -%}
{%- endif -%}
{%- set scoped = not in_unit_test and onefold.identity_scoped() %}

with

identifiers as (

    select * from {{ ref('int_identifiers') }}

),

-- noqa: disable=LT02
computed_identifiers as (

    -- The values to compute: every value on a whole rebuild, else those the pre-hook
    -- deleted and the new ones (the values this table lacks), with all their rows.
    select * from identifiers
    {%- if scoped %}
        where not exists (
            select 1 from {{ this }} as stored
            where
                identifiers.identifier_type = stored.identifier_type
                and identifiers.match_key = stored.match_key
        )
    {%- endif %}

),
-- noqa: enable=LT02

blocklist as (

    select * from {{ ref('identity_blocklist') }}

),

identifier_values as (

    select
        identifier_type,
        match_key,
        min(normalized_value) as normalized_value,
        count(*) as records_touched,
        max(case when is_prehashed then 1 else 0 end) = 1 as has_hashed_observations,
        min(observed_at) as first_observed_at,
        max(observed_at) as last_observed_at
    from computed_identifiers
    group by identifier_type, match_key

),

exact_values as (

    -- Each exact entry in its plain and its hashed form, so values that arrived as a
    -- SHA-256 digest are blocked too.
    select
        identifier_type,
        lower(pattern) as blocked_value,
        reason
    from blocklist
    where match_type = 'exact'

    union all

    select
        identifier_type,
        {{ onefold.sha256_hex('lower(pattern)') }} as blocked_value,
        reason
    from blocklist
    where match_type = 'exact'

),

exact_matches as (

    select
        identifier_values.identifier_type,
        identifier_values.match_key,
        exact_values.reason
    from identifier_values
    inner join exact_values
        on
            exact_values.identifier_type in ('*', identifier_values.identifier_type)
            and identifier_values.normalized_value = exact_values.blocked_value

),

pattern_matches as (

    {#-
        Each regex is written into the query as a constant: a pattern read from a column
        is compiled again for every row (minutes at a million people). A unit test, or a
        compile before the seed exists, matches through the join instead.
    #}
    {%- if regex_rows is not none %}
        {%- for row in regex_rows %}
            select
                identifier_type,
                match_key,
                '{{ row[2] | replace("'", "''") }}' as reason
            from identifier_values
            where
                {%- if row[0] != '*' %}
                    identifier_type = '{{ row[0] | replace("'", "''") }}' and
                {%- endif %}
                {{ onefold.regex_search('normalized_value', "'" ~ (row[1] | replace("'", "''")) ~ "'") }}

            union all
        {%- endfor %}

        select
            identifier_type,
            match_key,
            cast(null as {{ dbt.type_string() }}) as reason
        from identifier_values
        where 1 = 0
    {%- else %}
        select
            identifier_values.identifier_type,
            identifier_values.match_key,
            blocklist.reason
        from identifier_values
        inner join blocklist
            on
                blocklist.match_type = 'regex'
                and blocklist.identifier_type in ('*', identifier_values.identifier_type)
        where {{ onefold.regex_search('identifier_values.normalized_value', 'blocklist.pattern') }}
    {%- endif %}

),

listed as (

    select
        identifier_type,
        match_key,
        'blocklist' as block_rule,
        min(reason) as block_reason
    from (
        select * from exact_matches
        union all
        select * from pattern_matches
    ) as matches
    group by identifier_type, match_key

),

hub_type_pairs as (

    -- One row per threshold: a value of identifier_type is a hub when records carrying it
    -- carry more than `threshold` distinct values of other_type. Joined on equality, so
    -- PostgreSQL hashes the co-occurrence join below (an OR of type conditions there made
    -- it misjudge the row count and loop over every pair: a minute at 300 people).
    {%- for type_name, type_config in identifier_types.items() %}
        {%- for other_type, threshold in type_config.get('hub_thresholds', {}).items() if other_type != type_name %}
            select
                cast('{{ type_name }}' as {{ dbt.type_string() }}) as identifier_type,
                cast('{{ other_type }}' as {{ dbt.type_string() }}) as other_type,
                cast({{ threshold }} as {{ dbt.type_int() }}) as threshold
            union all
        {%- endfor %}
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as other_type,
        cast(null as {{ dbt.type_int() }}) as threshold
    where 1 = 0

),

hub_candidates as (

    -- For each value, how many distinct values of each other type share a record with it
    -- (only the pairs of types a hub threshold names: the others cannot make a hub).
    select
        carrier.identifier_type,
        carrier.match_key,
        hub_type_pairs.other_type,
        hub_type_pairs.threshold,
        count(distinct other.match_key) as other_values
    from computed_identifiers as carrier
    inner join hub_type_pairs
        on carrier.identifier_type = hub_type_pairs.identifier_type
    inner join identifiers as other
        on
            carrier.source = other.source
            and carrier.record_key = other.record_key
            and hub_type_pairs.other_type = other.identifier_type
    group by
        carrier.identifier_type,
        carrier.match_key,
        hub_type_pairs.other_type,
        hub_type_pairs.threshold

),

hubs as (

    select
        identifier_type,
        match_key,
        'hub' as block_rule,
        min(
            'shared by ' || cast(other_values as {{ dbt.type_string() }}) || ' distinct '
            || other_type || ' values (threshold ' || cast(threshold as {{ dbt.type_string() }}) || ')'
        ) as block_reason
    from hub_candidates
    where other_values > threshold
    group by identifier_type, match_key

),

blocked as (

    -- A value on the blocklist is reported as such even when it is also a hub.
    select * from listed
    union all
    select hubs.*
    from hubs
    left join listed
        on
            hubs.identifier_type = listed.identifier_type
            and hubs.match_key = listed.match_key
    where listed.match_key is null

),

described as (

    select
        identifier_values.identifier_type,
        identifier_values.match_key,
        {{ onefold.node_id("'i|' || identifier_values.identifier_type || '|' || identifier_values.match_key") }} as node_id,
        identifier_values.normalized_value,
        identifier_values.records_touched,
        identifier_values.has_hashed_observations,
        identifier_values.first_observed_at,
        identifier_values.last_observed_at,
        blocked.block_rule,
        blocked.block_reason,
        {{ onefold.identity_run_started() }} as computed_at
    from identifier_values
    left join blocked
        on
            identifier_values.identifier_type = blocked.identifier_type
            and identifier_values.match_key = blocked.match_key

)

select * from described
