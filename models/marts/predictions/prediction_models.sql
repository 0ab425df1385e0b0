{#-
    The trained predictive models, one row per model and version (docs/predictions.md):
    `onefold train` appends a version, customer_predictions scores with the newest one.
    dbt only creates the table (no rows) and keeps it: it survives --full-refresh, as
    the record of what each score was computed with. Parameters are population-level
    numbers (coefficients, trees, BG/NBD and Gamma-Gamma parameters): no row holds a
    person's data.
-#}
{{ config(
    alias=onefold.mart_alias(),
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    on_schema_change='fail',
) }}

select
    cast(null as {{ dbt.type_string() }}) as model_name,
    cast(null as {{ dbt.type_int() }}) as model_version,
    cast(null as {{ dbt.type_timestamp() }}) as trained_at,
    cast(null as date) as training_cutoff,
    cast(null as date) as holdout_cutoff,
    cast(null as {{ dbt.type_string() }}) as algorithm,
    cast(null as {{ dbt.type_string() }}) as parameters,
    cast(null as {{ dbt.type_string() }}) as metrics,
    cast(null as {{ dbt.type_bigint() }}) as training_rows,
    cast(null as {{ dbt.type_bigint() }}) as holdout_rows,
    cast(null as {{ dbt.type_string() }}) as onefold_version
where false
