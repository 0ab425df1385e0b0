{#-
    One row per staged record of every identity source (the models that declare
    identifiers), whether or not it carries a usable identifier: the population the
    identity graph is responsible for. Records without any usable identifier (a walk-in
    sale, a junk-only event) are here but get no customer. A view over the incremental
    state int_identity_records_loaded, which keeps exactly these records.
-#}
{{ config(materialized='view') }}

with

loaded as (

    select * from {{ ref('int_identity_records_loaded') }}

),

source_records as (

    select
        source,
        record_key,
        observed_at
    from loaded

)

select * from source_records
