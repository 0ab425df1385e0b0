{#- "Now" for recency traits: the var onefold__now when set (reproducible runs), else today. -#}
{% macro reporting_now() -%}
    {%- if var('onefold__now') -%}
        cast('{{ var("onefold__now") }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast(current_date as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}


{#-
    The incremental filter of the event models: rows loaded since the newest load
    already in the table, minus onefold__incremental_lookback_days for late arrivals.
    On a full build every row qualifies.
-#}
{% macro loaded_since_last_run(loaded_at_column='loaded_at', this_column='loaded_at') -%}
    {%- if not is_incremental() -%}
    true
    {%- else -%}
    {{ loaded_at_column }} >= (
        select {{ dbt.dateadd('day', -1 * var('onefold__incremental_lookback_days'), 'max(' ~ this_column ~ ')') }}
        from {{ this }}
    )
    {%- endif -%}
{%- endmacro %}
