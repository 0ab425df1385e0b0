{{ onefold.quarantined_rows(ref('base_web__events'), source('web', 'web_events')) }}
