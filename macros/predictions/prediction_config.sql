{#-
    Predictive traits (docs/predictions.md): features as of a cutoff, in SQL
    (customer_features), models trained by `onefold train` into prediction_models, and
    scored in SQL by customer_predictions.
-#}

{#- The validated declaration, with defaults; a compiler error naming what is wrong. -#}
{% macro prediction_config() %}
    {%- set declared = var('onefold__predictions', {}) or {} -%}
    {%- set where = 'var onefold__predictions' -%}
    {%- if declared is not mapping -%}
        {{ exceptions.raise_compiler_error(where ~ " must be a mapping (enabled, horizon_days, purpose).") }}
    {%- endif -%}
    {%- set config = onefold.prediction_defaults() -%}
    {%- for key in declared if key not in config -%}
        {{ exceptions.raise_compiler_error(where ~ ": unknown key '" ~ key ~ "'; known: " ~ (config.keys() | join(', '))) }}
    {%- endfor -%}
    {%- do config.update(declared) -%}
    {%- if config.enabled is not boolean -%}
        {{ exceptions.raise_compiler_error(where ~ ".enabled must be true or false, got '" ~ config.enabled ~ "'.") }}
    {%- endif -%}
    {#- The churn label looks 90 days ahead, so the label window is at least that long. -#}
    {%- if config.horizon_days is not number or config.horizon_days != (config.horizon_days | int)
        or config.horizon_days < 90 -%}
        {{ exceptions.raise_compiler_error(where ~ ".horizon_days must be a whole number of days, at least 90 "
            ~ "(the churn label's window), got '" ~ config.horizon_days ~ "'.") }}
    {%- endif -%}
    {%- if config.purpose not in var('onefold__consent_purposes') -%}
        {{ exceptions.raise_compiler_error(where ~ ".purpose '" ~ config.purpose ~ "' is not a key of "
            ~ "onefold__consent_purposes (" ~ (var('onefold__consent_purposes').keys() | join(', ')) ~ ").") }}
    {%- endif -%}
    {{ return(config) }}
{% endmacro %}


{#- What a key left out of the var means (docs/predictions.md). -#}
{% macro prediction_defaults() %}
    {{ return({
        'enabled': false,
        'horizon_days': 90,
        'purpose': 'analytics',
    }) }}
{% endmacro %}


{#- True when the build computes feature snapshots and scores customers. -#}
{% macro predictions_enabled() %}
    {{ return(onefold.prediction_config().enabled is true) }}
{% endmacro %}
