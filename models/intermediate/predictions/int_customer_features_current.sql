{#- Every active customer's features as of now, for scoring (customer_predictions);
    empty while onefold__predictions is off. -#}
{%- set cutoffs -%}
    {%- if onefold.predictions_enabled() -%}
        select {{ onefold.prediction_scoring_date() }} as cutoff_date
    {%- else -%}
        select cast(null as date) as cutoff_date where false
    {%- endif -%}
{%- endset %}

{{ onefold.customer_features(cutoffs) }}
