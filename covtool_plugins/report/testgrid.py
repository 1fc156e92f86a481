"""The ``junit`` report: coverage as JUnit XML, for TestGrid and Spyglass.

TestGrid and Spyglass read every ``artifacts/junit*.xml`` of a build; a test group with
``short_text_metric: coverage`` shows each row's number in its cell, and a ``<failure>``
makes the cell red. The shape is the original tool's (and gopherage's)::

    <testsuite name="covtool" tests="4" failures="1" errors="0" skipped="0" time="0">
      <testcase classname="go_coverage" class_name="go_coverage" name="OVERALL" time="0">
        <properties><property name="coverage" value="56.5"/></properties>
      </testcase>
      <testcase classname="go_coverage" class_name="go_coverage" name="pkg/a.go" time="0">
        <failure message="code coverage of 20% is below threshold of 70%">…</failure>
        <properties><property name="coverage" value="20.0"/></properties>
      </testcase>
      …

Rows, in this order: ``OVERALL``; every file, by path; every directory, by path (``.`` is
the repository root). A directory counts the files directly in it — exactly that directory,
never a name prefix (``pkg/a`` does not count ``pkg/ab``) — the figures of ``covtool
report``. ``value`` has one decimal, rounded as every covtool report rounds (99.96 reads
99.9). A row below ``coverage_threshold`` carries a ``<failure>`` with a sentence. A file or
directory with nothing to cover is listed without a ``coverage`` property (``N/A`` in the
other reports): TestGrid leaves its cell empty. Both ``classname`` (what JUnit readers
expect) and ``class_name`` (what the original wrote) are set.

Each ``<testcase>`` is written by xmltodict, one at a time, so the document is streamed.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import xmltodict

from covtool import (
    Artifact,
    Parser,
    Profile,
    Report,
    ReportFormat,
    Run,
    Totals,
    UsageError,
    hookimpl,
    views,
)

NAME = "junit"
DEFAULT_FILENAME = "junit_coverage.xml"
OVERALL = "OVERALL"
# Characters XML 1.0 cannot hold at all; a path containing one shows U+FFFD there.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@hookimpl
def covtool_addoption(parser: Parser) -> None:
    """Declare the file, suite and class names."""
    parser.addoption(
        "junit_name",
        default=DEFAULT_FILENAME,
        help="File name of the TestGrid XML in the artifacts; TestGrid reads junit*.xml.",
    )
    parser.addoption(
        "junit_suite",
        default="covtool",
        help="The name of the TestGrid XML's test suite.",
    )
    parser.addoption(
        "junit_classname",
        default="",
        help="The class name of every row (default: FORMAT_coverage, go_coverage for Go).",
    )


@hookimpl
def covtool_report_formats() -> list[ReportFormat]:
    """Offer the ``junit`` format."""
    return [ReportFormat(NAME, "coverage per file and directory for TestGrid", DEFAULT_FILENAME)]


@hookimpl
def covtool_render_report(report: Report, formats: list[str], run: Run) -> list[Artifact]:
    """Render the profile's coverage as TestGrid's JUnit XML."""
    if NAME not in formats:
        return []
    filename = junit_filename(run.config.get("junit_name"))
    suite = Suite(
        name=run.config.get("junit_suite"),
        classname=run.config.get("junit_classname") or f"{report.profile.source_format}_coverage",
        threshold=report.threshold or 0.0,
        rows=rows(report.profile),
    )
    return [Artifact(NAME, filename, suite.chunks)]


def junit_filename(name: str) -> str:
    """``name`` if TestGrid would read it (``junit*.xml``, no directory), else an error."""
    if "/" in name or not fnmatch.fnmatchcase(name, "junit*.xml"):
        raise UsageError(f"junit_name: expected a file name matching junit*.xml, got {name!r}")
    return name


@dataclass(frozen=True)
class Row:
    """One ``<testcase>``: its name and its coverage."""

    name: str
    totals: Totals


def rows(profile: Profile) -> list[Row]:
    """``OVERALL``, then the files by path, then the directories by path."""
    return [
        Row(OVERALL, profile.totals()),
        *(Row(r.name, r.totals) for r in views.file_rows(profile)),
        *(Row(r.name, r.totals) for r in views.directory_rows(profile)),
    ]


@dataclass(frozen=True)
class Suite:
    """The document: a suite of rows, judged against ``threshold`` (0: never fails)."""

    name: str
    classname: str
    threshold: float
    rows: list[Row]

    def failure(self, totals: Totals) -> str | None:
        """The sentence of a row below the threshold; None for a row that is not."""
        ratio = totals.ratio
        if not self.threshold or ratio is None or not views.below(ratio, self.threshold):
            return None
        shown = views.format_against(ratio, self.threshold)
        return f"code coverage of {shown} is below threshold of {self.threshold:g}%"

    def chunks(self) -> Iterator[str]:
        """The XML, a ``<testcase>`` at a time (each row judged once)."""
        failures = [self.failure(row.totals) for row in self.rows]
        failed = sum(1 for failure in failures if failure)
        yield '<?xml version="1.0" encoding="utf-8"?>\n'
        yield (
            f'<testsuite name={quoteattr(_xml_text(self.name))} tests="{len(self.rows)}" '
            f'failures="{failed}" errors="0" skipped="0" time="0">\n'
        )
        for row, failure in zip(self.rows, failures, strict=True):
            yield self.testcase(row, failure)
        yield "</testsuite>\n"

    def testcase(self, row: Row, failure: str | None) -> str:
        """One row as XML, indented inside the suite."""
        case: dict[str, object] = {
            "@classname": self.classname,
            "@class_name": self.classname,
            "@name": _xml_text(row.name),
            "@time": "0",
        }
        if failure is not None:
            case["failure"] = {"@message": failure, "#text": failure}
        if row.totals.ratio is not None:
            value = views.format_ratio(row.totals.ratio)
            case["properties"] = {"property": {"@name": "coverage", "@value": value}}
        text: str = xmltodict.unparse(
            {"testcase": case},
            full_document=False,
            short_empty_elements=True,
            pretty=True,
            indent="  ",
        )
        return "".join(f"  {line}\n" for line in text.splitlines())


def _xml_text(text: str) -> str:
    """``text`` without the characters XML cannot hold (each becomes U+FFFD)."""
    return _NOT_XML.sub("\ufffd", text)
