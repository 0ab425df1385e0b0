{{ onefold.quarantined_rows(ref('base_consent__events'), source('consent', 'consent_events')) }}
