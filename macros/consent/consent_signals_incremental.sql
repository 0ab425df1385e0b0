{#-
    Incremental int_consent_signals (docs/profiles.md, "Incremental runs").
-#}

{#- Pre-hook of int_consent_signals: every row unless the run is partial
    (downstream_partial_run), else the signals whose staged row is gone or was loaded
    again (no staged row with the same key and load time; the model computes the new
    version). A GPC signal's id is its event's id + ':gpc:' + purpose. -#}
{% macro delete_stale_consent_signals() -%}
    {%- if this is not none and is_incremental() -%}
        delete from {{ this }} as stale
        {%- if onefold.downstream_partial_run() %}
            where
                {%- for loaded_from, model, key in [
                    ('consent_events', 'stg_consent__events', 'consent_event_id'),
                    ('email_events', 'stg_email__events', 'email_event_id')] %}
                    {%- set stored_key = onefold.text_part('stale.signal_id', "':gpc:'", 1) if loaded_from == 'consent_events' else 'stale.signal_id' %}
                    {%- if not loop.first %} or{% endif %}
                    (
                        stale.loaded_from = '{{ loaded_from }}'
                        {%- if onefold.source_enabled(loaded_from.split('_')[0]) %}
                            and not exists (
                                select 1 from {{ ref(model) }} as staged
                                where
                                    staged.{{ key }} = {{ stored_key }}
                                    and staged.loaded_at = stale.loaded_at
                            )
                        {%- endif %}
                    )
                {%- endfor %}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
