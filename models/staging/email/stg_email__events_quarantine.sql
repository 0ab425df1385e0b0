{{ onefold.quarantined_rows(ref('base_email__events'), onefold.input_relation('email', 'email_events')) }}
