"""covtool against a real project's own test suite under coverage.py, made in this run.

The sdist of a small PyPI package (attrs) is downloaded, installed into its own virtual
environment and its tests run under ``coverage run --branch``. coverage.py's own figures
(``coverage report --precision=4`` and its JSON totals) are the reference for covtool's
reading of the JSON, XML, LCOV and ``.coverage`` files of that same run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import lxml.html
import pytest

from covtool.views import format_ratio
from covtool_plugins.report.htmlview import page_name
from support import Covtool

pytestmark = pytest.mark.realdata
PACKAGE = "attrs==26.1.0"


@dataclass
class CoverageRun:
    """The reports coverage.py wrote for one test run, and its own totals."""

    project: Path
    reports: Path
    statements: int
    missed: int
    branches: int
    missed_branches: int
    percent: str  # the TOTAL figure of ``coverage report --precision=4``


def run(args: list[str | Path], cwd: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE", "COVTOOL_", "PYTEST"))
    }
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False, **kw
    )  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def attrs_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CoverageRun]:
    work = tmp_path_factory.mktemp("attrs")
    python = work / "venv" / "bin" / "python"
    steps = [
        [sys.executable, "-m", "venv", work / "venv"],
        [python, "-m", "pip", "install", "-q", "coverage", "pytest", "hypothesis"],
        [
            python,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-binary",
            ":all:",
            "--no-deps",
            PACKAGE,
            "-d",
            work,
        ],
    ]
    for step in steps:
        result = run(step, work)
        assert result.returncode == 0, result.stderr[-2000:]
    sdist = next(work.glob("*.tar.gz"))
    with tarfile.open(sdist) as archive:
        archive.extractall(work, filter="data")
    project = next(p for p in work.iterdir() if p.is_dir() and p.name.startswith("attrs-"))
    assert run([python, "-m", "pip", "install", "-q", "."], project).returncode == 0
    run([python, "-m", "pip", "install", "-q", "pympler", "cloudpickle"], project)
    # The suite's own outcome does not matter (one test fails on newer Pythons); coverage does.
    run(
        [
            python,
            "-m",
            "coverage",
            "run",
            "--branch",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        project,
    )
    run([python, "-m", "coverage", "combine"], project)
    reports = work / "reports"
    reports.mkdir()
    report = run([python, "-m", "coverage", "report", "--precision=4"], project).stdout
    for kind, name in (
        ("json", "coverage.json"),
        ("xml", "coverage.xml"),
        ("lcov", "coverage.lcov"),
    ):
        assert run([python, "-m", "coverage", kind, "-o", reports / name], project).returncode == 0
    totals = json.loads((reports / "coverage.json").read_text())["totals"]
    total_line = re.search(r"^TOTAL\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)%", report, re.M)
    assert total_line, report
    statements, missed, branches = (int(total_line.group(i)) for i in (1, 2, 3))
    assert (statements, missed, branches) == (
        totals["num_statements"],
        totals["missing_lines"],
        totals["num_branches"],
    )
    yield CoverageRun(
        project,
        reports,
        statements,
        missed,
        branches,
        totals["missing_branches"],
        total_line.group(5),
    )


def covtool_totals(covtool: Covtool, path: Path, cwd: Path | None = None) -> dict[str, int]:
    runner = Covtool(cwd, covtool._capsys) if cwd else covtool
    result = runner("report", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["totals"]


def test_json_gives_coverage_pys_combined_figure(covtool: Covtool, attrs_run: CoverageRun) -> None:
    totals = covtool_totals(covtool, attrs_run.reports / "coverage.json")
    r = attrs_run
    assert (totals["statements"], totals["covered"]) == (r.statements, r.statements - r.missed)
    assert (totals["branches"], totals["branches_covered"]) == (
        r.branches,
        r.branches - r.missed_branches,
    )
    ratio = Fraction(
        totals["covered"] + totals["branches_covered"], totals["statements"] + totals["branches"]
    )
    expected = Fraction(
        r.statements - r.missed + r.branches - r.missed_branches, r.statements + r.branches
    )
    assert ratio == expected
    assert format_ratio(ratio, 4) == r.percent


@pytest.mark.parametrize("report", ["coverage.xml", "coverage.lcov"])
def test_xml_and_lcov_give_coverage_pys_line_figure(
    covtool: Covtool, attrs_run: CoverageRun, report: str
) -> None:
    totals = covtool_totals(covtool, attrs_run.reports / report)
    r = attrs_run
    assert Fraction(totals["covered"], totals["statements"]) == Fraction(
        r.statements - r.missed, r.statements
    )
    assert totals["statements"] == r.statements


def test_data_file_read_through_coverage_pys_api(covtool: Covtool, attrs_run: CoverageRun) -> None:
    # In the project's directory, so that its coverage configuration applies as it did.
    totals = covtool_totals(covtool, attrs_run.project / ".coverage", cwd=attrs_run.project)
    r = attrs_run
    assert (totals["statements"], totals["covered"], totals["branches"]) == (
        r.statements,
        r.statements - r.missed,
        r.branches,
    )
    assert totals["branches_covered"] == r.branches - r.missed_branches


def test_every_file_agrees_between_json_and_converted_formats(
    covtool: Covtool, attrs_run: CoverageRun
) -> None:
    """JSON → covtool → cobertura and lcov → covtool: per-file line figures survive."""
    source = attrs_run.reports / "coverage.json"
    original = json.loads(covtool("report", source, "-f", "json").stdout)["files"]
    for fmt in ("covtool", "cobertura", "lcov"):
        assert covtool("convert", source, "-f", fmt, "-o", f"out.{fmt}").exit_code == 0
        converted = json.loads(covtool("report", f"out.{fmt}", "-f", "json").stdout)["files"]
        assert {p: (f["statements"], f["covered"]) for p, f in converted.items()} == {
            p: (f["statements"], f["covered"]) for p, f in original.items()
        }, fmt


def test_html_marks_each_line_as_coverage_py_does(covtool: Covtool, attrs_run: CoverageRun) -> None:
    """Every line of every file: not covered (coverage.py's missing lines), partly covered
    (run, with a branch not taken) or covered, and the source text from the checkout."""
    # The tests ran the installed package: its files are in the virtual environment, which
    # the root (the work directory) holds.
    root = attrs_run.project.parent
    report = attrs_run.reports / "coverage.json"
    result = covtool("report", report, "--format", "html", "-o", "site", "--root", root)
    assert result.exit_code == 0, result.stderr
    assert "outside the repository" not in result.stderr
    files = json.loads(report.read_text())["files"]
    assert len(files) > 5
    for absolute, data in files.items():
        path = Path(absolute).relative_to(root).as_posix()
        rows = lxml.html.parse(str(covtool.path / "site" / page_name(path))).getroot()
        states: dict[str, set[int]] = {"m": set(), "p": set(), "c": set()}
        texts = []
        for row in rows.xpath("//div[@class='lines']/div"):
            number = int(row.get("id")[1:])
            for state in (row.get("class") or "").split():
                states.get(state, set()).add(number)
            texts.append(row.xpath("code")[0].text_content())
        missing = set(data["missing_lines"])
        partial = {line for line, _ in data.get("missing_branches", []) if line not in missing}
        assert states["m"] == missing, path
        assert states["p"] == partial, path
        assert states["c"] == set(data["executed_lines"]) - partial, path
        lines = (root / path).read_text(encoding="utf-8").split("\n")
        assert texts == (lines[:-1] if lines[-1] == "" else lines), path
