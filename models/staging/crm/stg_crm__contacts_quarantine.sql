{{ onefold.quarantined_rows(ref('base_crm__contacts'), source('crm', 'crm_contacts')) }}
