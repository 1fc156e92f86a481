"""The TestGrid JUnit XML: a golden file, the schema, and the numbers read back by two
readers (xmltodict and junitparser) equal to ``covtool report --format json``."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import junitparser
import pytest
import xmltodict
from lxml import etree

from covtool import ExitCode, views
from pr_scenarios import lcov
from support import Covtool, GoRun, go_percentages

SCHEMA = etree.XMLSchema(etree.parse(str(Path(__file__).with_name("junit.xsd"))))

SMALL = {
    "pkg/a/one.go": {1: 1, 2: 1, 3: 0},  # 66.7 %
    "pkg/a/two.go": {1: 1},  # 100 %
    "pkg/ab/three.go": {1: 0, 2: 0, 3: 1, 4: 1},  # 50 %
    "pkg/empty.go": {},  # nothing to cover
    "a<b&c>.go": {1: 1, 2: 1, 3: 1, 4: 1, 5: 0},  # 80 %
}


def junit(covtool: Covtool, profile: str | Path, *flags: str) -> str:
    result = covtool("report", profile, "--format", "junit", *flags)
    assert result.exit_code == ExitCode.OK, result.stderr
    return result.stdout


def validate(text: str) -> None:
    """The document is valid against the JUnit schema kept in tests/."""
    document = etree.fromstring(text.encode())
    assert SCHEMA.validate(document), SCHEMA.error_log


def junit_suite(text: str) -> junitparser.TestSuite:
    """The one suite, as junitparser (a standard JUnit reader) reads it."""
    (suite,) = junitparser.JUnitXml.fromstring(text.encode())
    return suite


def coverage_by_name(text: str) -> dict[str, str | None]:
    """Each row's ``coverage`` property, read back with xmltodict (None when absent)."""
    cases = xmltodict.parse(text, force_list=("testcase", "property"))["testsuite"]["testcase"]
    found: dict[str, str | None] = {}
    for case in cases:
        props = (case.get("properties") or {}).get("property", [])
        values = [p["@value"] for p in props if p["@name"] == "coverage"]
        found[case["@name"]] = values[0] if values else None
    return found


def expected_from_json(data: dict[str, Any]) -> dict[str, str | None]:
    """The rows ``covtool report --format json`` implies, in the junit's rounding."""

    def shown(totals: dict[str, Any]) -> str | None:
        hit = totals["covered"] + totals.get("branches_covered", 0)
        total = totals["statements"] + totals.get("branches", 0)
        return views.format_ratio(Fraction(hit, total)) if total else None

    rows = {"OVERALL": shown(data["totals"])}
    rows |= {path: shown(t) for path, t in data["files"].items()}
    rows |= {path: shown(t) for path, t in data["directories"].items()}
    return rows


def test_small_profile_golden(covtool: Covtool, golden: Any) -> None:
    covtool.write("small.info", lcov(SMALL))
    text = junit(covtool, "small.info", "--coverage-threshold", "70", "--junit-suite", "demo")
    golden("junit-small.xml", text)
    validate(text)
    suite = xmltodict.parse(text)["testsuite"]
    assert (suite["@name"], suite["@tests"], suite["@failures"]) == ("demo", "10", "4")
    names = [case["@name"] for case in suite["testcase"]]
    # OVERALL, the files by path, then the directories by path.
    assert names == [
        "OVERALL",
        "a<b&c>.go",
        "pkg/a/one.go",
        "pkg/a/two.go",
        "pkg/ab/three.go",
        "pkg/empty.go",
        ".",
        "pkg",
        "pkg/a",
        "pkg/ab",
    ]
    assert coverage_by_name(text)["pkg/empty.go"] is None


def test_rows_below_the_threshold_fail_with_a_sentence(covtool: Covtool) -> None:
    covtool.write("small.info", lcov(SMALL))
    text = junit(covtool, "small.info", "--coverage-threshold", "66.67")
    suite = junit_suite(text)
    failed = {
        case.name: case.result[0].message
        for case in suite
        if any(isinstance(r, junitparser.Failure) for r in case.result)
    }
    assert failed == {
        "pkg/a/one.go": "code coverage of 66.667% is below threshold of 66.67%",
        "pkg/ab/three.go": "code coverage of 50.0% is below threshold of 66.67%",
        "pkg/ab": "code coverage of 50.0% is below threshold of 66.67%",
    }
    assert "<failure" not in junit(covtool, "small.info", "--coverage-threshold", "0")


def test_directories_are_exact_not_prefixes(covtool: Covtool) -> None:
    covtool.write("small.info", lcov(SMALL))
    rows = coverage_by_name(junit(covtool, "small.info"))
    assert rows["pkg/a"] == "75.0"  # one.go and two.go: 3 of 4, never three.go
    assert rows["pkg/ab"] == "50.0"
    assert rows["pkg"] is None  # pkg/empty.go alone: nothing to cover
    assert rows["."] == "80.0"


def test_both_class_name_attributes_and_the_readers_agree(covtool: Covtool) -> None:
    covtool.write("small.info", lcov(SMALL))
    text = junit(covtool, "small.info", "--junit-classname", "unit_coverage")
    for case in junit_suite(text):
        assert case.classname == "unit_coverage"
        assert case._elem.get("class_name") == "unit_coverage"
    assert 'classname="lcov_coverage" class_name="lcov_coverage"' in junit(covtool, "small.info")


def test_real_go_profile_reads_back_as_the_json_report(
    covtool: Covtool, stdlib_profiles: dict[str, GoRun]
) -> None:
    """Go's standard library, profiled in this run: every row, by both readers."""
    profile = stdlib_profiles["two"].profile
    text = junit(covtool, profile)
    validate(text)
    data = json.loads(covtool("report", profile, "--format", "json").stdout)
    expected = expected_from_json(data)
    assert coverage_by_name(text) == expected
    parsed = junit_suite(text)
    assert [case.name for case in parsed] == list(expected)
    assert parsed.tests == len(expected) > 10
    # Each package's row is the figure go test printed for it.
    printed = go_percentages(stdlib_profiles["two"].stdout)
    assert {package: expected[package] for package in printed} == printed


def test_file_name_must_be_one_testgrid_reads(covtool: Covtool) -> None:
    covtool.write("small.info", lcov(SMALL))
    bad = covtool("report", "small.info", "-f", "junit", "--junit-name", "coverage.xml")
    assert bad.exit_code == ExitCode.USAGE_ERROR
    assert "junit_name: expected a file name matching junit*.xml, got 'coverage.xml'" in (
        bad.stderr
    )


@pytest.mark.parametrize("name", ["pkg/\x01bell.go", "pkg/\ufffe.go"])
def test_characters_xml_cannot_hold_are_replaced(covtool: Covtool, name: str) -> None:
    covtool.write("odd.info", lcov({name: {1: 1}}))
    text = junit(covtool, "odd.info")
    validate(text)
    shown = name.replace("\x01", "\ufffd").replace("\ufffe", "\ufffd")
    assert shown in coverage_by_name(text)
