"""Prow end to end: the GCS emulator, a GitHub-shaped server, and a scenario per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gcs_fixtures import _loopback_without_proxies, gcs_emulator, gcs_emulators, gcs_env, gcs_front
from github_server import GitHubServer
from prow_scenario import BOT, TOKEN, Bucket, Project, Scenario, make_repository
from support import Covtool, go_env

__all__ = ["_loopback_without_proxies", "gcs_emulator", "gcs_emulators", "gcs_env", "gcs_front"]


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    """A GitHub that knows covtool-bot's token (and no other)."""
    with GitHubServer(token=TOKEN, login=BOT) as server:
        yield server


@pytest.fixture
def scenario(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    gcs_env: str,
    github: GitHubServer,
) -> Callable[[Project], Scenario]:
    """``scenario(project)``: the project's repository, a fresh bucket, this test's GitHub."""

    def make(project: Project) -> Scenario:
        work = tmp_path / "prow"
        work.mkdir(exist_ok=True)
        repo = tmp_path / "shop"
        commits = make_repository(repo, project)
        if shutil.which("go") is None:
            pytest.fail("go is not installed: the test command installs golang-go")
        env = {
            k: v for k, v in go_env(tmp_path).items() if k.startswith("GO") or k == "CGO_ENABLED"
        }
        return Scenario(
            project, repo, commits, Bucket(), github, lambda path: Covtool(path, capsys), work, env
        )

    return make
