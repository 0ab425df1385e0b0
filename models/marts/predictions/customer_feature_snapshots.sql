{#-
    One row per customer and cutoff: the features as they stood at the cutoff and what
    happened in the horizon after it, at three cutoffs (validation, training, holdout)
    one horizon apart, the holdout's horizon ending today (docs/predictions.md). Empty
    while onefold__predictions is off. `onefold train` reads it.
-#}
{{ config(alias=onefold.mart_alias()) }}

{{ onefold.customer_features(onefold.prediction_training_cutoffs(), with_labels=true) }}
