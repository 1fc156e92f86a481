"""covtool against real C coverage made in this run: gcc's own instrumentation (``gcc
--coverage``), written out by gcovr (PyPI, in the test environment) as Cobertura, LCOV and
JaCoCo, and by Debian's lcov as an LCOV tracefile. The reference figures are the tools' own:
gcovr's ``--json-summary`` per file, and lcov's per-record ``LF``/``LH`` and ``lcov --summary``.

What the two reference tools say about the program below (gcc 12, gcovr 8, lcov 1.16; checked
by the tests, so a new release that changes any of it fails loudly):

* Lines: they agree. main.c has 6 executable lines, all covered; mathx.c has 9, 4 covered
  (``sign`` and ``unused`` never run). covtool must give exactly these figures from each of
  the four files.
* Branches: they disagree, and only because of a default. gcovr records gcc's 12 branch
  outcomes (7 taken). lcov 1.x leaves branches out unless asked (``lcov_branch_coverage = 0``
  in ``/etc/lcovrc``): its tracefile has no ``BRDA`` and its summary says "no data found".
  Captured again with ``--rc lcov_branch_coverage=1`` it has the same 12 and 7 as gcovr.
  (Line 6's untaken ``if`` branch is ``0`` in lcov's file and ``-`` in gcovr's; both count it
  as not taken.)
* Paths: lcov writes absolute paths (``/tmp/.../src/main.c``), gcovr paths relative to
  ``--root``; covtool runs in the project directory, so both land on ``src/main.c``. Files are
  compared by base name, which needs no path rule to be right.
* lcov 1.16's ``--capture`` writes no ``LF``/``LH`` at all (with gcc ≥ 9 geninfo reads gcov's
  JSON and leaves summing to lcov); ``lcov --add-tracefile`` rewrites the file with them, which
  is where lcov's own per-file figures come from here.
* gcovr's JaCoCo output carries no per-line coverage: its ``<line>`` elements have ``nr`` and,
  on branch lines, ``mb``/``cb``, but never ``mi``/``ci``; only per-file ``LINE`` counters
  say 10 of 15. Which lines ran cannot be told from that, so covtool refuses the file with a
  message pointing to gcovr's Cobertura or LCOV output (see ``formats/jacoco.py``) instead of
  reporting 0 covered lines. The test asserts the refusal.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from support import Covtool

pytestmark = pytest.mark.realdata

# The program of ../shared/realdata/c.sh, byte for byte.
MATHX_C = """\
#include "mathx.h"
int clamp(int v, int lo, int hi) {
    if (v < lo) return lo;
    if (v > hi) return hi;
    return v;
}
int sign(int v) {
    if (v > 0) return 1;
    else if (v < 0) return -1;
    return 0;
}
int unused(int v) { return v * 42; }
"""
MATHX_H = """\
int clamp(int v, int lo, int hi);
int sign(int v);
int unused(int v);
"""
MAIN_C = """\
#include <stdio.h>
#include "mathx.h"
int main(int argc, char **argv) {
    int total = 0;
    for (int i = -3; i < 3; i++) total += clamp(i, -1, 1);
    if (argc > 5) total += sign(argc);
    printf("%d\\n", total);
    return 0;
}
"""

#: Per file (base name): (lines, covered lines) and (branches, covered branches).
Counts = dict[str, tuple[int, int]]


@dataclass(frozen=True)
class CCoverage:
    """The generated files and the reference tools' own figures."""

    directory: Path
    gcovr_lines: Counts  # gcovr --json-summary: line_total, line_covered
    gcovr_branches: Counts  # gcovr --json-summary: branch_total, branch_covered
    gcovr_totals: tuple[int, int]
    lcov_lines: Counts  # LF, LH of each record, as lcov itself writes them
    lcov_branch_lines: Counts  # the same, from the capture with branches
    lcov_branches: Counts  # BRF, BRH of each record of the capture with branches
    lcov_summary: str  # lcov --summary of the default capture
    lcov_branch_summary: str  # lcov --summary of the capture with branches


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"
    return result


