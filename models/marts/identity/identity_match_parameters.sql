{#-
    The probabilistic matching model's parameters, one set per training (docs/identity.md,
    "Probabilistic matching"): per field and comparison level, m (the share of one
    person's record pairs at that level) and u (the share of unrelated pairs), their
    match weight log2(m/u), and the prior: the chance that two records picked at random
    are one person.

    A set is trained when none exists for the current declaration (its fingerprint), or
    when var onefold__match_retrain is true; every other run reuses the newest set for
    the declaration, so daily runs score pairs the same way. The table keeps every set
    and survives --full-refresh: it is the record of what each run's links were scored
    with. A training over no blocked pairs stores nothing.
-#}
{{ config(
    alias=onefold.mart_alias(),
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    on_schema_change='fail',
) }}
-- depends_on: {{ ref('int_match_pairs') }}
-- depends_on: {{ ref('name_aliases') }}
-- depends_on: {{ ref('int_match_records') }}
{%- set matching = onefold.match_config() %}
{%- set fingerprint = onefold.match_config_fingerprint() %}
{%- set train = namespace(needed=false) %}
{%- if execute and matching.enabled and flags.WHICH in ['run', 'build'] %}
    {%- if not is_incremental() or var('onefold__match_retrain') is true %}
        {%- set train.needed = true %}
    {%- else %}
        {%- set stored = run_query("select count(*) from " ~ this ~ " where config_fingerprint = '" ~ fingerprint ~ "'") %}
        {%- set train.needed = (stored.columns[0].values()[0] | int) == 0 %}
    {%- endif %}
{%- endif %}
{%- if train.needed %}
    {%- set trained = onefold.train_match_parameters(
        matching, ref('int_match_pairs'), ref('int_match_records'), this.identifier) %}
{%- endif %}

with

trained as (

    {%- if train.needed %}
        select * from {{ trained }}
    {%- else %}
        -- No training this run: the stored sets stay as they are.
        select
            cast(null as {{ dbt.type_string() }}) as field_name,
            cast(null as {{ dbt.type_int() }}) as level,
            cast(null as {{ dbt.type_string() }}) as level_label,
            cast(null as {{ onefold.type_double() }}) as m_probability,
            cast(null as {{ onefold.type_double() }}) as u_probability,
            cast(null as {{ onefold.type_double() }}) as prior_match_probability,
            cast(null as {{ dbt.type_int() }}) as em_iterations,
            cast(null as {{ dbt.type_bigint() }}) as pairs_trained,
            cast(null as {{ dbt.type_bigint() }}) as u_pairs_sampled
        where 1 = 0
    {%- endif %}

),

described as (

    select
        cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as training_id,
        {{ onefold.identity_run_started() }} as trained_at,
        cast('{{ fingerprint }}' as {{ dbt.type_string() }}) as config_fingerprint,
        cast(field_name as {{ dbt.type_string() }}) as field_name,
        cast(level as {{ dbt.type_int() }}) as level,
        cast(level_label as {{ dbt.type_string() }}) as level_label,
        cast(m_probability as {{ onefold.type_double() }}) as m_probability,
        cast(u_probability as {{ onefold.type_double() }}) as u_probability,
        cast(ln(m_probability / u_probability) / ln(2) as {{ onefold.type_double() }}) as match_weight,
        cast(prior_match_probability as {{ onefold.type_double() }}) as prior_match_probability,
        cast(em_iterations as {{ dbt.type_int() }}) as em_iterations,
        cast(pairs_trained as {{ dbt.type_bigint() }}) as pairs_trained,
        cast(u_pairs_sampled as {{ dbt.type_bigint() }}) as u_pairs_sampled
    from trained

)

select * from described
