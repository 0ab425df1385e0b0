{{ onefold.quarantined_rows(ref('base_web__events'), onefold.input_relation('web', 'web_events')) }}
