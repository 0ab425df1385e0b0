{#-
    1:1 with raw web events: parses every column, flags rows that cannot be used
    (quarantine) and older copies of the same message_id (duplicates). The staging
    and quarantine models both read from here so they can never disagree; the
    incremental staging table flags the raw rows it looks at again with the same
    macro (onefold.web_events_flags).
-#}
with

source as (

    {{ onefold.select_as_text(onefold.input_relation('web', 'web_events')) }}

),

{{ onefold.web_events_flags('source') }}

select * from flagged
