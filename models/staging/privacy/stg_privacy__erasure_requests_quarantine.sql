{{ onefold.quarantined_rows(ref('base_privacy__erasure_requests'), onefold.input_relation('privacy', 'erasure_requests')) }}
