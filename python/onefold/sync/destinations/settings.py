"""Helpers every destination plugin uses to read its settings from syncs.yml."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError

from onefold.sync.errors import config_error_from_validation, sync_config_error

SettingsModel = TypeVar("SettingsModel", bound=BaseModel)

# What an environment variable's name may look like (POSIX), and the conventional
# upper-case form: only a name of that form is quoted back in messages, since anything
# else may be the secret itself pasted in the wrong place.
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONVENTIONAL_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")

#: set inside `missing_secrets_allowed()`: the messages about secrets that are not set
_missing_secrets: ContextVar[list[str] | None] = ContextVar("missing_secrets", default=None)


def parse_settings(
    model: type[SettingsModel], sync_name: str, settings: Mapping[str, Any]
) -> SettingsModel:
    """Validate a destination's settings; errors read
    `sync 'vip_webhook': destination.url: field required`.

    Give the model `extra="forbid"` so misspelled keys are caught.
    """
    try:
        return model.model_validate(dict(settings))
    except ValidationError as exc:
        raise config_error_from_validation(
            sync_name, exc, prefix="destination.", allowed_keys=model.model_fields
        ) from exc


@contextmanager
def missing_secrets_allowed() -> Iterator[list[str]]:
    """For a dry run, which contacts nothing: inside the block a secret that is not set
    does not raise; `secret_from_env` returns an empty secret and appends a message
    naming the variable to the yielded list (settings are still validated)."""
    messages: list[str] = []
    token = _missing_secrets.set(messages)
    try:
        yield messages
    finally:
        _missing_secrets.reset(token)


def secret_from_env(sync_name: str, field: str, variable: str) -> SecretStr:
    """The secret in environment variable `variable` (named by setting `field`).

    `variable` must look like a variable name; when it does not (the secret itself
    pasted into syncs.yml, say), the error says so without repeating it.
    """
    if not _VARIABLE_NAME.fullmatch(variable):
        raise sync_config_error(
            sync_name,
            f"destination.{field}",
            "this is not the name of an environment variable (letters, digits and "
            "underscores); the value is not shown in case it is the secret itself. Put "
            "the secret in an environment variable and write that variable's name here",
        )
    value = os.environ.get(variable, "")
    if value:
        return SecretStr(value)
    shown = variable if _CONVENTIONAL_NAME.fullmatch(variable) else "named here"
    message = (
        f"environment variable {shown} is not set (it holds the secret; syncs.yml names "
        "the variable, never the secret itself)"
    )
    missing = _missing_secrets.get()
    if missing is None:
        raise sync_config_error(sync_name, f"destination.{field}", message)
    missing.append(f"destination.{field}: {message}")
    return SecretStr("")
