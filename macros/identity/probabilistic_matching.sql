{#-
    Probabilistic record matching (docs/identity.md, "Probabilistic matching"): a
    Fellegi–Sunter model declared in the var onefold__probabilistic_matching.

    Records (int_match_records) carry a few fields, normalized. Blocking rules pair the
    records that agree on a rule's key (int_match_pairs); each field of a pair gets a
    comparison level, the first of the field's declared levels it meets, 0 when it meets
    none, null when either side is missing. identity_match_parameters estimates, per
    field and level, u (how often unrelated records meet it: random pairs) and m (how
    often records of one person do: expectation-maximisation over the blocked pairs),
    and the prior, the chance that two records picked at random are one person
    (macros/identity/match_training.sql). A pair's match weight is the log2
    prior odds plus log2(m/u) per field, where an exact match on a term-frequency field
    uses the frequency of its value for u; its probability is 2^w / (1 + 2^w).

    These macros hold the declaration and the one SQL rule per comparison; the models
    and explain read them.
-#}

{#- The validated declaration, with defaults; a compiler error naming what is wrong. -#}
{% macro match_config() %}
    {%- set declared = var('onefold__probabilistic_matching', {}) or {} -%}
    {%- set where = 'var onefold__probabilistic_matching' -%}
    {%- if declared is not mapping -%}
        {{ exceptions.raise_compiler_error(where ~ " must be a mapping (enabled, fields, blocking_rules, …).") }}
    {%- endif -%}
    {%- set known = onefold.match_defaults().keys() | list -%}
    {%- for key in declared if key not in known -%}
        {{ exceptions.raise_compiler_error(where ~ ": unknown key '" ~ key ~ "'; known: " ~ (known | join(', '))) }}
    {%- endfor -%}
    {%- set config = onefold.match_defaults() -%}
    {%- do config.update(declared) -%}
    {%- if 'fields' not in declared -%}
        {#- The default model keeps the fields this project has: a project without a
            city attribute or phone identifier compares the others. -#}
        {%- set available = {} -%}
        {%- for name, field in config.fields.items()
            if field.get('attribute') in var('onefold__golden_attributes')
            or field.get('identifier') in var('onefold__identifier_types') -%}
            {%- do available.update({name: field}) -%}
        {%- endfor -%}
        {%- do config.update({'fields': available}) -%}
        {%- if 'blocking_rules' not in declared -%}
            {%- set usable_rules = [] -%}
            {%- for rule in config.blocking_rules -%}
                {%- set missing = [] -%}
                {%- for part in rule if part.split(':')[0] not in available -%}
                    {%- do missing.append(part) -%}
                {%- endfor -%}
                {%- if not missing -%}{%- do usable_rules.append(rule) -%}{%- endif -%}
            {%- endfor -%}
            {%- do config.update({'blocking_rules': usable_rules}) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if config.match_probability is not number or config.match_probability <= 0 or config.match_probability >= 1 -%}
        {{ exceptions.raise_compiler_error(where ~ ".match_probability must be a number between 0 and 1 (exclusive), got '"
            ~ config.match_probability ~ "'.") }}
    {%- endif -%}
    {%- for key in ['min_fields', 'max_block_records', 'em_max_iterations', 'u_sample_offsets', 'guard_max_rounds'] -%}
        {%- if config[key] is not number or config[key] < 1 or config[key] != (config[key] | int) -%}
            {{ exceptions.raise_compiler_error(where ~ "." ~ key ~ " must be a whole number of at least 1, got '"
                ~ config[key] ~ "'.") }}
        {%- endif -%}
    {%- endfor -%}
    {%- if config.fields is not mapping or (config.enabled and config.fields | length == 0) -%}
        {{ exceptions.raise_compiler_error(where ~ ".fields must map field names to their declarations.") }}
    {%- endif -%}
    {%- set fields = {} -%}
    {%- for name, field in config.fields.items() -%}
        {%- do fields.update({name: onefold.match_field_config(name, field)}) -%}
    {%- endfor -%}
    {%- do config.update({'fields': fields}) -%}
    {%- if config.enabled and config.blocking_rules | length == 0 -%}
        {{ exceptions.raise_compiler_error(where ~ ".blocking_rules must list at least one rule.") }}
    {%- endif -%}
    {%- set rules = [] -%}
    {%- for rule in config.blocking_rules -%}
        {%- set parts = [] -%}
        {%- for part in ([rule] if rule is string else rule) -%}
            {%- set pieces = (part | string).split(':') -%}
            {%- if pieces[0] not in fields or pieces | length > 2
                or (pieces | length == 2 and not (pieces[1].isdigit() and pieces[1] | int > 0)) -%}
                {{ exceptions.raise_compiler_error(where ~ ".blocking_rules[" ~ loop.index0 ~ "]: '" ~ part
                    ~ "' is not a field or field:N (the first N characters); fields: " ~ (fields.keys() | join(', '))) }}
            {%- endif -%}
            {%- do parts.append({'field': pieces[0], 'prefix': (pieces[1] | int) if pieces | length == 2 else none}) -%}
        {%- endfor -%}
        {%- do rules.append(parts) -%}
    {%- endfor -%}
    {%- do config.update({'blocking_rules': rules}) -%}
    {{ return(config) }}
{% endmacro %}


{#- The default model: what a key left out of the var means (docs/identity.md). -#}
{% macro match_defaults() %}
    {%- set names = ['exact', {'jaro_winkler': 0.92}, {'jaro_winkler': 0.8}] -%}
    {%- set first_names = ['exact', {'jaro_winkler': 0.92}, 'name_alias', {'jaro_winkler': 0.8}] -%}
    {{ return({
        'enabled': false,
        'match_probability': 0.99,
        'min_fields': 2,
        'max_block_records': 200,
        'fields': {
            'first_name': {'attribute': 'first_name', 'normalizer': 'name', 'term_frequency': true,
                'levels': first_names},
            'last_name': {'attribute': 'last_name', 'normalizer': 'name', 'term_frequency': true, 'levels': names},
            'birth_date': {'attribute': 'birth_date', 'normalizer': 'date',
                'levels': ['exact', 'transposed_day_month', {'levenshtein': 1}, {'within_days': 366}]},
            'postcode': {'attribute': 'postcode', 'normalizer': 'postcode', 'term_frequency': true,
                'levels': ['exact', {'levenshtein': 1}]},
            'city': {'attribute': 'city', 'normalizer': 'name', 'levels': ['exact']},
            'email': {'identifier': 'email', 'levels': ['exact']},
            'phone': {'identifier': 'phone', 'levels': ['exact', {'levenshtein': 1}]},
        },
        'blocking_rules': [
            ['last_name', 'birth_date'],
            ['first_name', 'birth_date'],
            ['postcode', 'last_name:3'],
            ['postcode', 'first_name:3'],
            ['first_name:1', 'last_name:1', 'birth_date:4'],
        ],
        'em_max_iterations': 50,
        'em_tolerance': 0.000001,
        'u_sample_offsets': 20,
        'guard_max_rounds': 32,
    }) }}
{% endmacro %}


{#- True when the build links records probabilistically. -#}
{% macro match_enabled() %}
    {{ return(onefold.match_config().enabled is true) }}
{% endmacro %}


{#- One field's declaration, checked: where its value comes from and its levels. -#}
{% macro match_field_config(name, field) %}
    {%- set where = "var onefold__probabilistic_matching.fields." ~ name -%}
    {%- if field is not mapping or ((field.get('attribute') is none) == (field.get('identifier') is none)) -%}
        {{ exceptions.raise_compiler_error(where ~ ": give either attribute (a golden attribute the identity "
            ~ "models map, normalized by `normalizer`) or identifier (an identifier type, normalized as one).") }}
    {%- endif -%}
    {%- if field.get('identifier') is not none and field.identifier not in var('onefold__identifier_types') -%}
        {{ exceptions.raise_compiler_error(where ~ ": identifier '" ~ field.identifier
            ~ "' is not in onefold__identifier_types.") }}
    {%- endif -%}
    {%- if field.get('attribute') is not none and field.attribute not in var('onefold__golden_attributes') -%}
        {{ exceptions.raise_compiler_error(where ~ ": attribute '" ~ field.attribute
            ~ "' is not in onefold__golden_attributes.") }}
    {%- endif -%}
    {%- if field.get('identifier') is not none and field.get('normalizer') is not none -%}
        {{ exceptions.raise_compiler_error(where ~ ": an identifier field is normalized by its type; drop `normalizer`.") }}
    {%- endif -%}
    {%- set levels = field.get('levels', ['exact']) -%}
    {%- if levels is string or levels | length == 0 -%}
        {{ exceptions.raise_compiler_error(where ~ ".levels must list at least one level, best first.") }}
    {%- endif -%}
    {%- set checked = [] -%}
    {%- for level in levels -%}
        {%- set kind = level if level is string else (level.keys() | list | first) -%}
        {%- set argument = none if level is string else level[kind] -%}
        {%- set takes = {'exact': none, 'transposed_day_month': none, 'name_alias': none,
            'jaro_winkler': 'a similarity between 0 and 1',
            'levenshtein': 'a whole number of edits', 'within_days': 'a whole number of days',
            'within': 'a numeric tolerance'} -%}
        {%- if kind not in takes or (level is mapping and level | length != 1)
            or ((takes[kind] is none) != (argument is none))
            or (argument is not none and argument is not number)
            or (kind == 'jaro_winkler' and (argument <= 0 or argument >= 1))
            or (kind in ['levenshtein', 'within_days'] and (argument < 0 or argument != argument | int)) -%}
            {{ exceptions.raise_compiler_error(where ~ ".levels[" ~ loop.index0 ~ "]: '" ~ level ~ "' is not a level. "
                ~ "Levels: exact, name_alias, transposed_day_month, {jaro_winkler: 0.92}, {levenshtein: 1}, "
                ~ "{within_days: 31}, {within: 0.5}.") }}
        {%- endif -%}
        {%- do checked.append({'kind': kind, 'argument': argument,
            'label': kind if argument is none else kind ~ ' ' ~ argument}) -%}
    {%- endfor -%}
    {#- normalizer: any that onefold__identifier_types accepts (name, postcode, {name: date,
        formats: [...]}, {macro: ...}); none keeps the trimmed text. -#}
    {{ return({
        'name': name,
        'attribute': field.get('attribute'),
        'identifier': field.get('identifier'),
        'normalizer': field.get('normalizer', 'none'),
        'levels': checked,
        'term_frequency': field.get('term_frequency', false) is true,
    }) }}
{% endmacro %}


{#- Parameters depend on these; a change trains again (identity_match_parameters). -#}
{% macro match_config_fingerprint() -%}
    {%- set config = onefold.match_config() -%}
    {{- local_md5(tojson({'fields': config.fields, 'blocking_rules': config.blocking_rules,
        'u_sample_offsets': config.u_sample_offsets, 'normalizers': onefold.normalizers_version()})) -}}
{%- endmacro %}


{#- A field's value from a staged column, normalized for comparison. -#}
{% macro match_field_value(field, column) -%}
    {%- set text_value = 'trim(cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ '))' -%}
    {%- if field.normalizer == 'none' -%}
        nullif({{ text_value }}, '')
    {%- else -%}
        {{ onefold.normalize_identifier(field.normalizer, text_value) }}
    {%- endif -%}
{%- endmacro %}


{#- The comparison level of `field` between two values: 1 for its first declared level,
    2 for the second, …, 0 for none of them, null when either value is missing. -#}
{% macro match_level(field, left, right) -%}
    case
        when {{ left }} is null or {{ right }} is null then null
        {%- for level in field.levels %}
            when {{ onefold.match_level_condition(level, left, right) }} then {{ loop.index }}
        {%- endfor %}
        else 0
    end
{%- endmacro %}

{% macro match_level_condition(level, left, right) -%}
    {%- if level.kind == 'exact' -%}
        {{ left }} = {{ right }}
    {%- elif level.kind == 'jaro_winkler' -%}
        {{ onefold.jaro_winkler_similarity(left, right) }} >= {{ level.argument }}
    {%- elif level.kind == 'levenshtein' -%}
        {{ onefold.levenshtein_distance(left, right) }} <= {{ level.argument }}
    {%- elif level.kind == 'name_alias' -%}
        {#- One is a known nickname of the other (seeds/name_aliases.csv, normalized as names). -#}
        ({{ left }}, {{ right }}) in (
            select {{ onefold.normalize_name('name_aliases.name') }}, {{ onefold.normalize_name('name_aliases.alias') }}
            from {{ ref('name_aliases') }} as name_aliases
        )
    {%- elif level.kind == 'transposed_day_month' -%}
        {#- ISO dates: same year, day and month swapped (05/06 entered as 06/05). -#}
        (substr({{ left }}, 1, 5) = substr({{ right }}, 1, 5)
            and substr({{ left }}, 6, 2) = substr({{ right }}, 9, 2)
            and substr({{ left }}, 9, 2) = substr({{ right }}, 6, 2))
    {%- elif level.kind == 'within_days' -%}
        abs({{ dbt.datediff('cast(' ~ left ~ ' as date)', 'cast(' ~ right ~ ' as date)', 'day') }}) <= {{ level.argument }}
    {%- elif level.kind == 'within' -%}
        abs(cast({{ left }} as {{ onefold.type_double() }}) - cast({{ right }} as {{ onefold.type_double() }})) <= {{ level.argument }}
    {%- endif -%}
{%- endmacro %}


{#- A blocking rule's key over a records relation aliased `alias`; null when a part is. -#}
{% macro match_block_key(rule, alias) -%}
    {%- for part in rule -%}
        {%- set column = alias ~ '.' ~ part.field -%}
        {%- if part.prefix -%}
            case when length({{ column }}) >= {{ part.prefix }} then substr({{ column }}, 1, {{ part.prefix }}) end
        {%- else -%}
            {{ column }}
        {%- endif -%}
        {%- if not loop.last %} || '|' || {% endif -%}
    {%- endfor -%}
{%- endmacro %}


{#- Jaro–Winkler similarity (prefix scale 0.1, at most 4 characters, boost above 0.7). -#}
{% macro jaro_winkler_similarity(left, right) %}
    {{ return(adapter.dispatch('jaro_winkler_similarity', 'onefold')(left, right)) }}
{% endmacro %}

{% macro default__jaro_winkler_similarity(left, right) -%}
    jaro_winkler_similarity({{ left }}, {{ right }})
{%- endmacro %}

{#- Spark: the PL/pgSQL port's steps as one expression. Characters of `left` match, in
    order, the first unmatched equal character of `right` within the window; an
    aggregate carries the (i, j) pairs matched so far. -#}
{% macro spark__jaro_winkler_similarity(left, right) -%}
    {%- set pairs = "aggregate(sequence(1, length(jw_s)), cast(array() as array<struct<i: int, j: int>>),
        (matched, i) -> " ~ onefold.sql_let('candidates',
            "case when greatest(1, i - jw_window) <= least(length(jw_t), i + jw_window)
                then filter(sequence(greatest(1, i - jw_window), least(length(jw_t), i + jw_window)),
                    j -> substr(jw_t, j, 1) = substr(jw_s, i, 1) and not exists(matched, pair -> pair.j = j))
                else cast(array() as array<int>) end",
            "case when size(candidates) > 0 then concat(matched, array(named_struct('i', i, 'j', candidates[0])))
                else matched end") ~ ")" -%}
    {%- set jaro = "(size(jw_pairs) / length(jw_s) + size(jw_pairs) / length(jw_t)
        + (size(jw_pairs) - floor(size(filter(sequence(1, size(jw_pairs)),
            k -> substr(jw_s, element_at(jw_pairs, k).i, 1)
                != substr(jw_t, element_at(array_sort(transform(jw_pairs, pair -> pair.j)), k), 1))) / 2)) / size(jw_pairs)) / 3" -%}
    {%- set prefix = onefold.sql_let('jw_prefix_equal', "transform(sequence(1, least(4, length(jw_s), length(jw_t))),
        k -> substr(jw_s, k, 1) = substr(jw_t, k, 1))",
        "case when array_position(jw_prefix_equal, false) = 0 then size(jw_prefix_equal)
            else array_position(jw_prefix_equal, false) - 1 end") -%}
    {{ onefold.sql_let('jw_s', left, onefold.sql_let('jw_t', right, "case
        when jw_s is null or jw_t is null then cast(null as double)
        when length(jw_s) = 0 or length(jw_t) = 0 then 0.0d
        when jw_s = jw_t then 1.0d
        else " ~ onefold.sql_let('jw_window', 'cast(greatest(floor(greatest(length(jw_s), length(jw_t)) / 2) - 1, 0) as int)',
            onefold.sql_let('jw_pairs', pairs, "case
                when size(jw_pairs) = 0 then 0.0d
                else " ~ onefold.sql_let('jw_jaro', jaro, "case when jw_jaro <= 0.7 then jw_jaro
                    else jw_jaro + " ~ prefix ~ " * 0.1d * (1 - jw_jaro) end") ~ "
            end")) ~ "
    end")) }}
{%- endmacro %}

{% macro postgres__jaro_winkler_similarity(left, right) -%}
    {{ target.schema }}.onefold_jaro_winkler({{ left }}, {{ right }})
{%- endmacro %}


{#- Levenshtein edit distance. -#}
{% macro levenshtein_distance(left, right) %}
    {{ return(adapter.dispatch('levenshtein_distance', 'onefold')(left, right)) }}
{% endmacro %}

{% macro default__levenshtein_distance(left, right) -%}
    levenshtein({{ left }}, {{ right }})
{%- endmacro %}

{% macro postgres__levenshtein_distance(left, right) -%}
    {{ target.schema }}.onefold_levenshtein({{ left }}, {{ right }})
{%- endmacro %}


{#-
    on-run-start: what probabilistic matching needs on PostgreSQL, when it is enabled.
    Levenshtein comes from the contrib extension fuzzystrmatch, created here when the
    server has it (onefold_levenshtein calls it wherever it is installed); Jaro–Winkler
    has no contrib function, so onefold_jaro_winkler is a PL/pgSQL port of DuckDB's
    jaro_winkler_similarity (python/tests/test_probabilistic_matching.py compares them).
-#}
{% macro create_match_functions() %}
    {%- if not onefold.match_enabled() -%}
        {{ return('select 1') }}
    {%- endif -%}
    {{ return(adapter.dispatch('create_match_functions', 'onefold')()) }}
{% endmacro %}

{% macro default__create_match_functions() %}
    select 1
{% endmacro %}

{% macro postgres__create_match_functions() %}
    {%- set schema = target.schema -%}
    create schema if not exists {{ schema }};

    do $onefold$
    declare
        extension_schema text;
    begin
        begin
            create extension if not exists fuzzystrmatch;
        exception when others then
            raise exception using
                message = 'Onefold probabilistic matching needs the PostgreSQL extension fuzzystrmatch: '
                    || sqlerrm,
                hint = 'Install the server''s contrib package (postgresql-contrib) and run '
                    || '"create extension fuzzystrmatch" as a user allowed to, or set '
                    || 'onefold__probabilistic_matching.enabled: false.';
        end;
        select n.nspname into extension_schema
        from pg_extension as e inner join pg_namespace as n on e.extnamespace = n.oid
        where e.extname = 'fuzzystrmatch';
        execute format(
            'create or replace function %I.onefold_levenshtein(a text, b text) returns integer '
            'language sql immutable strict parallel safe as $f$ select %I.levenshtein(a, b) $f$',
            '{{ schema }}', extension_schema);
    end
    $onefold$;

    create or replace function {{ schema }}.onefold_jaro_winkler(s text, t text)
    returns double precision language plpgsql immutable strict parallel safe as $$
    declare
        ls integer := length(s);
        lt integer := length(t);
        match_window integer;
        s_matched boolean[];
        t_matched boolean[];
        matches integer := 0;
        transpositions integer := 0;
        k integer := 1;
        jaro double precision;
        prefix integer := 0;
    begin
        if ls = 0 or lt = 0 then
            return 0.0;
        end if;
        if s = t then
            return 1.0;
        end if;
        match_window := greatest(greatest(ls, lt) / 2 - 1, 0);
        s_matched := array_fill(false, array[ls]);
        t_matched := array_fill(false, array[lt]);
        for i in 1..ls loop
            for j in greatest(1, i - match_window)..least(lt, i + match_window) loop
                if not t_matched[j] and substr(t, j, 1) = substr(s, i, 1) then
                    s_matched[i] := true;
                    t_matched[j] := true;
                    matches := matches + 1;
                    exit;
                end if;
            end loop;
        end loop;
        if matches = 0 then
            return 0.0;
        end if;
        for i in 1..ls loop
            if s_matched[i] then
                while not t_matched[k] loop
                    k := k + 1;
                end loop;
                if substr(s, i, 1) <> substr(t, k, 1) then
                    transpositions := transpositions + 1;
                end if;
                k := k + 1;
            end if;
        end loop;
        jaro := (matches::double precision / ls + matches::double precision / lt
            + (matches - transpositions / 2)::double precision / matches) / 3;
        if jaro <= 0.7 then
            return jaro;
        end if;
        for i in 1..least(4, ls, lt) loop
            exit when substr(s, i, 1) <> substr(t, i, 1);
            prefix := prefix + 1;
        end loop;
        return jaro + prefix * 0.1 * (1 - jaro);
    end;
    $$;
{% endmacro %}
