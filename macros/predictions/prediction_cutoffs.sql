{#-
    The day after "now" (onefold__now, else today): features as of it see all of today.
    The snapshots' cutoffs step back from it by the horizon: the holdout's labels fill
    the last horizon, the training snapshot's the one before, the validation snapshot's
    (which chooses between candidate models) the one before that.
-#}
{% macro prediction_scoring_date() -%}
    cast({{ dbt.dateadd('day', 1, 'cast(' ~ onefold.reporting_now() ~ ' as date)') }} as date)
{%- endmacro %}


{#- A select of the snapshots' `cutoff_date`s: validation, training, then holdout
    (none when predictions are off). -#}
{% macro prediction_training_cutoffs() -%}
    {%- set config = onefold.prediction_config() -%}
    {%- if config.enabled -%}
        {%- for back in [3 * config.horizon_days, 2 * config.horizon_days, config.horizon_days] %}
            select cast({{ dbt.dateadd('day', -1 * back, onefold.prediction_scoring_date()) }} as date) as cutoff_date
            {% if not loop.last %}union all{% endif %}
        {%- endfor -%}
    {%- else -%}
        select cast(null as date) as cutoff_date where false
    {%- endif -%}
{%- endmacro %}
