{#- "Now" for recency traits: the var onefold__now when set (reproducible runs), else today. -#}
{% macro reporting_now() -%}
    {%- if var('onefold__now') -%}
        cast('{{ var("onefold__now") }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast(current_date as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}


{#-
    The start of the lookback window of an incremental event model: the newest load
    already in the table (never later than now, so a load time in the future cannot
    stall the window) minus onefold__incremental_lookback_days.
-#}
{% macro incremental_lookback_start(this_column='loaded_at') -%}
    (
        select {{ dbt.dateadd(
            'day', -1 * var('onefold__incremental_lookback_days'),
            'least(max(' ~ this_column ~ '), ' ~ onefold.utc_now() ~ ')') }}
        from {{ this }}
    )
{%- endmacro %}


{#-
    The staged rows an incremental event model must (re)process: on a full build every
    row; incrementally every row loaded within the lookback window, plus every row whose
    (record key, load time) is not in the table yet, however late it was loaded (one
    anti-join on the table's source and record_key, so no late row is ever skipped and a
    newer version of a record replaces the old one). `staged` is the relation,
    `key_column` its record key, `source_name` the table's `source` value for it.
-#}
{% macro unprocessed_rows(staged, key_column, source_name) -%}
    select staged.*
    from {{ staged }} as staged
    {%- if is_incremental() %}
    left join {{ this }} as processed
        on
            processed.source = '{{ source_name }}'
            and staged.{{ key_column }} = processed.record_key
            and staged.loaded_at = processed.loaded_at
    where
        processed.record_key is null
        or staged.loaded_at >= {{ onefold.incremental_lookback_start() }}
    {%- endif %}
{%- endmacro %}
