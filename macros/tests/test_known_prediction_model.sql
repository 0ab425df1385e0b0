{#- Model names `onefold train` stores: the fixed ones and `lookalike__<segment>`. -#}
{% test known_prediction_model(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where
        {{ column_name }} not in ({{ onefold.sql_text_list(onefold.prediction_model_names()) }})
        and substr({{ column_name }}, 1, 11) <> 'lookalike__'
{% endtest %}
