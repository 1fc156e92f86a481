"""The coverage.py reader: JSON reports and .coverage data files, made here by coverage.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from covtool import PARTIAL
from support import Covtool

MODULE = """\
def sign(x):
    if x > 0:
        return 1
    elif x < 0:
        return -1
    return 0


def unused():  # pragma: no cover
    pass


for value in (1, 2):
    sign(value)
"""


@pytest.fixture
def measured(covtool: Covtool) -> Path:
    """``mod.py`` run under ``coverage run --branch`` in the covtool directory, with JSON."""
    covtool.write("mod.py", MODULE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE")}
    for args in (["run", "--branch", "mod.py"], ["json", "-o", "coverage.json"]):
        subprocess.run(
            [sys.executable, "-m", "coverage", *args],
            cwd=covtool.path,
            env=env,
            check=True,
            capture_output=True,
        )
    return covtool.path


def totals_of(covtool: Covtool, name: str) -> dict[str, object]:
    result = covtool("report", name, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)["files"]["mod.py"]


def test_json_statements_and_arcs(covtool: Covtool, measured: Path) -> None:
    # 8 statements (2 excluded), 3 missed; arcs 2->3 2->4 4->5 4->6 13->14 13->exit, 3 taken.
    assert totals_of(covtool, "coverage.json") == {
        "statements": 8,
        "covered": 5,
        "branches": 6,
        "branches_covered": 3,
        "percent": 800 / 14,
        "line_percent": 62.5,
        "branch_percent": 50.0,
    }


def test_data_file_gives_the_same_figures(covtool: Covtool, measured: Path) -> None:
    assert totals_of(covtool, ".coverage") == totals_of(covtool, "coverage.json")


def test_partial_branch_line_is_a_third_state(covtool: Covtool, measured: Path) -> None:
    from covtool_plugins.formats.coveragepy import _parse_json

    class Quiet:
        def warn(self, message: str) -> None:
            raise AssertionError(message)

    profile = _parse_json((measured / "coverage.json").read_bytes(), "coverage.json", Quiet())  # type: ignore[arg-type]
    view = profile["mod.py"].lines()
    states = dict(zip(view.line.tolist(), view.state.tolist(), strict=True))
    assert states[2] == PARTIAL  # ran, went to 3 but never to 4


def test_summary_disagreement_is_warned_once(covtool: Covtool, measured: Path) -> None:
    data = json.loads((measured / "coverage.json").read_text())
    data["files"]["mod.py"]["summary"]["num_statements"] = 9
    covtool.write("edited.json", json.dumps(data))
    result = covtool("report", "edited.json", "-f", "json")
    assert json.loads(result.stdout)["totals"]["statements"] == 8
    assert result.stderr == (
        "covtool: warning: edited.json: the header says 5 of 9 lines covered, "
        "the body 5 of 8; using the body\n"
    )


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        (
            '{"meta": {"format": 3}, "files": {',
            "bad.json:1:35",
            "malformed JSON: Expecting property name",
        ),
        ('{"meta": {"format": 3}, "files": []}', "bad.json", "files: missing or not a dict"),
        (
            '{"meta": {"format": 9}, "files": {}}',
            "bad.json",
            "meta.format: coverage.py JSON format 9 is not supported",
        ),
        (
            '{"meta": {"format": 3}, "files": {"a.py": {"executed_lines": [1, "x"]}}}',
            "bad.json",
            "files['a.py'].executed_lines: expected a list of line numbers",
        ),
        (
            '{"meta": {"format": 3}, "files": {"a.py": {"executed_branches": [[1]]}}}',
            "bad.json",
            "files['a.py'].executed_branches: expected [from, to] pairs",
        ),
    ],
)
def test_bad_json(covtool: Covtool, text: str, location: str, message: str) -> None:
    covtool.write("bad.json", text)
    result = covtool("report", "bad.json")
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"{location}: {message}")


def test_non_utf8_json(covtool: Covtool) -> None:
    (covtool.path / "bad.json").write_bytes(
        b'{"meta": {"format": 3},\n "files": {"caf\xe9.py": {}}}'
    )
    result = covtool("report", "bad.json")
    assert (result.exit_code, result.stderr) == (4, "bad.json:2: not UTF-8 text\n")


def test_data_file_for_missing_sources(covtool: Covtool, measured: Path) -> None:
    (measured / "mod.py").unlink()
    result = covtool("report", ".coverage")
    assert result.exit_code == 4
    assert result.stderr.startswith(
        ".coverage: coverage.py could not report on it: No source for code"
    )
    assert result.stderr.count("\n") == 1
