{#- A mart's table name: its model name behind the var onefold__mart_alias_prefix, so a
    project that installs Onefold and has its own `customers` can keep both. Every mart
    calls it in its config(); everything that reads a mart resolves it by ref() or through
    the manifest, never by name. -#}
{% macro mart_alias() %}
    {{ return(var('onefold__mart_alias_prefix') ~ model.name) }}
{% endmacro %}
