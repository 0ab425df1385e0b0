{#-
    The staged records whose identifiers this run reads again (docs/identity.md,
    "Incremental runs"): one row per (source, record key) that is new, changed (its load
    time differs from the one int_identity_records_loaded kept, either way, so a
    back-dated delivery or a newest delivery deleted upstream count too), or gone
    (deleted upstream, suppressed by an erasure). Every record when the input
    fingerprint (configuration, declarations, calling codes, blocklist) changed, when a
    model declares no loaded_at column (then its records are read every run), and on a
    whole rebuild (first build, --full-refresh).
-#}
{{ onefold.identity_model_dependencies() }}
-- depends_on: {{ ref('country_calling_codes') }}
-- depends_on: {{ ref('identity_blocklist') }}
{%- set declarations = onefold.identifier_declarations() %}
{%- set loaded_at_models = [] %}
{%- for input in onefold.downstream_loaded_inputs() if input.has_loaded_at %}
    {%- do loaded_at_models.append(input.name) %}
{%- endfor %}
{%- set previous = onefold.identity_state_relation('int_identity_records_loaded') %}
{%- set scoped = not onefold.identity_full_rebuild() %}

with

staged as (

    {%- for declaration in declarations %}

        select
            '{{ declaration.source }}' as source,
            cast({{ declaration.record_key }} as {{ dbt.type_string() }}) as record_key,
            {%- if declaration.model in loaded_at_models %}
                cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at,
            {%- else %}
                cast(null as {{ dbt.type_timestamp() }}) as loaded_at,
            {%- endif %}
            cast({{ declaration.observed_at }} as {{ dbt.type_timestamp() }}) as observed_at
        from {{ declaration.relation }}

        union all
    {%- endfor %}

    -- Keeps the union well-formed while dbt parses; contributes no rows.
    select
        cast(null as {{ dbt.type_string() }}) as source,
        cast(null as {{ dbt.type_string() }}) as record_key,
        cast(null as {{ dbt.type_timestamp() }}) as loaded_at,
        cast(null as {{ dbt.type_timestamp() }}) as observed_at
    where 1 = 0

),

fingerprint as (

    select {{ onefold.identity_input_fingerprint() }} as input_fingerprint

),

-- noqa: disable=LT02
{%- if scoped %}

previous as (

    select * from {{ previous }}

),

compared as (

    select
        coalesce(staged.source, previous.source) as source,
        coalesce(staged.record_key, previous.record_key) as record_key,
        staged.loaded_at,
        staged.observed_at,
        staged.record_key is null as is_gone
    from staged
    full outer join previous
        on
            staged.source = previous.source
            and staged.record_key = previous.record_key
    where
        staged.record_key is null
        or previous.record_key is null
        or staged.loaded_at is null
        or staged.loaded_at != previous.loaded_at
        or previous.input_fingerprint != (select fingerprint.input_fingerprint from fingerprint)

),
{%- else %}

compared as (

    select
        source,
        record_key,
        loaded_at,
        observed_at,
        false as is_gone
    from staged

),
{%- endif %}
-- noqa: enable=LT02

changed as (

    select
        compared.source,
        compared.record_key,
        {{ onefold.node_id("'r|' || compared.source || '|' || compared.record_key") }} as record_node_id,
        compared.loaded_at,
        compared.observed_at,
        compared.is_gone,
        fingerprint.input_fingerprint
    from compared
    cross join fingerprint

)

select * from changed
