{{ onefold.quarantined_rows(ref('base_privacy__erasure_requests'), source('privacy', 'erasure_requests')) }}
