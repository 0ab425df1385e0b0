{#-
    The marks (int_downstream_watermarks) the incremental downstream models were last
    completed through: built after every one of them, so a run that fails part-way
    leaves the previous marks, and the next run recomputes everything since. Read by
    the next run's int_customers_affected.
-#}
-- depends_on: {{ ref('int_customer_attribute_candidates') }}
-- depends_on: {{ ref('int_customer_attributes_ranked') }}
-- depends_on: {{ ref('customer_attributes') }}
-- depends_on: {{ ref('int_customer_traits') }}
-- depends_on: {{ ref('int_customer_consent_baselines') }}
-- depends_on: {{ ref('consent_history') }}
-- depends_on: {{ ref('consent_current') }}
-- depends_on: {{ ref('activation_audiences') }}

with

marks as (

    select * from {{ ref('int_downstream_watermarks') }}

)

select * from marks
