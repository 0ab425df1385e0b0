{#-
    PostgreSQL has no try_cast: a bad value in a cast aborts the whole query. These
    functions return null instead, so staging can route the row to quarantine. They run
    as an on-run-start hook; DuckDB needs nothing (it has try_cast and json_valid).
-#}
{% macro create_safe_cast_functions() %}
    {{ return(adapter.dispatch('create_safe_cast_functions', 'onefold')()) }}
{% endmacro %}

{% macro default__create_safe_cast_functions() %}
    select 1
{% endmacro %}

{% macro postgres__create_safe_cast_functions() %}
    {%- set schema = target.schema -%}
    create schema if not exists {{ schema }};

    create or replace function {{ schema }}.onefold_try_timestamptz(value text)
    returns timestamptz language plpgsql immutable strict
    -- Values without an offset mean UTC, whatever the session's time zone is.
    set timezone = 'UTC'
    as $$
    begin
        -- ISO-8601 only: PostgreSQL's special inputs ('yesterday', 'now', 'epoch',
        -- 'infinity', …) and locale formats are invalid, as on DuckDB.
        if value !~ '{{ onefold.iso_date_pattern() }}' then
            return null;
        end if;
        return value::timestamptz;
    exception when others then
        return null;
    end;
    $$;

    -- The error a statement raises, or null: lets a hook report which segment
    -- predicate is broken instead of failing on the first one.
    create or replace function {{ schema }}.onefold_sql_problem(statement text)
    returns text language plpgsql volatile as $$
    begin
        execute statement;
        return null;
    exception when others then
        return sqlerrm;
    end;
    $$;

    create or replace function {{ schema }}.onefold_try_jsonb(value text)
    returns jsonb language plpgsql immutable strict as $$
    begin
        return value::jsonb;
    exception when others then
        return null;
    end;
    $$;

    create or replace function {{ schema }}.onefold_try_numeric(value text)
    returns numeric language plpgsql immutable strict as $$
    begin
        return value::numeric;
    exception when others then
        return null;
    end;
    $$;

    -- A decimal that fits numeric(precision, scale) after rounding, else null: NaN,
    -- Infinity and overflowing values ('1e20', '1e309') are invalid, as on DuckDB.
    create or replace function {{ schema }}.onefold_try_decimal(value text, total_digits integer, fraction_digits integer)
    returns numeric language plpgsql immutable strict as $$
    declare
        parsed numeric;
    begin
        parsed := round(value::numeric, fraction_digits);
        if parsed = 'NaN'::numeric or abs(parsed) >= power(10::numeric, total_digits - fraction_digits) then
            return null;
        end if;
        return parsed;
    exception when others then
        return null;
    end;
    $$;

    create or replace function {{ schema }}.onefold_try_date(value text)
    returns date language plpgsql immutable strict as $$
    begin
        if value !~ '{{ onefold.iso_date_pattern() }}' then
            return null;
        end if;
        return value::date;
    exception when others then
        return null;
    end;
    $$;

    -- A date written in `format` (to_date's YYYY, MM, DD), or null: to_date rolls
    -- 31 February over to March, so the date must print back as the value.
    create or replace function {{ schema }}.onefold_try_date_format(value text, format text)
    returns date language plpgsql immutable strict as $$
    declare
        parsed date;
    begin
        parsed := to_date(value, format);
        if to_char(parsed, format) <> value then
            return null;
        end if;
        return parsed;
    exception when others then
        return null;
    end;
    $$;
{% endmacro %}
