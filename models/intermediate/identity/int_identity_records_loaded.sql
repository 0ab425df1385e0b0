{#-
    One row per staged record of every identity source (the models that declare
    identifiers), whether or not it carries a usable identifier: its load time and the
    input fingerprint it was read under, which the next run's
    int_identity_records_changed compares against (docs/identity.md, "Incremental
    runs"). Rewritten for the run's changed records; written last, after the identity
    marts, so a run that fails earlier leaves the previous state and the next run reads
    at least the same records again. saved_at is the run that wrote the row.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    unique_key=['source', 'record_key'],
    on_schema_change='fail',
    pre_hook="{{ onefold.identity_records_delete() }}",
) }}
-- depends_on: {{ ref('int_identity_records_fingerprinted') }}
-- depends_on: {{ ref('identity_map') }}
-- depends_on: {{ ref('identity_edges') }}

with

changed as (

    select * from {{ ref('int_identity_records_changed') }}
    where not is_gone

),

loaded as (

    select
        source,
        record_key,
        loaded_at,
        observed_at,
        input_fingerprint,
        {{ onefold.identity_run_started() }} as saved_at
    from changed

)

select * from loaded
