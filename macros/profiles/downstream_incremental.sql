{#-
    Incremental downstream (docs/profiles.md, "Incremental runs"): the per-customer
    models (golden attributes, traits, consent) recompute only the customers listed in
    int_customers_affected. Each such model is incremental; before it inserts the
    recomputed rows, its pre-hook deletes every row of those customers (so customers
    that ceased to exist lose their rows), and its SQL reads its inputs through
    onefold.affected_customers_only().
-#}

{#- The package's model `name` as an existing relation, or none when it was never
    built. Read without ref(): int_downstream_state depends on every incremental
    downstream model, so a ref from int_customers_affected would be a cycle, and the
    downstream models only peek at int_downstream_watermarks. -#}
{% macro downstream_model_relation(name) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == name and node.package_name == onefold.package_name() -%}
        {{ return(adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias)) }}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}


{% macro downstream_state_relation() -%}
    {{ return(onefold.downstream_model_relation('int_downstream_state')) }}
{%- endmacro %}


{#- True when int_customers_affected was computed in this dbt invocation (its marks
    carry the invocation id). A downstream model run without it (`dbt run -s
    consent_history`) cannot trust a stale list and recomputes every customer. -#}
{% macro downstream_affected_is_current() -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set marks = onefold.downstream_model_relation('int_downstream_watermarks') -%}
    {%- if marks is none -%}{{ return(false) }}{%- endif -%}
    {%- set found = run_query("select count(*) from " ~ marks ~ " where state_kind = 'invocation' and state_key = '" ~ invocation_id ~ "'") -%}
    {{ return(found.rows[0][0] > 0) }}
{%- endmacro %}


{#- The customers an incremental downstream model recomputes, as a query of
    customer_id: int_customers_affected, or `scope` when given (a wider list, such as
    activation_audiences' onefold.audience_customers()). -#}
{% macro recomputed_customers(scope=none) -%}
    {%- if scope is none -%}
        select affected.customer_id from {{ ref('int_customers_affected') }} as affected
    {%- else -%}
        {{ scope }}
    {%- endif -%}
{%- endmacro %}


{#- True on an incremental run of the current model whose configuration is the one
    the last completed downstream run used (int_downstream_state's config mark): the
    models that keep rows per staged record (int_downstream_records,
    int_consent_signals) then process only what was loaded since. False on a first
    build, --full-refresh or a changed configuration: they process everything. -#}
{% macro downstream_partial_run() -%}
    {%- if not execute or this is none or not is_incremental() -%}{{ return(false) }}{%- endif -%}
    {%- set state = onefold.downstream_state_relation() -%}
    {%- if state is none -%}{{ return(false) }}{%- endif -%}
    {%- set found = run_query("select count(*) from " ~ state ~ " where state_kind = 'config' and state_key = '"
        ~ onefold.downstream_config_fingerprint() ~ "'") -%}
    {{ return(found.rows[0][0] > 0) }}
{%- endmacro %}


{#- Pre-hook of an incremental downstream model: delete the rows of the affected
    customers (every row when the list is not this run's). Nothing on a full build. -#}
{% macro delete_affected_customers(customer_column='customer_id', scope=none) -%}
    {%- if this is not none and is_incremental() -%}
        {{ onefold.delete_rows(this, customer_column ~ ' in (' ~ onefold.recomputed_customers(scope) ~ ')'
            if onefold.downstream_affected_is_current() else none) }}
    {%- endif -%}
{%- endmacro %}


{#- A filter on `customer_column`: only affected customers on an incremental run whose
    list is this run's, every customer otherwise. -#}
{% macro affected_customers_only(customer_column, scope=none) -%}
    {%- if this is not none and is_incremental() and onefold.downstream_affected_is_current() -%}
        {{ customer_column }} in ({{ onefold.recomputed_customers(scope) }})
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}


{#- A digest of everything besides the data that decides what the downstream models
    compute: the vars they read, the identity declarations (attribute columns,
    priorities) and the package's seeds. When it differs from the last run's, every
    customer is recomputed. -#}
{% macro downstream_config_fingerprint() -%}
    {%- set parts = [] -%}
    {%- for name in [
        'onefold__golden_attributes', 'onefold__identifier_types', 'onefold__composite_keys',
        'onefold__consent_purposes', 'onefold__consent_unknown_regime',
        'onefold__consent_conflict_policy', 'onefold__consent_email_signals',
        'onefold__cart_event_names', 'onefold__session_timeout_minutes',
        'onefold__reporting_currency', 'onefold__default_phone_calling_code',
        'onefold__web_enabled', 'onefold__shop_enabled', 'onefold__crm_enabled',
        'onefold__pos_enabled', 'onefold__email_enabled', 'onefold__consent_enabled'] -%}
        {%- do parts.append(name ~ '=' ~ tojson(var(name, none), sort_keys=true)) -%}
    {%- endfor -%}
    {%- for declaration in onefold.identifier_declarations() -%}
        {%- do parts.append(tojson(declaration, sort_keys=true)) -%}
    {%- endfor -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id') if node.resource_type == 'seed' and node.package_name == onefold.package_name() -%}
            {%- do parts.append(node.unique_id ~ '=' ~ node.checksum.checksum) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(local_md5(parts | join('\n'))) }}
{%- endmacro %}


{#- The identity models whose newly loaded rows make their records' customers
    affected: name, record label (source), relation, record key, and whether it has a
    loaded_at column (without one, every record of the model counts as changed). -#}
{% macro downstream_loaded_inputs() -%}
    {%- set inputs = [] -%}
    {%- if not execute -%}{{ return(inputs) }}{%- endif -%}
    {%- for declaration in onefold.identifier_declarations() -%}
        {%- set has_loaded_at = [] -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == declaration.model -%}
            {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
            {%- if relation is not none -%}
                {%- for column in adapter.get_columns_in_relation(relation) if column.name | lower == 'loaded_at' -%}
                    {%- do has_loaded_at.append(true) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do inputs.append({
            'name': declaration.model,
            'source': declaration.source,
            'relation': declaration.relation,
            'record_key': declaration.record_key,
            'has_loaded_at': has_loaded_at | length > 0,
        }) -%}
    {%- endfor -%}
    {{ return(inputs) }}
{%- endmacro %}


{#- The configuration of every per-customer incremental model, in one place: appended
    rows, a pre-hook that first deletes the recomputed customers' rows, and the
    dependency on int_customers_affected that the pre-hook and affected_customers_only()
    read. `scope_macro` names a package macro listing a wider set of customers than
    int_customers_affected (activation_audiences: audience_customers). Extra keyword
    arguments (alias) are passed on to config(). -#}
{% macro per_customer_incremental(scope_macro=none) -%}
    {%- set scope = '' if scope_macro is none else 'scope=onefold.' ~ scope_macro ~ '()' -%}
    {{- config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook='{{ onefold.delete_affected_customers(' ~ scope ~ ') }}',
        **kwargs) -}}
-- depends_on: {{ ref('int_customers_affected') }}
{%- endmacro %}


{#- Pre-hook of int_downstream_records: every row unless the run is partial
    (downstream_partial_run), else the rows of records customer_records no longer
    holds (deleted upstream, erased). -#}
{% macro delete_gone_downstream_records() -%}
    {%- if this is not none and is_incremental() -%}
        delete from {{ this }} as gone
        {%- if onefold.downstream_partial_run() %}
            where not exists (
                select 1 from {{ ref('customer_records') }} as kept
                where
                    kept.source = gone.source
                    and kept.record_key = gone.record_key
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
