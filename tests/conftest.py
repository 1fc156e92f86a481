"""Shared fixtures: the CLI run in a temporary directory, golden files, real Go data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support import Covtool, GoRun, go_test

GOLDEN = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens", action="store_true", help="rewrite golden files from the output"
    )


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
