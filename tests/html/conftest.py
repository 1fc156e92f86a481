"""HTML fixtures: one headless Chromium for the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser import chromium


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (no browser download)."""
    with chromium() as launched:
        yield launched
