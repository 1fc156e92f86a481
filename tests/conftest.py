"""Shared fixtures: the CLI run in a temporary directory, golden files, real Go data."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from covtool.cli import main

GOLDEN = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens", action="store_true", help="rewrite golden files from the output"
    )


@dataclass
class Result:
    """What one covtool invocation did."""

    exit_code: int
    stdout: str
    stderr: str


class Covtool:
    """Runs the real CLI (``covtool.cli.main``) in a directory, with a clean environment.

    Every ``COVTOOL_*`` variable of the surrounding environment is removed so that a
    developer's settings never leak into a test; ``env`` adds variables for one call.
    """

    def __init__(self, path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.path = path
        self._capsys = capsys

    def __call__(self, *args: str | Path, env: dict[str, str] | None = None) -> Result:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("COVTOOL_")}
        environ.update(env or {})
        previous = Path.cwd()
        self._capsys.readouterr()
        os.chdir(self.path)
        try:
            code = main([str(arg) for arg in args], environ)
        finally:
            os.chdir(previous)
        out, err = self._capsys.readouterr()
        return Result(int(code), out, err)

    def write(self, name: str, text: str) -> Path:
        """Create a file under the run directory."""
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path


@pytest.fixture
def covtool(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Covtool:
    """The CLI, run in an empty temporary directory."""
    return Covtool(tmp_path, capsys)


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """``golden(name, text)``: text must equal ``tests/golden/NAME``; ``--update-goldens``
    rewrites the file instead."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if request.config.getoption("--update-goldens"):
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
        assert path.exists(), f"missing golden file {path}; run pytest --update-goldens"
        assert text == path.read_text(), f"output differs from {path}"

    return check


# -- real Go data ------------------------------------------------------------------------
@dataclass
class GoRun:
    """A profile written by ``go test`` and what ``go test`` printed while writing it."""

    profile: Path
    stdout: str


def go_env(tmp: Path) -> dict[str, str]:
    """An environment in which ``go`` needs no network and no home directory."""
    return os.environ | {
        "GOPATH": str(tmp / "gopath"),
        "GOCACHE": os.environ.get("GOCACHE", "/tmp/covtool-test-gocache"),
        "GOFLAGS": "",
        "GOPROXY": "off",
        "GO111MODULE": "on",
        "CGO_ENABLED": "0",
    }


def go_test(workdir: Path, tmp: Path, profile: Path, *args: str) -> GoRun:
    """Run ``go test -coverprofile=PROFILE ARGS`` in ``workdir``."""
    if shutil.which("go") is None:
        pytest.fail("go is not installed: the test command installs golang-go")
    result = subprocess.run(
        ["go", "test", f"-coverprofile={profile}", *args],
        cwd=workdir,
        env=go_env(tmp),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return GoRun(profile, result.stdout)


@pytest.fixture(scope="session")
def stdlib_profiles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, GoRun]]:
    """Real profiles of Go's standard library, made once per test session.

    ``strings``: one package, count mode; ``two``: strings and encoding/json, count mode;
    ``coverpkg``: both packages covering each other in atomic mode, so that every block
    appears once per test binary.
    """
    tmp = tmp_path_factory.mktemp("stdlib")
    runs = {
        "strings": go_test(tmp, tmp, tmp / "strings.out", "-covermode=count", "strings"),
        "two": go_test(tmp, tmp, tmp / "two.out", "-covermode=count", "strings", "encoding/json"),
        "coverpkg": go_test(
            tmp,
            tmp,
            tmp / "coverpkg.out",
            "-covermode=atomic",
            "-coverpkg=strings,encoding/json",
            "strings",
            "encoding/json",
        ),
    }
    yield runs
