{#-
    Incremental downstream (docs/profiles.md, "Incremental runs"): the per-customer
    models (golden attributes, traits, consent) recompute only the customers listed in
    int_customers_affected. Each such model is incremental; before it inserts the
    recomputed rows, its pre-hook deletes every row of those customers (so customers
    that ceased to exist lose their rows), and its SQL reads its inputs through
    onefold.affected_customers_only().
-#}

{#- The model int_downstream_state as a relation, or none when it was never built. It
    is read without ref(): it depends on every incremental downstream model, so a ref
    from int_customers_affected would be a cycle. -#}
{% macro downstream_state_relation() -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == 'int_downstream_state' and node.package_name == onefold.package_name() -%}
        {{ return(adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias)) }}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}


{#- Pre-hook of an incremental downstream model: delete the rows of the affected
    customers. Nothing on a full build. -#}
{% macro delete_affected_customers(customer_column='customer_id') -%}
    {%- if this is not none and is_incremental() -%}
        delete from {{ this }}
        where {{ customer_column }} in (select affected.customer_id from {{ ref('int_customers_affected') }} as affected)
    {%- endif -%}
{%- endmacro %}


{#- A filter on `customer_column`: only affected customers on an incremental run,
    every customer on a full build. -#}
{% macro affected_customers_only(customer_column) -%}
    {%- if this is not none and is_incremental() -%}
        {{ customer_column }} in (select affected.customer_id from {{ ref('int_customers_affected') }} as affected)
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
