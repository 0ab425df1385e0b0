"""JSON text assembled column-wise: one object per row from pre-rendered fields."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from onefold.generator.arrays import BoolArray, TextArray, concat, where

Field = tuple[str, TextArray, BoolArray | None]  # key, JSON-encoded value, present (None: all)


def json_string(values: TextArray) -> TextArray:
    """JSON string literals: quotes and backslashes escaped, wrapped in double quotes."""
    escaped = np.strings.replace(np.strings.replace(values, "\\", "\\\\"), '"', '\\"')
    return concat('"', escaped, '"')


def json_object(fields: Sequence[Field], n: int) -> TextArray:
    """`{"key": value, ...}` per row, leaving out fields that are not present in a row."""
    body: TextArray | None = None
    for key, value, present in fields:
        fragment = concat(f',"{key}":', value)
        if present is not None:
            fragment = where(present, fragment, "")
        body = fragment if body is None else concat(body, fragment)
    if body is None:
        return np.full(n, "{}", dtype=np.dtypes.StringDType())
    return concat("{", np.strings.slice(body, 1, None), "}")
