{{ onefold.quarantined_rows(ref('base_email__events'), source('email', 'email_events')) }}
