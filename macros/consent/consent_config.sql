{#-
    Country of a jurisdiction code as consent platforms write it: 'EU-DE' and 'EEA-NO'
    name the member state, 'US-CA' a state of the US, 'UK' is GB, a bare code is a
    country.
-#}
{% macro jurisdiction_country(jurisdiction) -%}
    case
        when upper(trim({{ jurisdiction }})) = 'UK' then 'GB'
        when {{ onefold.text_part('upper(trim(' ~ jurisdiction ~ '))', "'-'", 1) }} in ('EU', 'EEA')
            then {{ onefold.text_part('upper(trim(' ~ jurisdiction ~ '))', "'-'", 2) }}
        else {{ onefold.text_part('upper(trim(' ~ jurisdiction ~ '))', "'-'", 1) }}
    end
{%- endmacro %}


{#-
    onefold__consent_purposes as rows (purpose, granted by default under opt_in, under
    opt_out, denied by GPC), checked: a typo in the config fails the build naming it.
-#}
{% macro consent_purpose_rows() -%}
    {%- set purposes = var('onefold__consent_purposes') -%}
    {%- if purposes is not mapping or purposes | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "onefold__consent_purposes must map each purpose to its defaults, e.g. "
            ~ "email_marketing: {opt_in: denied, opt_out: granted, denied_by_gpc: false}") }}
    {%- endif -%}
    {%- for purpose, defaults in purposes.items() %}
        {%- for regime in ['opt_in', 'opt_out'] %}
            {%- if defaults.get(regime) not in ['granted', 'denied'] -%}
                {{ exceptions.raise_compiler_error(
                    "onefold__consent_purposes." ~ purpose ~ "." ~ regime ~ " must be granted or denied, "
                    ~ "not " ~ defaults.get(regime)) }}
            {%- endif -%}
        {%- endfor %}
        select
            cast('{{ purpose }}' as {{ dbt.type_string() }}) as purpose,
            {{ 'true' if defaults.opt_in == 'granted' else 'false' }} as is_granted_under_opt_in,
            {{ 'true' if defaults.opt_out == 'granted' else 'false' }} as is_granted_under_opt_out,
            {{ 'true' if defaults.get('denied_by_gpc') else 'false' }} as is_denied_by_gpc
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}


{#-
    Consent of every customer and purpose at a point in time, from consent_history:
        select * from {{ onefold.consent_as_of("cast('2026-06-01' as timestamp)") }} as consent
        where consent.purpose = 'email_marketing'
    No row means the customer was not yet observed at that time.
-#}
{% macro consent_as_of(as_of, history_relation=none) -%}
    (
        select
            customer_id,
            purpose,
            is_granted,
            basis,
            signal_type,
            source_signal_id,
            valid_from,
            valid_to
        from {{ history_relation or ref('consent_history') }}
        where
            valid_from <= {{ as_of }}
            and (valid_to is null or valid_to > {{ as_of }})
    )
{%- endmacro %}
