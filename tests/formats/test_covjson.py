"""covtool's own profile JSON, and ``covtool convert`` between formats."""

from __future__ import annotations

import json

import pytest

from support import Covtool

GO = "mode: count\na.go:1.1,2.5 2 3\na.go:3.1,4.2 1 0\nsub/b.go:1.1,1.9 4 1\n"
COVERAGEPY = json.dumps(
    {
        "meta": {"format": 3},
        "files": {
            "m.py": {
                "executed_lines": [1, 2],
                "missing_lines": [3],
                "executed_branches": [[2, 3]],
                "missing_branches": [[2, -1]],
            }
        },
    }
)


def summary(covtool: Covtool, name: str) -> dict[str, object]:
    result = covtool("report", name, "-f", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(("name", "text"), [("c.out", GO), ("c.json", COVERAGEPY)])
def test_round_trip_is_lossless(covtool: Covtool, name: str, text: str) -> None:
    covtool.write(name, text)
    assert covtool("convert", name, "-f", "covtool", "-o", "p.json").exit_code == 0
    document = json.loads((covtool.path / "p.json").read_text())
    assert document["format"] == "covtool-profile" and document["format_version"] == 1
    assert summary(covtool, "p.json") == summary(covtool, name)


def test_block_rows_and_back_to_go(covtool: Covtool) -> None:
    covtool.write("c.out", GO)
    covtool("convert", "c.out", "-f", "covtool", "-o", "p.json")
    document = json.loads((covtool.path / "p.json").read_text())
    assert document["unit"] == "block" and document["mode"] == "count"
    assert document["files"] == {
        "a.go": [[1, 1, 2, 5, 2, 3], [3, 1, 4, 2, 1, 0]],
        "sub/b.go": [[1, 1, 1, 9, 4, 1]],
    }
    assert covtool("convert", "p.json", "-f", "go").stdout == GO


def test_line_rows(covtool: Covtool) -> None:
    covtool.write("c.json", COVERAGEPY)
    covtool("convert", "c.json", "-f", "covtool", "-o", "p.json")
    assert json.loads((covtool.path / "p.json").read_text())["files"] == {
        "m.py": [[1, 1, 0, 0], [2, 1, 2, 1], [3, 0, 0, 0]]
    }


def test_converting_lines_to_go_is_refused(covtool: Covtool) -> None:
    covtool.write("c.json", COVERAGEPY)
    result = covtool("convert", "c.json", "-f", "go", "-o", "c.out")
    assert result.exit_code == 3
    assert (
        result.stderr
        == "covtool: error: the go format holds Go blocks; this profile holds lines from coveragepy\n"
    )
    assert not (covtool.path / "c.out").exists()


def test_unknown_output_format(covtool: Covtool) -> None:
    covtool.write("c.out", GO)
    result = covtool("convert", "c.out", "-f", "coveragepy")
    assert result.exit_code == 3 and "unknown report format 'coveragepy'" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"format": "covtool-profile", "format_version": 2, "unit": "line", "files": {}}',
            "format_version: 2 is not supported (1 is)",
        ),
        (
            '{"format": "covtool-profile", "format_version": 1, "unit": "lines", "files": {}}',
            "unit: expected 'block' or 'line'",
        ),
        (
            '{"format": "covtool-profile", "format_version": 1, "unit": "line", "files": {"a": [[1, 2]]}}',
            "files['a']: expected a list of rows of 4 non-negative integers",
        ),
        (
            '{"format": "covtool-profile", "format_version": 1, "unit": "block", "files": {"a": [[1, 1, 1, 2, 1, -1]]}}',
            "files['a']: expected a list of rows of 6",
        ),
    ],
)
def test_bad_documents(covtool: Covtool, text: str, message: str) -> None:
    covtool.write("p.json", text)
    result = covtool("report", "p.json")
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr == f"p.json: {message}" + result.stderr.split(message, 1)[1]
    assert result.stderr.count("\n") == 1


def test_forced_input_format_and_stdin(covtool: Covtool, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(GO.encode())))
    assert summary(covtool, "-")["totals"] == {"statements": 7, "covered": 6, "percent": 600 / 7}
    covtool.write("odd.txt", GO)
    assert summary(covtool, "odd.txt") == summary(covtool, "odd.txt")
    forced = covtool("report", "odd.txt", "--input-format", "covtool")
    assert forced.exit_code == 4 and forced.stderr.startswith("odd.txt:1:1: malformed JSON")


def test_forced_unknown_input_format(covtool: Covtool) -> None:
    covtool.write("c.out", GO)
    result = covtool("report", "c.out", "--input-format", "nosuch")
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr.startswith("c.out:1: no plugin reads format 'nosuch' (known: ")
    assert "cobertura" in result.stderr and result.stderr.count("\n") == 1
