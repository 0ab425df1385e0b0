"""Open the warehouse a test or benchmark environment points at."""

from __future__ import annotations

from collections.abc import Mapping

from onefold.testing.dbt import environment
from onefold.warehouse import Warehouse, connect


def connect_with(env: Mapping[str, str]) -> Warehouse:
    """`onefold.warehouse.connect` for the target and settings in `env` (ONEFOLD_*)."""
    with environment(env):
        return connect(env["ONEFOLD_TARGET"])
