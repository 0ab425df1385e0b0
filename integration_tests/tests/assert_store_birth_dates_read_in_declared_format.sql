-- The store signups' name + birth date + postcode key reads birth dates as dd/mm/yyyy
-- (the date normalizer's declared format): each signup has exactly the expected key, and
-- an impossible date or a date in another format is rejected, not guessed.
with

expected as (

    select * from {{ ref('expected_store_birth_date_keys') }}

),

normalized as (

    select * from {{ ref('onefold', 'int_identifiers_normalized') }}
    where source = 'store_signups' and identifier_type = 'name_birth_date_postcode'

),

compared as (

    select
        expected.record_key,
        expected.normalized_value as expected_value,
        normalized.normalized_value,
        normalized.rejection_reason,
        normalized.record_key is not null as is_observed
    from expected
    left join normalized
        on expected.record_key = normalized.record_key

)

select * from compared
where
    not is_observed
    or (expected_value is null and (normalized_value is not null or rejection_reason is null))
    or (expected_value is not null and (normalized_value is null or normalized_value <> expected_value))
