"""covtool against real Go profiles made in this run by ``go test`` (Debian's golang-go)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import lxml.html
import pytest

from covtool_plugins.report.htmlview import page_name
from support import Covtool, GoRun, go_env, go_percentages

pytestmark = pytest.mark.realdata


def report_json(covtool: Covtool, *args: object) -> dict:
    result = covtool("report", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_single_package_total_equals_go_test(
    covtool: Covtool, stdlib_profiles: dict[str, GoRun]
) -> None:
    run = stdlib_profiles["strings"]
    expected = go_percentages(run.stdout)["strings"]
    text = covtool("report", run.profile)
    assert text.exit_code == 0
    total_line = text.stdout.strip().splitlines()[-1]
    assert total_line.split()[0] == "TOTAL"
    assert total_line.split()[-1] == f"{expected}%"
    data = report_json(covtool, run.profile)
    assert f"{data['totals']['percent']:.1f}" == expected


def test_each_package_equals_go_test(covtool: Covtool, stdlib_profiles: dict[str, GoRun]) -> None:
    run = stdlib_profiles["two"]
    data = report_json(covtool, run.profile)
    printed = {package: f"{d['percent']:.1f}" for package, d in data["directories"].items()}
    assert printed == go_percentages(run.stdout)


def cover_func_total(profile: Path, tmp: Path) -> str:
    """The total line of ``go tool cover -func``."""
    result = subprocess.run(
        ["go", "tool", "cover", f"-func={profile}"],
        capture_output=True,
        text=True,
        check=True,
        env=go_env(tmp),
    )
    return result.stdout.strip().splitlines()[-1].split()[-1].rstrip("%")


def test_total_equals_go_tool_cover(
    covtool: Covtool, stdlib_profiles: dict[str, GoRun], tmp_path: Path
) -> None:
    run = stdlib_profiles["two"]
    data = report_json(covtool, run.profile)
    assert f"{data['totals']['percent']:.1f}" == cover_func_total(run.profile, tmp_path)


def naive_percent(profile: Path) -> float:
    """Every line counted as its own block: what a tool that does not merge reports."""
    total = covered = 0
    for line in profile.read_text().splitlines()[1:]:
        statements, count = map(int, line.rsplit(" ", 2)[1:])
        total += statements
        covered += statements if count else 0
    return 100 * covered / total


def test_coverpkg_profile_reports_the_merged_figure(
    covtool: Covtool, stdlib_profiles: dict[str, GoRun], tmp_path
) -> None:
    run = stdlib_profiles["coverpkg"]
    data = report_json(covtool, run.profile)
    merged = data["totals"]["percent"]
    assert f"{merged:.1f}" == cover_func_total(run.profile, tmp_path)
    assert merged - naive_percent(run.profile) > 20  # the naive sum is far off
    single = report_json(covtool, stdlib_profiles["two"].profile)
    assert data["totals"]["statements"] == single["totals"]["statements"]


def test_merge_of_three_copies_triples_counts(
    covtool: Covtool, stdlib_profiles: dict[str, GoRun]
) -> None:
    profile = stdlib_profiles["two"].profile
    result = covtool("merge", profile, profile, profile, "-o", "merged.out")
    assert result.exit_code == 0, result.stderr
    original = profile.read_text().splitlines()
    merged = (covtool.path / "merged.out").read_text().splitlines()
    tripled = sorted(
        f"{line.rsplit(' ', 1)[0]} {3 * int(line.rsplit(' ', 1)[1])}" for line in original[1:]
    )
    assert merged[0] == original[0]
    assert sorted(merged[1:]) == tripled


def test_go_writer_round_trips_real_profile(
    covtool: Covtool, stdlib_profiles: dict[str, GoRun]
) -> None:
    profile = stdlib_profiles["coverpkg"].profile
    assert covtool("merge", profile, "-o", "once.out").exit_code == 0
    assert covtool("merge", "once.out", "-o", "twice.out").exit_code == 0
    once = (covtool.path / "once.out").read_text()
    assert once == (covtool.path / "twice.out").read_text()
    assert len(once.splitlines()) - 1 < len(profile.read_text().splitlines()) - 1  # merged


@pytest.mark.parametrize("fmt", ["cobertura", "lcov"])
def test_line_formats_keep_the_go_line_view(
    covtool: Covtool, stdlib_profiles: dict[str, GoRun], fmt: str
) -> None:
    """Cobertura and LCOV written from a real Go profile, read back: per file, the covered and
    total lines equal covtool's line view of the original blocks."""
    from covtool_plugins.formats.go import parse

    source = stdlib_profiles["coverpkg"].profile
    original = parse(source.read_bytes(), str(source))
    expected = {}
    for path in original:
        view = original[path].lines()
        expected[path] = {"statements": view.line.size, "covered": int((view.hits > 0).sum())}
    assert covtool("convert", source, "--format", fmt, "-o", f"go.{fmt}").exit_code == 0
    data = report_json(covtool, f"go.{fmt}")
    got = {
        p: {"statements": f["statements"], "covered": f["covered"]}
        for p, f in data["files"].items()
    }
    assert got == expected
    assert len(got) == 14 and sum(v["statements"] for v in got.values()) > 3000


def test_html_index_agrees_with_go_test_and_shows_the_standard_library(
    covtool: Covtool, stdlib_profiles: dict[str, GoRun], tmp_path: Path
) -> None:
    """The site of strings and encoding/json, sources read from GOROOT: each package's row
    is go test's figure, each file's row the JSON report's, and each page the real source."""
    run = stdlib_profiles["two"]
    goroot = subprocess.run(
        ["go", "env", "GOROOT"], capture_output=True, text=True, check=True, env=go_env(tmp_path)
    ).stdout.strip()
    root = Path(goroot) / "src"
    flags = ("--root", root)
    result = covtool("report", run.profile, "--format", "html", "-o", "site", *flags)
    assert result.exit_code == 0, result.stderr
    data = report_json(covtool, run.profile, *flags)
    index = lxml.html.parse(str(covtool.path / "site" / "index.html")).getroot()
    shown = {
        row.get("data-path"): [cell.text_content().split()[-1] for cell in row.xpath("td")[1:5]]
        for row in index.xpath("//table[@id='tree']/tbody/tr")
    }
    for package, percent in go_percentages(run.stdout).items():
        assert shown[package][3] == f"{percent}%", package
    assert len(data["files"]) > 10
    for path, figures in data["files"].items():
        statements, missed, covered = (int(v.replace(",", "")) for v in shown[path][:3])
        assert (statements, covered) == (figures["statements"], figures["covered"]), path
        assert missed == statements - covered
        page = lxml.html.parse(str(covtool.path / "site" / page_name(path))).getroot()
        texts = [cell.text_content() for cell in page.xpath("//div[@class='lines']/div/code")]
        assert texts == (root / path).read_text().split("\n")[: len(texts)], path
        assert len(texts) >= (root / path).read_text().count("\n")
