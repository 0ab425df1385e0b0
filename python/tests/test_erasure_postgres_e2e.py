"""test_erasure_e2e's tests on PostgreSQL, as a module of their own: pytest-xdist's
`--dist loadscope` keeps a module on one worker, so with both warehouses in one module
the two legs ran one after the other and were the suite's critical path."""

from __future__ import annotations

import pytest
from test_erasure_e2e import *  # noqa: F403 (the tests and their `world` fixture)

# The demo salt sits beside a DuckDB file (the demo runs on DuckDB): no PostgreSQL leg.
del test_without_a_real_salt_erase_uses_the_demo_salt_beside_the_warehouse  # noqa: F821

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.parametrize("world", ["postgres"], indirect=True, scope="module"),
]