def require_tools() -> None:
    for tool, package in (("gcc", "gcc"), ("lcov", "lcov"), ("gcov", "gcc")):
        if shutil.which(tool) is None:
            pytest.fail(
                f"{tool} is not installed: the test command (dev/test.sh) installs {package}"
            )
    if importlib.util.find_spec("gcovr") is None:
        pytest.fail(f"gcovr is not installed in {sys.executable}: pip install -e '.[test]'")


def lcov_records(path: Path) -> tuple[Counts, Counts]:
    """``(LF, LH)`` and ``(BRF, BRH)`` per record, by base name (one record per file here)."""
    lines: Counts = {}
    branches: Counts = {}
    name = ""
    fields: dict[str, int] = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        if key == "SF":
            name, fields = PurePosixPath(value).name, {}
        elif key in ("LF", "LH", "BRF", "BRH"):
            fields[key] = int(value)
        elif line == "end_of_record":
            assert name not in lines, f"{path}: two records for {name}"
            lines[name] = (fields["LF"], fields["LH"])
            if "BRF" in fields:
                branches[name] = (fields["BRF"], fields["BRH"])
    return lines, branches


def lcov_capture(directory: Path, output: str, *rc: str) -> tuple[Counts, Counts, str]:
    """Capture with lcov, then have lcov rewrite the tracefile with its own summaries."""
    run(
        ["lcov", "--quiet", *rc, "--capture", "--directory", ".", "--output-file", output],
        directory,
    )
    summed = f"{output}.summed"
    run(["lcov", "--quiet", *rc, "--add-tracefile", output, "--output-file", summed], directory)
    lines, branches = lcov_records(directory / summed)
    summary = run(["lcov", *rc, "--summary", output], directory)
    return lines, branches, summary.stdout + summary.stderr


@pytest.fixture(scope="module")
def c_coverage(tmp_path_factory: pytest.TempPathFactory) -> CCoverage:
    """What ../shared/realdata/c.sh makes, made here without network: compile, run, report."""
    require_tools()
    directory = tmp_path_factory.mktemp("c")
    (directory / "src").mkdir()
    for name, text in (("mathx.c", MATHX_C), ("mathx.h", MATHX_H), ("main.c", MAIN_C)):
        (directory / "src" / name).write_text(text)
    run(["gcc", "--coverage", "-O0", "-o", "prog", "src/main.c", "src/mathx.c"], directory)
    run(["./prog"], directory)
    gcovr = [sys.executable, "-m", "gcovr", "--root", "."]
    run(
        [
            *gcovr,
            *("--cobertura", "c-cobertura.xml", "--lcov", "c-coverage.lcov"),
            *("--jacoco", "c-jacoco.xml", "--json-summary", "c-gcovr-summary.json"),
        ],
        directory,
    )
    summary = json.loads((directory / "c-gcovr-summary.json").read_text())
    files = {PurePosixPath(f["filename"]).name: f for f in summary["files"]}
    lcov_lines, no_branches, lcov_summary = lcov_capture(directory, "c-lcov.info")
    assert no_branches == {}
    branch_lines, lcov_branches, branch_summary = lcov_capture(
        directory, "c-lcov-branches.info", "--rc", "lcov_branch_coverage=1"
    )
    return CCoverage(
        directory,
        {n: (f["line_total"], f["line_covered"]) for n, f in files.items()},
        {n: (f["branch_total"], f["branch_covered"]) for n, f in files.items()},
        (summary["line_total"], summary["line_covered"]),
        lcov_lines,
        branch_lines,
        lcov_branches,
        lcov_summary,
        branch_summary,
    )


