{#-
    One row per staged record of every identity model: what the downstream models need
    from staging, read once per run (docs/profiles.md, "Incremental runs"). The model
    and source it came from, its record key, load time (null for a model without a
    loaded_at column), observation time, and one column per golden attribute it maps
    (`meta.onefold.attributes`, trimmed text; null when the model does not map it or
    the value is empty). int_downstream_watermarks takes the newest load per model
    from it, int_customers_affected the records loaded since the last run, and
    int_customer_attribute_candidates the attribute values.
-#}
{{ onefold.identity_model_dependencies() }}
{%- set attributes = var('onefold__golden_attributes') %}
{%- set inputs = onefold.downstream_loaded_inputs() %}
{%- set declarations = onefold.identifier_declarations() %}

with

records as (

    {%- for declaration in declarations %}
        {%- set has_loaded_at = [] %}
        {%- for input in inputs if input.name == declaration.model and input.has_loaded_at %}
            {%- do has_loaded_at.append(true) %}
        {%- endfor %}
        {%- for attribute in declaration.attributes if attribute not in attributes %}
            {{ exceptions.raise_compiler_error(
                "Model '" ~ declaration.model ~ "' maps column '" ~ declaration.attributes[attribute] ~ "' to attribute '"
                ~ attribute ~ "', which is not in onefold__golden_attributes.") }}
        {%- endfor %}

        select
            cast('{{ declaration.model }}' as {{ dbt.type_string() }}) as model_name,
            cast('{{ declaration.source }}' as {{ dbt.type_string() }}) as source,
            cast({{ declaration.record_key }} as {{ dbt.type_string() }}) as record_key,
            {%- if has_loaded_at %}
                cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at,
            {%- else %}
                cast(null as {{ dbt.type_timestamp() }}) as loaded_at,
            {%- endif %}
            cast({{ declaration.observed_at }} as {{ dbt.type_timestamp() }}) as observed_at
            {%- for attribute in attributes %},
                {%- if attribute in declaration.attributes %}
                    {%- set value = 'trim(cast(' ~ declaration.attributes[attribute] ~ ' as ' ~ dbt.type_string() ~ '))' %}
                    case when {{ value }} != '' then {{ value }} end as {{ attribute }}
                {%- else %}
                    cast(null as {{ dbt.type_string() }}) as {{ attribute }}
                {%- endif %}
            {%- endfor %}
        from {{ declaration.relation }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

)

select * from records
