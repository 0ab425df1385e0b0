"""Errors a user can act on. The CLI maps them to exit codes (2 = bad usage or config)."""

from __future__ import annotations


class OnefoldError(Exception):
    """Base class: the message names what is wrong and what to do."""

    exit_code = 1


class ConfigError(OnefoldError):
    """Bad usage, configuration or input: exit code 2."""

    exit_code = 2


class WarehouseError(OnefoldError):
    """The warehouse could not be reached or a statement failed."""

    exit_code = 2
