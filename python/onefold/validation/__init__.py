"""Data-quality expectations for the published tables (`onefold validate`).

`spec` reads `validation/expectations.yml`; `gx_session` runs the checks with
great-expectations; `report` holds the results. The entry point is
`onefold.validate.run_validation`.
"""
