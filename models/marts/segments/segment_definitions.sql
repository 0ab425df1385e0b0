{#- One row per declared segment (onefold__segments), for BI and the sync engine. -#}
{{ config(alias=onefold.mart_alias()) }}

with

definitions as (

    {{ onefold.segment_definition_rows() }}

)

select * from definitions
