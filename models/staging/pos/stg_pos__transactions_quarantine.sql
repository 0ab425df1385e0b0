{{ onefold.quarantined_rows(ref('base_pos__transactions'), source('pos', 'pos_transactions')) }}
