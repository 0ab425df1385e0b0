{#-
    onefold_phone_e164(value, calling_code): a phone number to E.164 by libphonenumber's
    rules, null when it is no number of its country (possible length, national pattern)
    (python/onefold/phones.py says which rules, and why one function).

    DuckDB runs the Python function itself, registered on every connection by Onefold's
    dbt plugin and Onefold's own connections: nothing to create here. PostgreSQL runs
    this PL/pgSQL port of libphonenumber's `parse` over the numbering plans of
    phone_numbering_plans() (generated from the same library), created by an
    on-run-start hook: the table `onefold_phone_plans` and the functions, in the target
    schema. python/tests/test_phones.py compares the two on every region and notation.
-#}
{% macro phone_function() -%}
    {{ return(adapter.dispatch('phone_function', 'onefold')()) }}
{%- endmacro %}

{% macro default__phone_function() -%}
    onefold_phone_e164
{%- endmacro %}

{% macro postgres__phone_function() -%}
    {{ target.schema }}.onefold_phone_e164
{%- endmacro %}


{% macro create_phone_functions() %}
    {{ return(adapter.dispatch('create_phone_functions', 'onefold')()) }}
{% endmacro %}

{% macro default__create_phone_functions() %}
    select 1
{% endmacro %}

{#- libphonenumber's extension notations (its _EXTN_PATTERN, ASCII and the common
    Unicode spellings), at the end of the number. -#}
{% macro phone_extension_pattern() -%}
    (?:;ext=[0-9]{1,20}|[ \t,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|доб|anexo)[:.]?[ \t,-]*[0-9]{1,20}#?|[ \t,]*(?:[x#~]|int)[:.]?[ \t,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[ \t]*(?:,{2}|;)[:.]?[ \t,-]*[0-9]{1,15}#?|[ \t]*,+[:.]?[ \t,-]*[0-9]{1,9}#?)
{%- endmacro %}

{#- libphonenumber's VALID_PHONE_NUMBER_PATTERN with its extension, whole (read
    case-insensitively). -#}
{% macro phone_viable_pattern() -%}
    {%- set punctuation = '-x ()./~*\\[\\]' -%}
    ^(?:[0-9]{2}|[+]*(?:[{{ punctuation }}]*[0-9]){3,}[{{ punctuation }}A-Za-z0-9]*(?:{{ onefold.phone_extension_pattern() }})?)$
{%- endmacro %}

{% macro postgres__create_phone_functions() %}
    {%- set schema = target.schema -%}
    create schema if not exists {{ schema }};

    -- Cascade: the functions below take its row type; they are created again after it.
    drop table if exists {{ schema }}.onefold_phone_plans cascade;
    create table {{ schema }}.onefold_phone_plans (
        calling_code text primary key,
        international_prefix text not null,
        national_prefix_for_parsing text not null,
        national_prefix_groups integer not null,
        national_prefix_transform_rule text not null,
        national_number_pattern text not null,
        possible_lengths integer[] not null,
        local_only_lengths integer[] not null
    );
    insert into {{ schema }}.onefold_phone_plans values
    {%- for plan in onefold.phone_numbering_plans() %}
        ('{{ plan[0] }}', '{{ plan[1] }}', '{{ plan[2] }}', {{ plan[3] }}, '{{ plan[4] | replace('$', '\\') }}',
         '{{ plan[5] }}', array[{{ plan[6] | join(', ') }}]::integer[], array[{{ plan[7] | join(', ') }}]::integer[])
        {%- if not loop.last %},{% endif %}
    {%- endfor %};

    -- libphonenumber's _test_number_length: how a national number's length fits the plan.
    create or replace function {{ schema }}.onefold_phone_length_fit(
        nsn text, possible integer[], local_only integer[]
    ) returns text language sql immutable parallel safe as $$
        select case
            when possible[1] = -1 then 'invalid_length'
            when length(nsn) = any(local_only) then 'local_only'
            when possible[1] = length(nsn) then 'possible'
            when possible[1] > length(nsn) then 'too_short'
            when possible[array_upper(possible, 1)] < length(nsn) then 'too_long'
            when length(nsn) = any(possible[2:]) then 'possible'
            else 'invalid_length'
        end
    $$;

    -- libphonenumber's _match_national_number: the number fits the plan's national
    -- number pattern, whole.
    create or replace function {{ schema }}.onefold_phone_fits(
        nsn text, plan {{ schema }}.onefold_phone_plans
    ) returns boolean language sql immutable parallel safe as $$
        select nsn ~ ('^(?:' || plan.national_number_pattern || ')$')
    $$;

    -- libphonenumber's _maybe_strip_national_prefix_carrier_code: the trunk prefix (and
    -- carrier code) stripped, or transformed by the plan's rule, unless that turns a
    -- number that fits the national pattern into one that does not.
    create or replace function {{ schema }}.onefold_phone_strip_national_prefix(
        nsn text, plan {{ schema }}.onefold_phone_plans
    ) returns text language plpgsql immutable parallel safe as $$
    declare
        prefix text := plan.national_prefix_for_parsing;
        groups text[];
        matched text;
        stripped text;
    begin
        if nsn = '' or prefix = '' then
            return nsn;
        end if;
        groups := regexp_match(nsn, '^(?:' || prefix || ')');
        if groups is null then
            return nsn;
        end if;
        if plan.national_prefix_transform_rule = '' or plan.national_prefix_groups = 0
            or groups[plan.national_prefix_groups] is null then
            matched := substring(nsn from '^(' || prefix || ')');
            stripped := substr(nsn, coalesce(length(matched), 0) + 1);
        else
            stripped := regexp_replace(nsn, '^(?:' || prefix || ')', plan.national_prefix_transform_rule);
        end if;
        if {{ schema }}.onefold_phone_fits(nsn, plan)
            and not {{ schema }}.onefold_phone_fits(stripped, plan) then
            return nsn;
        end if;
        return stripped;
    end;
    $$;

    -- libphonenumber's _normalize: keypad digits for letters when there are three or
    -- more, else digits only.
    create or replace function {{ schema }}.onefold_phone_digits(number text)
    returns text language sql immutable parallel safe as $$
        select regexp_replace(
            case when number ~ '[A-Za-z].*[A-Za-z].*[A-Za-z]'
                then translate(upper(number), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '22233344455566677778889999')
                else number
            end,
            '[^0-9]', '', 'g')
    $$;

    -- libphonenumber's parse(value, main region of calling_code), kept when its length
    -- is possible for its country and it fits the national number pattern: '+',
    -- calling code and national significant number.
    create or replace function {{ schema }}.onefold_phone_parse(value text, calling_code text)
    returns text language plpgsql stable parallel safe as $$
    declare
        viable text := '{{ onefold.phone_viable_pattern() }}';
        number text;
        before_extension text;
        full_number text;
        idd_prefix text;
        after_idd text;
        national text;
        potential text;
        code text;
        source text := 'default';
        default_plan {{ schema }}.onefold_phone_plans;
        plan {{ schema }}.onefold_phone_plans;
    begin
        if value is null or position(';phone-context=' in value) > 0 then
            return null;
        end if;
        select * into default_plan from {{ schema }}.onefold_phone_plans as plans
        where plans.calling_code = btrim(onefold_phone_parse.calling_code);
        -- _extract_possible_number: from the first '+' or digit, without trailing
        -- punctuation and a second number.
        number := substring(value from '[+0-9].*$');
        if number is null then
            return null;
        end if;
        number := regexp_replace(number, '(_|[^#[:alnum:]])+$', '');
        number := regexp_replace(number, '[\\/] *x.*$', '');
        if position(';isub=' in number) > 1 then
            number := left(number, position(';isub=' in number) - 1);
        end if;
        if length(number) < 2 or number !~* viable then
            return null;
        end if;
        if default_plan.calling_code is null and number !~ '^[+]' then
            return null;
        end if;
        -- The extension, when what comes before it is a number.
        before_extension := substring(number from '(?i)^(.*?){{ onefold.phone_extension_pattern() }}$');
        if before_extension is not null and length(before_extension) >= 2
            and before_extension ~* viable then
            number := before_extension;
        end if;
        -- The calling code: after '+', after the region's international prefix, or the
        -- region's own written without '+'.
        if number ~ '^[+]' then
            full_number := {{ schema }}.onefold_phone_digits(regexp_replace(number, '^[+]+', ''));
            source := 'plus';
        else
            full_number := {{ schema }}.onefold_phone_digits(number);
            idd_prefix := substring(full_number from '^(' || default_plan.international_prefix || ')');
            if default_plan.international_prefix <> '' and idd_prefix is not null then
                after_idd := substr(full_number, length(idd_prefix) + 1);
                if left(after_idd, 1) <> '0' then
                    full_number := after_idd;
                    source := 'idd';
                end if;
            end if;
        end if;
        if source <> 'default' then
            if length(full_number) <= 2 or left(full_number, 1) = '0' then
                return null;
            end if;
            select * into plan from {{ schema }}.onefold_phone_plans as plans
            where plans.calling_code in (left(full_number, 1), left(full_number, 2), left(full_number, 3))
            order by length(plans.calling_code)
            limit 1;
            if plan.calling_code is null then
                return null;
            end if;
            code := plan.calling_code;
            national := substr(full_number, length(code) + 1);
        else
            plan := default_plan;
            code := default_plan.calling_code;
            national := full_number;
            if full_number like code || '%' then
                potential := {{ schema }}.onefold_phone_strip_national_prefix(substr(full_number, length(code) + 1), plan);
                if (not {{ schema }}.onefold_phone_fits(full_number, plan)
                        and {{ schema }}.onefold_phone_fits(potential, plan))
                    or {{ schema }}.onefold_phone_length_fit(full_number, plan.possible_lengths, plan.local_only_lengths) = 'too_long' then
                    national := potential;
                end if;
            end if;
        end if;
        if length(national) < 2 then
            return null;
        end if;
        potential := {{ schema }}.onefold_phone_strip_national_prefix(national, plan);
        if {{ schema }}.onefold_phone_length_fit(potential, plan.possible_lengths, plan.local_only_lengths)
            not in ('too_short', 'local_only', 'invalid_length') then
            national := potential;
        end if;
        if length(national) not between 2 and 17
            or {{ schema }}.onefold_phone_length_fit(national, plan.possible_lengths, plan.local_only_lengths)
                not in ('possible', 'local_only')
            or not {{ schema }}.onefold_phone_fits(national, plan) then
            return null;
        end if;
        return '+' || code || national;
    end;
    $$;

    -- The number read with the region's rules; a number written with '00' that they
    -- cannot read is read as international (phones.py: the one leniency).
    create or replace function {{ schema }}.onefold_phone_e164(value text, calling_code text)
    returns text language plpgsql stable parallel safe as $$
    declare
        trimmed text := regexp_replace(value, '^\s+|\s+$', '', 'g');
        parsed text := {{ schema }}.onefold_phone_parse(value, calling_code);
    begin
        if parsed is null and trimmed like '00%' then
            parsed := {{ schema }}.onefold_phone_parse('+' || substr(trimmed, 3), null);
        end if;
        return parsed;
    end;
    $$;
{% endmacro %}


{#-
    Spark: the same steps as one expression (spark_phone_e164), written out where
    normalize_phone is used: a Spark view cannot use a temporary function and a lambda
    cannot call one. Each PL/pgSQL variable is a lambda's parameter (sql_let), the
    numbering plans one constant map. Java's regexes read libphonenumber's patterns as
    its Java original does; the one difference from PostgreSQL's: a capturing group
    that did not take part reads as '', not null. The hook also creates the expression
    as the session's temporary function onefold_phone_e164, which
    python/tests/test_spark.py compares with libphonenumber like the others.
-#}
{% macro spark__create_phone_functions() %}
    {%- do onefold.run_statements(['create or replace temporary function onefold_phone_e164(value string, calling_code string)'
        ~ ' returns string return ' ~ onefold.spark_phone_e164('value', 'calling_code')]) -%}
    select 1
{% endmacro %}

{#- Spark's onefold_phone_e164 written out: Spark's SQL functions cannot be called
    inside a lambda (free-text erasure checks) and a view cannot use a temporary one, so
    normalize_phone writes it out where it is used. -#}
{% macro spark_phone_e164(value, calling_code) -%}
    {{ return(onefold.sql_let('phone_text', value, onefold.sql_let('phone_code', 'cast(' ~ calling_code ~ ' as string)',
        onefold.sql_let('plans', onefold.spark_phone_plans(),
        onefold.sql_let('first', onefold.spark_phone_parse('phone_text', "coalesce(trim(phone_code), '')"),
            "coalesce(first, " ~ onefold.sql_let('trimmed', "regexp_replace(phone_text, '^\\s+|\\s+$', '')",
                "case when trimmed like '00%' then "
                ~ onefold.spark_phone_parse("concat('+', substr(trimmed, 3))", "''") ~ " end") ~ ")"))))) }}
{%- endmacro %}

{#- The numbering plans as one text literal that Spark folds into a map (calling code
    to the plan's fields, '~'-separated) once per query: a map of structs written out is
    about three times the text and thousands of expressions for Spark to parse and
    analyse at every use of the phone expression, which made staging models take
    seconds each to plan. -#}
{% macro spark_phone_plans() -%}
    {%- set plan_rows = [] -%}
    {%- for row in onefold.phone_numbering_plans() -%}
        {%- do plan_rows.append(row[0] ~ '=' ~ [row[1], row[2], row[3], row[4], row[5], row[6] | join(','),
            row[7] | join(',')] | join('~')) -%}
    {%- endfor -%}
    {{ return("str_to_map('" ~ plan_rows | join(';') ~ "', ';', '=')") }}
{%- endmacro %}

{#- The plan of the calling code `code` (an expression), as the struct the steps read,
    or null for a code without one. Its fields split out at each use, not bound once:
    each lambda of sql_let is a round of Spark's analyser, which stops at 100. -#}
{% macro spark_phone_plan(code) -%}
    {%- set field = 'split(plans[' ~ code ~ "], '~')[{}]" -%}
    {%- set lengths = "coalesce(cast(split(nullif(" ~ field ~ ", ''), ',') as array<int>), cast(array() as array<int>))" -%}
    {{ return("case when plans[" ~ code ~ "] is not null then named_struct('international_prefix', " ~ field.format(0)
        ~ ", 'national_prefix_for_parsing', " ~ field.format(1)
        ~ ", 'national_prefix_groups', cast(" ~ field.format(2) ~ " as int)"
        ~ ", 'national_prefix_transform_rule', " ~ field.format(3)
        ~ ", 'national_number_pattern', " ~ field.format(4)
        ~ ", 'possible_lengths', " ~ lengths.replace('{}', '5')
        ~ ", 'local_only_lengths', " ~ lengths.replace('{}', '6') ~ ") end") }}
{%- endmacro %}

{#- libphonenumber's parse of the text `value` with the plan of `code` (expressions),
    kept when it fits the plan: '+', calling code and national number, or null. -#}
{% macro spark_phone_parse(value, code) -%}
    {%- set viable = "'(?iu)" ~ onefold.phone_viable_pattern() ~ "'" -%}
    {#- _extract_possible_number: from the first '+' or digit, without trailing
        punctuation, a second number or a sub-address. -#}
    {%- set extracted = onefold.sql_let('trailing', "regexp_replace(regexp_replace(nullif(regexp_extract(raw_value, '(?s)[+0-9].*$', 0), ''),"
        ~ " '(?U)(_|[^#\\p{Alnum}])+$', ''), '(?s)[\\\\/] *x.*$', '')",
        "case when instr(trailing, ';isub=') > 1 then left(trailing, instr(trailing, ';isub=') - 1) else trailing end") -%}
    {%- set possible = "case
            when raw_value is null or instr(raw_value, ';phone-context=') > 0 or extracted is null then null
            when length(extracted) < 2 or not extracted rlike " ~ viable ~ " then null
            when default_plan is null and not extracted rlike '^[+]' then null
            else extracted
        end" -%}
    {#- The extension dropped, when what comes before it is a number. -#}
    {%- set without_extension = onefold.sql_let('before_extension',
        "regexp_extract(possible, '(?ius)^(.*?)" ~ onefold.phone_extension_pattern() ~ "$', 1)",
        "case when length(before_extension) >= 2 and before_extension rlike " ~ viable ~ " then before_extension else possible end") -%}
    {#- The calling code: after '+', after the region's international prefix, or the
        region's own written without '+': 'plus:', 'idd:' or 'default:' and the digits. -#}
    {%- set tagged = "case
            when number is null then null
            when number rlike '^[+]' then concat('plus:', " ~ onefold.spark_phone_digits("regexp_replace(number, '^[+]+', '')") ~ ")
            else " ~ onefold.sql_let('dialled', onefold.spark_phone_digits('number'), onefold.sql_let('after_idd',
                "substr(dialled, length(regexp_extract(dialled, concat('^(?:', default_plan.international_prefix, ')'), 0)) + 1)",
                "case when default_plan.international_prefix <> ''
                    and dialled rlike concat('^(?:', default_plan.international_prefix, ')')
                    and left(after_idd, 1) <> '0' then concat('idd:', after_idd)
                else concat('default:', dialled) end")) ~ "
        end" -%}
    {%- set found_code = "case
            when is_default then default_code
            when length(full_number) <= 2 or left(full_number, 1) = '0' then null
            when map_contains_key(plans, left(full_number, 1)) then left(full_number, 1)
            when map_contains_key(plans, left(full_number, 2)) then left(full_number, 2)
            when map_contains_key(plans, left(full_number, 3)) then left(full_number, 3)
        end" -%}
    {%- set default_national = onefold.sql_let('potential',
        onefold.spark_phone_strip_national_prefix('substr(full_number, length(code) + 1)', 'plan'),
        "case when full_number like concat(code, '%') and (
                (not " ~ onefold.spark_phone_fits('full_number', 'plan') ~ " and " ~ onefold.spark_phone_fits('potential', 'plan') ~ ")
                or " ~ onefold.spark_phone_length_fit('full_number', 'plan') ~ " = 'too_long') then potential
            else full_number end") -%}
    {%- set finished = onefold.sql_let('stripped_national', onefold.spark_phone_strip_national_prefix('national', 'plan'),
        onefold.sql_let('final_national', "case when " ~ onefold.spark_phone_length_fit('stripped_national', 'plan')
            ~ " not in ('too_short', 'local_only', 'invalid_length') then stripped_national else national end",
            "case
                when plan is null or national is null or length(national) < 2 then null
                when length(final_national) not between 2 and 17
                    or " ~ onefold.spark_phone_length_fit('final_national', 'plan') ~ " not in ('possible', 'local_only')
                    or not " ~ onefold.spark_phone_fits('final_national', 'plan') ~ " then null
                else concat('+', code, final_national)
            end")) -%}
    {{ return(
        onefold.sql_let('raw_value', value,
        onefold.sql_let('default_code', code,
        onefold.sql_let('default_plan', onefold.spark_phone_plan('default_code'),
        onefold.sql_let('extracted', extracted,
        onefold.sql_let('possible', possible,
        onefold.sql_let('number', without_extension,
        onefold.sql_let('tagged', tagged,
        onefold.sql_let('is_default', "tagged like 'default:%'",
        onefold.sql_let('full_number', "substring_index(tagged, ':', -1)",
        onefold.sql_let('code', found_code,
        onefold.sql_let('plan', onefold.spark_phone_plan('code'),
        onefold.sql_let('national', 'case when is_default then ' ~ default_national ~ ' else substr(full_number, length(code) + 1) end',
            finished))))))))))))) }}
{%- endmacro %}

{#- _normalize: keypad digits for letters when there are three or more, else digits. -#}
{% macro spark_phone_digits(number) -%}
    {{ return(onefold.sql_let('keyed', number, "regexp_replace(case when keyed rlike '[A-Za-z].*[A-Za-z].*[A-Za-z]'
        then translate(upper(keyed), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '22233344455566677778889999') else keyed end, '[^0-9]', '')")) }}
{%- endmacro %}

{#- _match_national_number (nsn and plan: names of bound values). -#}
{% macro spark_phone_fits(nsn, plan) -%}
    {{ return(nsn ~ " rlike concat('^(?:', " ~ plan ~ ".national_number_pattern, ')$')") }}
{%- endmacro %}

{#- _test_number_length. -#}
{% macro spark_phone_length_fit(nsn, plan) -%}
    {{ return("case
            when element_at(" ~ plan ~ ".possible_lengths, 1) = -1 then 'invalid_length'
            when array_contains(" ~ plan ~ ".local_only_lengths, length(" ~ nsn ~ ")) then 'local_only'
            when element_at(" ~ plan ~ ".possible_lengths, 1) = length(" ~ nsn ~ ") then 'possible'
            when element_at(" ~ plan ~ ".possible_lengths, 1) > length(" ~ nsn ~ ") then 'too_short'
            when element_at(" ~ plan ~ ".possible_lengths, -1) < length(" ~ nsn ~ ") then 'too_long'
            when array_contains(slice(" ~ plan ~ ".possible_lengths, 2, 100), length(" ~ nsn ~ ")) then 'possible'
            else 'invalid_length'
        end") }}
{%- endmacro %}

{#- _maybe_strip_national_prefix_carrier_code (`nsn` an expression). -#}
{% macro spark_phone_strip_national_prefix(nsn, plan) -%}
    {%- set prefix = "concat('^(?:', " ~ plan ~ ".national_prefix_for_parsing, ')')" -%}
    {{ return(onefold.sql_let('unstripped', nsn, onefold.sql_let('stripped', "case
            when unstripped = '' or " ~ plan ~ ".national_prefix_for_parsing = '' or not unstripped rlike " ~ prefix ~ " then unstripped
            when " ~ plan ~ ".national_prefix_transform_rule = '' or " ~ plan ~ ".national_prefix_groups = 0
                or regexp_extract(unstripped, " ~ prefix ~ ", " ~ plan ~ ".national_prefix_groups) = ''
                then substr(unstripped, length(regexp_extract(unstripped, " ~ prefix ~ ", 0)) + 1)
            else regexp_replace(unstripped, " ~ prefix ~ ", " ~ plan ~ ".national_prefix_transform_rule)
        end",
        "case when " ~ onefold.spark_phone_fits('unstripped', plan) ~ " and not " ~ onefold.spark_phone_fits('stripped', plan)
            ~ " then unstripped else stripped end"))) }}
{%- endmacro %}
