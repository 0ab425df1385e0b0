"""Destination plugins, by the `type` a sync names in syncs.yml.

Each entry maps a type to `"module:factory"`; the module is imported only when a sync
uses it, so a destination's dependencies load only when needed. A factory is called as
`factory(sync_name, settings)`, where `settings` is the sync's `destination:` mapping
without `type` and `name`, and returns a `Destination` (see `base.py`). It validates
its settings with pydantic and raises ConfigError naming the sync and field
(`onefold.sync.destinations.settings.parse_settings` does both).

Adding a destination is one line here plus its module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from onefold.errors import ConfigError
from onefold.sync.destinations.base import Destination

if TYPE_CHECKING:
    from onefold.sync.config import SyncConfig

DestinationFactory = Callable[[str, Mapping[str, Any]], Destination]

DESTINATION_TYPES: dict[str, str] = {
    "webhook": "onefold.sync.destinations.webhook:create",
    "postgres": "onefold.sync.destinations.postgres_table:create_destination",
    "file": "onefold.sync.destinations.file:create_destination",
    "braze": "onefold.sync.destinations.braze:create_destination",
}


def destination_types() -> tuple[str, ...]:
    """The destination types syncs.yml may name."""
    return tuple(sorted(DESTINATION_TYPES))


def load_factory(destination_type: str) -> DestinationFactory:
    """Import the factory registered for `destination_type`."""
    try:
        target = DESTINATION_TYPES[destination_type]
    except KeyError:
        raise ConfigError(
            f"unknown destination type {destination_type!r} "
            f"(known: {', '.join(destination_types())})"
        ) from None
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"destination type {destination_type!r} cannot be loaded: {exc}. "
            "Install Onefold with its dependencies (`make install`)."
        ) from exc
    return cast(DestinationFactory, getattr(module, attribute))


def build_destination(sync: SyncConfig) -> Destination:
    """A ready-to-use destination for `sync` (settings validated, secrets read)."""
    return load_factory(sync.destination.type)(sync.name, sync.destination.settings)