def covtool_report(
    c: CCoverage, capsys: pytest.CaptureFixture[str], name: str
) -> tuple[dict[str, Any], str]:
    """``covtool report NAME --format json`` in the project directory; JSON and stderr."""
    result = Covtool(c.directory, capsys)("report", name, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    assert len(data["files"]) == 2, sorted(data["files"])
    return data, result.stderr


def by_name(data: dict[str, Any], *keys: str) -> Counts:
    """Per base name, the given counts (0 when a key is absent)."""
    found = {}
    for path, totals in data["files"].items():
        a, b = (totals.get(key, 0) for key in keys)
        found[PurePosixPath(path).name] = (a, b)
    return found


def summary_pair(summary: str, kind: str) -> tuple[int, int] | None:
    """``(total, hit)`` from an ``lcov --summary`` line, None for "no data found"."""
    match = re.search(rf"{kind}\.+: [\d.]+% \((\d+) of (\d+) {kind}\)", summary)
    if match is None:
        assert re.search(rf"{kind}\.+: no data found", summary), summary
        return None
    return int(match.group(2)), int(match.group(1))


# -- the reference tools ---------------------------------------------------------------------
def test_gcovr_and_lcov_agree_on_lines(c_coverage: CCoverage) -> None:
    c = c_coverage
    assert c.gcovr_lines == {"main.c": (6, 6), "mathx.c": (9, 4)}
    assert c.lcov_lines == c.gcovr_lines
    assert c.lcov_branch_lines == c.gcovr_lines
    assert summary_pair(c.lcov_summary, "lines") == c.gcovr_totals == (15, 10)


def test_lcov_leaves_branches_out_unless_asked(c_coverage: CCoverage) -> None:
    """The one disagreement: lcov's default has no branches; with them it agrees with gcovr."""
    c = c_coverage
    assert summary_pair(c.lcov_summary, "branches") is None
    assert "BRDA:" not in (c.directory / "c-lcov.info").read_text()
    assert c.gcovr_branches == {"main.c": (4, 3), "mathx.c": (8, 4)}
    assert c.lcov_branches == c.gcovr_branches
    assert summary_pair(c.lcov_branch_summary, "branches") == (12, 7)


# -- covtool against them ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "producer"),
    [
        ("c-cobertura.xml", "gcovr"),
        ("c-coverage.lcov", "gcovr"),
        ("c-lcov.info", "lcov"),
        ("c-lcov-branches.info", "lcov"),
    ],
)
def test_line_totals_equal_the_producers(
    c_coverage: CCoverage, capsys: pytest.CaptureFixture[str], name: str, producer: str
) -> None:
    data, stderr = covtool_report(c_coverage, capsys, name)
    assert stderr == ""
    expected = c_coverage.gcovr_lines if producer == "gcovr" else c_coverage.lcov_lines
    assert by_name(data, "statements", "covered") == expected
    assert (data["totals"]["statements"], data["totals"]["covered"]) == c_coverage.gcovr_totals


@pytest.mark.parametrize("name", ["c-cobertura.xml", "c-coverage.lcov", "c-lcov-branches.info"])
def test_branch_totals_equal_the_producers(
    c_coverage: CCoverage, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    data, _ = covtool_report(c_coverage, capsys, name)
    assert by_name(data, "branches", "branches_covered") == c_coverage.gcovr_branches
    assert (data["totals"]["branches"], data["totals"]["branches_covered"]) == (12, 7)


def test_lcov_default_capture_has_no_branches(
    c_coverage: CCoverage, capsys: pytest.CaptureFixture[str]
) -> None:
    data, _ = covtool_report(c_coverage, capsys, "c-lcov.info")
    assert "branches" not in data["totals"]
    assert by_name(data, "branches", "branches_covered") == {"main.c": (0, 0), "mathx.c": (0, 0)}


def test_gcovr_jacoco_is_refused_for_lacking_line_counters(
    c_coverage: CCoverage, capsys: pytest.CaptureFixture[str]
) -> None:
    """Where covtool and gcovr part ways: gcovr's JaCoCo writer puts no instruction counters
    (mi/ci) on any line, only per-file LINE counters, so which lines ran cannot be known
    from it (the branch counters decide some lines, not all: in mathx.c two of five lines
    without branches ran). Rather than report every line as missed, covtool refuses the file
    and points to gcovr's Cobertura and LCOV output, which it reads to gcovr's own figures."""
    text = (c_coverage.directory / "c-jacoco.xml").read_text()
    assert "<line " in text and " ci=" not in text and " mi=" not in text
    result = Covtool(c_coverage.directory, capsys)("report", "c-jacoco.xml", "--format", "json")
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr == (
        "c-jacoco.xml: none of its 15 <line> elements has instruction counters (mi/ci), so "
        "which lines ran is unknown (gcovr writes JaCoCo this way); read the producer's "
        "Cobertura or LCOV output instead\n"
    )
