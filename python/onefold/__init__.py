"""Onefold: a warehouse-native customer data platform built on dbt."""

__version__ = "0.1.0"
