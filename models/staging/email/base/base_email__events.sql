{#-
    1:1 with raw email events: parsed values, quarantine columns and is_duplicate; the
    incremental staging table flags the raw rows it looks at again with the same macro
    (onefold.email_events_flags).
-#}
with

source as (

    {{ onefold.select_as_text(onefold.input_relation('email', 'email_events')) }}

),

{{ onefold.email_events_flags('source') }}

select * from flagged
