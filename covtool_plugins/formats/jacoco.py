"""JaCoCo XML reports: read, streaming.

    <!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">
    <report name="app">
      <sessioninfo id="..." start="..." dump="..."/>
      <group name="module">                          groups are optional and may nest
        <package name="com/x">                       "" is the default package
          <class name="com/x/A" sourcefilename="A.java">...</class>
          <sourcefile name="A.java">
            <line nr="12" mi="0" ci="3" mb="1" cb="1"/>
            <counter type="LINE" missed="1" covered="4"/>
          </sourcefile>
          <counter .../>
        </package>
      </group>
      <counter type="LINE" missed="5" covered="10"/>  the report's own totals
      <counter type="BRANCH" missed="5" covered="7"/>
    </report>

Rules:

* A file's path is its package name, ``/``, its ``sourcefile`` name; a file of the default
  package (``name=""``) is just its name. JaCoCo names no source root: the
  ``jacoco_source_roots`` setting lists the directories that paths are tried under.
* Each ``line`` is one executable line: one statement whose hits are ``ci`` (covered
  instructions; the line is covered when ``ci > 0``), with ``mb + cb`` branches of which
  ``cb`` are covered. A missing counter counts as 0, so a line without ``mi`` and ``ci``
  is executable and not covered, and the warning about the header says how many such
  lines there were. A report in which *no* line has ``mi`` or ``ci`` is refused: gcovr's
  JaCoCo writer emits only per-file counters, which cannot say which lines ran, and
  reading every line as missed would report a wrong 0 %.
* ``class``, ``method``, ``sessioninfo`` and every ``counter`` are summaries and ignored,
  except the report's own ``LINE`` and ``BRANCH`` counters (direct children of
  ``report``): when they differ from the totals of the lines, one warning says so and the
  lines win.
* A line repeated in one file (the same file in two groups) merges: hits add up.

The document is parsed as a stream (memory stays flat however many lines it has), with
covtool's safe XML parser: the JaCoCo DOCTYPE names an external DTD, which is never fetched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from covtool import (
    InputError,
    LineProfileBuilder,
    Parser,
    Profile,
    ProfileSource,
    Run,
    Totals,
    XmlStream,
    header_disagreement,
    hookimpl,
)

NAME = "jacoco"
SETTING = "jacoco_source_roots"
DEFAULT_ROOTS = ("src/main/java", "src/main/kotlin")
_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1
_LINE_COUNTERS = ("mi", "ci", "mb", "cb")

#: What may come before the root element: a byte order mark, white space, the XML
#: declaration, processing instructions, comments and a DOCTYPE.
_PROLOGUE = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>", re.S)
_REPORT_ROOT = re.compile(rb"<report(?:[\s/>]|$)")


@hookimpl
def covtool_addoption(parser: Parser) -> None:
    """Declare where JaCoCo's package-relative paths are looked for."""
    parser.addoption(
        SETTING,
        type="list",
        default=DEFAULT_ROOTS,
        help="Source directories that JaCoCo paths (package/File.java) are relative to; "
        "each path goes under the first one where the file exists in the repository.",
    )


@hookimpl
def covtool_parse_profile(source: ProfileSource, run: Run) -> Profile | None:
    """Claim files whose root element is ``<report>``, or any read with ``--input-format
    jacoco``."""
    if source.format is not None and source.format != NAME:
        return None
    if source.format is None and not is_jacoco(source.head()):
        return None
    profile, warning = read(source, run.config.get(SETTING))
    if warning:
        run.warn(warning)
    return profile


def is_jacoco(head: bytes) -> bool:
    """Whether the document starting with ``head`` has the root element ``report``."""
    position = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while match := _PROLOGUE.match(head, position):
        position = match.end()
    return _REPORT_ROOT.match(head, position) is not None


def read(source: ProfileSource, roots: Sequence[str] = DEFAULT_ROOTS) -> tuple[Profile, str | None]:
    """Parse a JaCoCo report; returns the profile and a warning when its totals disagree.

    A malformed report raises ``InputError`` at ``name:LINE:COLUMN``; so does a report whose
    lines carry no instruction counters at all, which says nothing about which lines ran.
    """
    reader = _Reader(source.name, roots)
    reader.stream.feed(source)
    return reader.finish()


