"""Helpers for format readers: turning input bytes into data with errors that say where."""

from __future__ import annotations

import json
from typing import Any

from covtool.errors import InputError


def load_json(data: bytes, name: str) -> Any:
    """The JSON document in ``data``; bad encoding or syntax is an ``InputError`` at
    ``name:LINE`` or ``name:LINE:COLUMN``."""
    try:
        return json.loads(data)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(f"{name}:{line}", "not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"{name}:{error.lineno}:{error.colno}", f"malformed JSON: {error.msg}"
        ) from None
