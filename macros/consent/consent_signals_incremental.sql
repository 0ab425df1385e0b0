{#-
    Incremental int_consent_signals (docs/profiles.md, "Incremental runs"). Staged
    consent and email rows are assumed to arrive with increasing loaded_at per source,
    as elsewhere downstream.
-#}

{#- The newest load time among the stored signals from `loaded_from`. -#}
{% macro consent_signals_loaded_mark(loaded_from) -%}
    coalesce(
        (select max(stored.loaded_at) from {{ this }} as stored where stored.loaded_from = '{{ loaded_from }}'),
        cast('1900-01-01' as {{ dbt.type_timestamp() }})
    )
{%- endmacro %}


{#- Pre-hook of int_consent_signals: every row when the run is not partial; else the
    signals whose staged row is gone or was loaded again since (it is computed again):
    those not among the staged rows loaded up to the newest stored load. A GPC
    signal's id is its event's id + ':gpc:' + purpose. -#}
{% macro delete_stale_consent_signals() -%}
    {%- if this is not none and is_incremental() -%}
        delete from {{ this }}
        {%- if onefold.downstream_partial_run() %}
            where
                {%- for loaded_from, model, key in [
                    ('consent_events', 'stg_consent__events', 'consent_event_id'),
                    ('email_events', 'stg_email__events', 'email_event_id')] %}
                    {%- set stored_key = dbt.split_part('signal_id', "':gpc:'", 1) if loaded_from == 'consent_events' else 'signal_id' %}
                    {%- if not loop.first %} or{% endif %}
                    {%- if onefold.source_enabled(loaded_from.split('_')[0]) %}
                        (
                            loaded_from = '{{ loaded_from }}'
                            and {{ stored_key }} not in (
                                select staged.{{ key }} from {{ ref(model) }} as staged
                                where
                                    staged.{{ key }} is not null
                                    and staged.loaded_at <= {{ onefold.consent_signals_loaded_mark(loaded_from) }}
                            )
                        )
                    {%- else %}
                        loaded_from = '{{ loaded_from }}'
                    {%- endif %}
                {%- endfor %}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
