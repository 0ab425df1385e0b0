"""Helpers every destination plugin uses to read its settings from syncs.yml."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError

from onefold.sync.errors import config_error_from_validation, sync_config_error

SettingsModel = TypeVar("SettingsModel", bound=BaseModel)


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


def secret_from_env(sync_name: str, field: str, variable: str) -> SecretStr:
    """The secret in environment variable `variable` (named by setting `field`)."""
    value = os.environ.get(variable, "")
    if not value:
        raise sync_config_error(
            sync_name,
            f"destination.{field}",
            f"environment variable {variable} is not set (it holds the secret; "
            "syncs.yml names the variable, never the secret itself)",
        )
    return SecretStr(value)
