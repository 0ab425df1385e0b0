{{ onefold.quarantined_rows(ref('base_pos__transactions'), onefold.input_relation('pos', 'pos_transactions')) }}
