"""GitHub fixtures: a GitHub-shaped server on loopback for each test, and no proxies."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from github_server import GitHubServer


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    """A fresh ``GitHubServer`` (no token required, no prefix), closed after the test."""
    with GitHubServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in its own directory, so no configuration file of the checkout is read."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _loopback_without_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback addresses are never sent through an HTTP proxy of the environment."""
    for variable in ("NO_PROXY", "no_proxy"):
        current = os.environ.get(variable, "")
        monkeypatch.setenv(variable, ",".join(filter(None, [current, "127.0.0.1,localhost"])))
