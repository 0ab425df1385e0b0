{#-
    One row per staged record of every identity model: what the downstream models need
    from staging, read once per run (docs/profiles.md, "Incremental runs"). The model
    and source it came from, its record key, load time (null for a model without a
    loaded_at column), observation time, and one column per golden attribute it maps
    (`meta.onefold.attributes`, trimmed text; null when the model does not map it or
    the value is empty). int_downstream_watermarks takes the newest load per model
    from it, int_customers_affected the records loaded since the last run, and
    int_customer_attribute_candidates the attribute values.

    Incremental: a run adds the staged rows not stored yet with their load time (new
    records, new versions, however late; a model without loaded_at: all of them),
    replacing each record's row; its pre-hook deletes the records identity no longer has (deleted upstream or
    erased). A first build, --full-refresh or a changed configuration
    (onefold.downstream_config_fingerprint: the attributes and declarations decide the
    columns) reads everything.
-#}
{{ config(
    materialized=onefold.keyed_incremental(),
    unique_key=['source', 'record_key'],
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    pre_hook="{{ onefold.delete_gone_downstream_records() }}",
) }}
{{ onefold.identity_model_dependencies() }}
-- depends_on: {{ ref('customer_records') }}
{%- set attributes = var('onefold__golden_attributes') %}
{%- set inputs = onefold.downstream_loaded_inputs() %}
{%- set declarations = onefold.identifier_declarations() %}
{%- set partial = onefold.downstream_partial_run() %}

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
            {%- for attribute in attributes %}
                {%- set column = declaration.attributes.get(attribute) %}
                {%- if column %}
                    case
                        when trim(cast({{ column }} as {{ dbt.type_string() }})) != ''
                            then trim(cast({{ column }} as {{ dbt.type_string() }}))
                    end as {{ attribute }},
                {%- else %}
                    cast(null as {{ dbt.type_string() }}) as {{ attribute }},
                {%- endif %}
            {%- endfor %}
            cast({{ declaration.observed_at }} as {{ dbt.type_timestamp() }}) as observed_at
        from {{ declaration.relation }}{% if partial and has_loaded_at %} as staged{% endif %}
        {%- if partial and has_loaded_at %}
            where not exists (
                select 1 from {{ this }} as stored
                where
                    stored.source = '{{ declaration.source }}'
                    and stored.record_key = cast(staged.{{ declaration.record_key }} as {{ dbt.type_string() }})
                    and stored.loaded_at = cast(staged.loaded_at as {{ dbt.type_timestamp() }})
            )
        {%- endif %}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

)

select * from records