class _Reader:
    """The state of one parse: where in the document we are, and what was read."""

    def __init__(self, name: str, roots: Sequence[str]) -> None:
        self.name = name
        self.builder = LineProfileBuilder(NAME, name)
        self.builder.roots = list(roots)
        self.add = self.builder.add_to
        self.stream = XmlStream(name, self.start, self.end)
        self.depth = 0  # elements open, the current one included (lines not counted)
        self.package: str | None = None
        self.file_id = -1  # the open sourcefile, -1 outside one
        self.uncounted = 0  # lines with neither mi nor ci
        self.lines = 0
        self.header: dict[str, tuple[int, int]] = {}  # report counters: type -> (missed, covered)

    # -- handlers: called once per element, so the common case (a line) comes first -----
    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "line":  # not counted in depth: a line holds nothing
            file_id = self.file_id
            if file_id < 0:
                raise self._misplaced(name, self.depth == 0)
            get = attrs.get
            nr, mi, ci, mb, cb = get("nr", ""), get("mi"), get("ci"), get("mb", "0"), get("cb", "0")
            self.lines += 1
            if mi is None or ci is None:
                self.uncounted += mi is None and ci is None
                mi = "0" if mi is None else mi
                ci = "0" if ci is None else ci
            digits = nr + mi + ci + mb + cb
            try:
                if not (digits.isdigit() and digits.isascii()):
                    raise ValueError(digits)
                line, hits, covered = int(nr), int(ci), int(cb)
                branches = int(mb) + covered
                int(mi)  # unused, but a line with a broken counter is a broken line
            except ValueError:
                raise self._bad_line(attrs) from None
            if not 0 < line <= _INT32_MAX or branches > _INT32_MAX or hits > _INT64_MAX:
                raise self._bad_line(attrs)
            self.add(file_id, line, hits, branches, covered)
            return
        self.depth += 1
        if self.depth == 1:
            if name != "report":
                raise self._misplaced(name, True)
        elif name == "sourcefile":
            self._sourcefile(attrs)
        elif name == "package":
            self.package = self._required(name, attrs, "name")
        elif name == "counter" and self.depth == 2:  # a child of report: its own totals
            self._counter(attrs)

    def end(self, name: str) -> None:
        if name == "line":
            return
        self.depth -= 1
        if name == "sourcefile":
            self.file_id = -1
        elif name == "package":
            self.package = None

    # -- the rarer elements ------------------------------------------------------------------
    def _sourcefile(self, attrs: dict[str, str]) -> None:
        if self.package is None:
            raise self.stream.fail("<sourcefile> outside a <package>")
        file_name = self._required("sourcefile", attrs, "name")
        path = f"{self.package}/{file_name}" if self.package else file_name
        self.file_id = self.builder.file(path)

    def _counter(self, attrs: dict[str, str]) -> None:
        kind = attrs.get("type")
        if kind not in ("LINE", "BRANCH"):
            return
        values = []
        for key in ("missed", "covered"):
            value = self._required("counter", attrs, key)
            if not (value.isascii() and value.isdigit()) or len(value) > 18:
                raise self.stream.fail(
                    f"<counter type={kind!r}> {key}={value!r} is not a non-negative integer"
                )
            values.append(int(value))
        self.header[kind] = (values[0], values[1])

    def _misplaced(self, name: str, root: bool) -> InputError:
        if root:
            return self.stream.fail(
                f"not a JaCoCo report: the root element is <{name}>, not <report>"
            )
        return self.stream.fail(f"<{name}> outside a <sourcefile>")

    def _required(self, element: str, attrs: dict[str, str], key: str) -> str:
        value = attrs.get(key)
        if value is None:
            raise self.stream.fail(f"<{element}> without a {key!r} attribute")
        return value

    def _bad_line(self, attrs: dict[str, str]) -> InputError:
        """Why a ``line`` element is not one, in words (the slow path)."""
        nr = attrs.get("nr")
        if nr is None:
            return self.stream.fail("<line> without an 'nr' attribute (its line number)")
        if not (nr.isascii() and nr.isdigit()) or not 0 < int(nr) <= _INT32_MAX:
            return self.stream.fail(f"<line> nr={nr!r} is not a line number (1 or more)")
        for key in _LINE_COUNTERS:
            value = attrs.get(key, "0")
            if not (value.isascii() and value.isdigit()):
                return self.stream.fail(
                    f"<line nr={nr!r}> {key}={value!r} is not a non-negative integer"
                )
        return self.stream.fail(f"<line nr={nr!r}> has counters too large to hold")

    # -- the end ---------------------------------------------------------------------------------
    def finish(self) -> tuple[Profile, str | None]:
        if self.lines and self.uncounted == self.lines:
            # gcovr writes JaCoCo like this: its per-file counters cannot say which lines ran,
            # and counting every line as missed would report a wrong 0 %.
            raise InputError(
                self.name,
                f"none of its {self.lines} <line> elements has instruction counters (mi/ci), so "
                "which lines ran is unknown (gcovr writes JaCoCo this way); "
                "read the producer's Cobertura or LCOV output instead",
            )
        profile = self.builder.build()
        return profile, self._disagreement(profile)

    def _disagreement(self, profile: Profile) -> str | None:
        if not self.header:
            return None
        line_missed, line_covered = self.header.get("LINE", (0, 0))
        branch_missed, branch_covered = self.header.get("BRANCH", (0, 0))
        claimed = Totals(
            line_missed + line_covered,
            line_covered,
            branch_missed + branch_covered,
            branch_covered,
        )
        message = header_disagreement(self.name, claimed, profile.totals())
        if message and self.uncounted:
            message += f" ({self.uncounted} lines have no mi/ci counters and count as not covered)"
        return message
