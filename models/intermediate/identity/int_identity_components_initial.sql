-- First pass: connected components of the candidate graph, before conflicts are cut.
{{ onefold.connected_components(ref('int_identity_edges_candidate')) }}
