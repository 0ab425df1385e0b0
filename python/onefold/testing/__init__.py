"""Helpers for tests and benchmarks (throwaway PostgreSQL, dbt runs)."""
