{#-
    A view, like erasure_requests_status: live between dbt runs, since `onefold erase`
    and `onefold train` write between them. One row per model: its newest version and
    whether an erasure has run since it was trained. The parameters hold no personal
    data, but a model fitted on a person's history still reflects it: such a model is
    flagged for retraining (docs/predictions.md, "Erasure").
-#}
{{ config(materialized='view', alias=onefold.mart_alias()) }}

with

models as (

    select * from {{ ref('prediction_models') }}

),

newest as (

    select
        model_name,
        max(model_version) as model_version
    from models
    group by model_name

),
{%- if var('onefold__privacy_enabled') %}

    receipts as (

        select * from {{ source('onefold_privacy', 'erasure_receipts') }}

    ),
{%- endif %}

status as (

    select
        models.model_name,
        models.model_version,
        models.algorithm,
        models.trained_at,
        models.training_cutoff,
        {%- if var('onefold__privacy_enabled') %}
            (
                select count(*) from receipts
                where
                    receipts.started_at > models.trained_at
                    and receipts.status != 'rejected'
            ) as erasures_since_training
        {%- else %}
        cast(0 as {{ dbt.type_bigint() }}) as erasures_since_training
        {%- endif %}
    from models
    inner join newest
        on
            models.model_name = newest.model_name
            and models.model_version = newest.model_version

)

select
    model_name,
    model_version,
    algorithm,
    trained_at,
    training_cutoff,
    erasures_since_training,
    erasures_since_training > 0 as needs_retraining
from status
