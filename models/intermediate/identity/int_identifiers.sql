with

normalized as (

    select * from {{ ref('int_identifiers_normalized') }}
    where rejection_reason is null

),

deduplicated as (

    -- One row per record, identifier and value; the latest sighting is kept.
    select
        source,
        record_key,
        identifier_type,
        normalized_value,
        match_key,
        is_prehashed,
        max(observed_at) as observed_at
    from normalized
    group by source, record_key, identifier_type, normalized_value, match_key, is_prehashed

)

select * from deduplicated
