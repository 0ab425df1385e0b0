"""`onefold console`: a read-only local web app over the warehouse, for looking at one
customer (Customer 360) and at the health of each part of the build.

reader.py opens the warehouse per request (never holding a DuckDB file between
requests), customer.py and health.py read the panels, privacy.py masks personal values
and logs reveals, app.py renders the pages, server.py serves them.
"""
