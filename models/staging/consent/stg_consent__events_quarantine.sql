{{ onefold.quarantined_rows(ref('base_consent__events'), onefold.input_relation('consent', 'consent_events')) }}
