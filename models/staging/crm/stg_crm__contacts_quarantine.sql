{{ onefold.quarantined_rows(ref('base_crm__contacts'), onefold.input_relation('crm', 'crm_contacts')) }}
