-- Final pass: connected components of the resolved graph. One component = one customer.
{{ onefold.connected_components(ref('int_identity_edges_resolved')) }}
