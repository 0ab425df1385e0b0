{#-
    Scoring in SQL with the models `onefold train` stored in prediction_models: each
    model's parameters are read when customer_predictions compiles and written into its
    SQL, so a build scores every customer without Python (docs/predictions.md). The
    Python side (onefold.predictions) computes the same numbers from the same
    parameters; python/tests/test_predictions_e2e.py holds them equal to 1e-6.
-#}

{#- The model names `onefold train` stores, besides `lookalike__<segment>`. -#}
{% macro prediction_model_names() %}
    {{ return(['clv_365d', 'purchase_30d', 'churn_90d', 'top_products']) }}
{% endmacro %}


{#- {model_name: {version, algorithm, parameters}} of the newest version of each
    model in prediction_models; empty before the first `onefold train`, at parse time
    and while predictions are off. -#}
{% macro newest_prediction_models() %}
    {%- set found = {} -%}
    {%- if not execute or not onefold.predictions_enabled() -%}
        {{ return(found) }}
    {%- endif -%}
    {%- set stored = load_relation(ref('prediction_models')) -%}
    {%- if stored is none -%}
        {{ return(found) }}
    {%- endif -%}
    {%- set rows = run_query(
        "select model_name, model_version, algorithm, parameters from " ~ stored ~ " as models "
        ~ "where model_version = (select max(newer.model_version) from " ~ stored ~ " as newer "
        ~ "where newer.model_name = models.model_name)"
    ) -%}
    {%- for row in rows.rows if row[0] in onefold.prediction_model_names() or row[0].startswith('lookalike__') -%}
        {%- set where = "prediction_models (" ~ stored ~ ") model " ~ row[0] ~ " version " ~ row[1] -%}
        {%- set parameters = fromjson(row[3] or 'null') -%}
        {%- if parameters is not mapping -%}
            {{ exceptions.raise_compiler_error(where ~ ": parameters are not a JSON object. Train again with `onefold train`.") }}
        {%- endif -%}
        {%- do found.update({row[0]: {'version': row[1] | int, 'algorithm': row[2], 'parameters': parameters}}) -%}
    {%- endfor -%}
    {{ return(found) }}
{% endmacro %}


{#- A trained number as an exact double: its shortest decimal text, cast (a bare
    literal would be a DECIMAL of limited width on DuckDB). -#}
{% macro float_literal(value) -%}
    cast('{{ value }}' as {{ onefold.type_double() }})
{%- endmacro %}


{#- A feature as a model reads it: null filled with the value training used. -#}
{% macro prediction_feature_sql(name, parameters) -%}
    {%- set fill = parameters.get('fill', {}).get(name) -%}
    {%- if fill is none -%}
        cast({{ name }} as {{ onefold.type_double() }})
    {%- else -%}
        coalesce(cast({{ name }} as {{ onefold.type_double() }}), {{ onefold.float_literal(fill) }})
    {%- endif -%}
{%- endmacro %}


{#- The logistic function of a log-odds expression; exp's argument is clipped where
    the probability is 0 or 1 to double precision anyway (PostgreSQL's exp raises on
    overflow, DuckDB's returns inf). -#}
{% macro logistic_sql(log_odds) -%}
    1 / (1 + exp(least(greatest(-({{ log_odds }}), -700), 700)))
{%- endmacro %}


{#- The probability a classifier gives, as a SQL expression over the feature columns. -#}
{% macro classifier_probability_sql(model) -%}
    {%- set parameters = model.parameters -%}
    {%- if model.algorithm == 'logistic_regression' -%}
        {%- set terms = [onefold.float_literal(parameters.intercept)] -%}
        {%- for name in parameters.features -%}
            {%- do terms.append(onefold.float_literal(parameters.coefficients[loop.index0]) ~ ' * (('
                ~ onefold.prediction_feature_sql(name, parameters) ~ ' - ' ~ onefold.float_literal(parameters.means[loop.index0])
                ~ ') / ' ~ onefold.float_literal(parameters.scales[loop.index0]) ~ ')') -%}
        {%- endfor -%}
        {{ onefold.logistic_sql(terms | join('\n            + ')) }}
    {%- elif model.algorithm == 'gradient_boosting' -%}
        {%- set trees = [] -%}
        {%- for tree in parameters.trees -%}
            {%- do trees.append(onefold.tree_sql(tree, 0, parameters)) -%}
        {%- endfor -%}
        {{ onefold.logistic_sql(onefold.float_literal(parameters.init) ~ ' + ' ~ onefold.float_literal(parameters.learning_rate)
            ~ ' * (' ~ (trees | join('\n            + ')) ~ ')') }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("prediction_models: model version " ~ model.version ~ " has algorithm '"
            ~ model.algorithm ~ "'; this Onefold scores logistic_regression and gradient_boosting.") }}
    {%- endif -%}
{%- endmacro %}


{#- One regression tree from `node` down, as nested CASEs. The split compares the
    feature as single precision, as scikit-learn's trees do. -#}
{% macro tree_sql(tree, node, parameters) -%}
    {%- if tree.left[node] < 0 -%}
        {{ onefold.float_literal(tree.value[node]) }}
    {%- else -%}
        case when cast({{ onefold.prediction_feature_sql(parameters.features[tree.feature[node]], parameters) }} as real)
            <= {{ onefold.float_literal(tree.threshold[node]) }}
            then {{ onefold.tree_sql(tree, tree.left[node], parameters) }}
            else {{ onefold.tree_sql(tree, tree.right[node], parameters) }} end
    {%- endif -%}
{%- endmacro %}


{#- A select of the whole numbers 0 … count - 1 as `n`. -#}
{% macro whole_numbers(count) -%}
    {{ return(adapter.dispatch('whole_numbers', 'onefold')(count)) }}
{%- endmacro %}

{% macro default__whole_numbers(count) -%}
    select numbers.n from generate_series(0, {{ count - 1 }}) as numbers (n)
{%- endmacro %}
