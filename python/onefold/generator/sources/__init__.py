"""One module per simulated source system; each builds the rows of its raw tables."""
