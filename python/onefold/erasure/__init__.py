"""Erasure propagation: right-to-be-forgotten requests through the warehouse and every
destination (`onefold erase`). See docs/erasure_design.md for the design.

Modules: `requests` (intake and validation), `resolve` (the identity graph expansion),
`plan` (every statement a request runs), `execute` (the journaled, resumable run),
`suppression`, `salt` and `session_salt` (the salted hashes staging screens),
`propagate` (destination deletes), `receipts` (proof), `verify` (the residual scan),
`cli` (the click command).
"""
