{#- This project's own postcode normalizer (onefold__composite_keys names it with
    `{macro: normalize_postcode_compact, package: onefold_integration_tests}`; Onefold
    finds it by adapter.dispatch): upper case, letters and digits only, null when empty. -#}
{% macro default__normalize_postcode_compact(value) -%}
    nullif(upper(regexp_replace({{ value }}, '[^A-Za-z0-9]', '', 'g')), '')
{%- endmacro %}
