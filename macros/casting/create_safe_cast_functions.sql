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
    returns timestamptz language plpgsql immutable
    -- Values without an offset mean UTC, whatever the session's time zone is.
    set timezone = 'UTC'
    as $$
    begin
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
    returns jsonb language plpgsql immutable as $$
    begin
        return value::jsonb;
    exception when others then
        return null;
    end;
    $$;

    create or replace function {{ schema }}.onefold_try_numeric(value text)
    returns numeric language plpgsql immutable as $$
    begin
        return value::numeric;
    exception when others then
        return null;
    end;
    $$;

    create or replace function {{ schema }}.onefold_try_date(value text)
    returns date language plpgsql immutable as $$
    begin
        return value::date;
    exception when others then
        return null;
    end;
    $$;
{% endmacro %}
