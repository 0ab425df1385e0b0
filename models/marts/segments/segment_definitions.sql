{#- One row per declared segment (onefold__segments), for BI and the sync engine. -#}

with

definitions as (

    {{ onefold.segment_definition_rows() }}

)

select * from definitions
