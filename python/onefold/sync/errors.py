"""Errors of the sync engine, and one formatter for pydantic validation errors.

Every message names the sync and the field at fault (design convention 9).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

from onefold.errors import ConfigError, OnefoldError


class SyncLockedError(OnefoldError):
    """Another run of the same sync holds its lock. Nothing was sent; exit code 2 so a
    scheduler does not mistake an overlapping schedule for failed records."""

    exit_code = 2


class RefusedSyncError(ConfigError):
    """The data would make the run unsafe (null or duplicate keys, a mirror about to
    remove everything); nothing was sent and the run is recorded as `refused`."""


class InvalidKeysError(RefusedSyncError):
    """The model has null or duplicate primary keys."""


def sync_config_error(sync_name: str, field: str, message: str) -> ConfigError:
    """`sync 'vip_webhook': destination.url: field required`."""
    return ConfigError(f"sync {sync_name!r}: {field}: {message}")


def location(parts: Iterable[int | str]) -> str:
    """pydantic's error location as a dotted path: `destination.url`, `purposes[1]`."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def config_error_from_validation(
    sync_name: str | None,
    exc: ValidationError,
    prefix: str = "",
    allowed_keys: Iterable[str] = (),
    where: str = "",
) -> ConfigError:
    """One ConfigError listing every problem pydantic found.

    `prefix` is prepended to each location (`destination.`); `allowed_keys` is offered
    as a hint when a key is unknown; `where` names the file when no sync is at fault.
    """
    allowed = sorted(allowed_keys)
    problems = []
    for error in exc.errors():
        field = prefix + location(error["loc"]) if error["loc"] else prefix.rstrip(".")
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            # The hint lists the keys of the level being validated, so only top-level
            # locations get it.
            hint = f" (expected one of: {', '.join(allowed)})" if allowed else ""
            message = "unknown key" + (hint if len(error["loc"]) == 1 else "")
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        if message[1:2].islower():  # "Field required" -> "field required"; "URL …" stays
            message = message[:1].lower() + message[1:]
        problems.append(f"{field or '(top level)'}: {message}")
    subject = f"sync {sync_name!r}" if sync_name else where
    return ConfigError(f"{subject}: {'; '.join(problems)}")
