"""Cobertura XML: read as a stream, and written the way coverage.py's ``coverage xml`` does.

    <coverage lines-valid="10" lines-covered="9" branches-valid="2" branches-covered="1" …>
      <sources><source>/src/project</source></sources>
      <packages><package name="app"><classes>
        <class name="util.py" filename="app/util.py">
          <methods><method …><lines><line number="3" hits="1"/></lines></method></methods>
          <lines>
            <line number="3" hits="1"/>
            <line number="7" hits="0" branch="true" condition-coverage="50% (1/2)"/>

The dialects of coverage.py, gcovr, gocover-cobertura and the JVM tools differ in ways a
reader must absorb: lines are read from ``class/lines/line`` only (several producers repeat
them under ``methods``); one line number can appear several times in a class, or in several
classes of one file (gcovr with newer gcc, JVM inner classes), and those merge, hits adding
up; ``filename`` may use backslashes; ``<source>`` roots may be several, empty or junk; the
header totals often disagree with the body, which always wins (with one warning).

Reading streams through expat (``covtool.XmlStream``, which refuses every entity trick) into
a ``LineProfileBuilder``'s arrays: no tree, and no Python object kept per line.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator

import numpy as np

from covtool import (
    Artifact,
    LineProfileBuilder,
    Profile,
    ProfileSource,
    Report,
    ReportFormat,
    Run,
    Totals,
    UsageError,
    XmlStream,
    __version__,
    header_disagreement,
    hookimpl,
)

NAME = "cobertura"
FILENAME = "coverage.xml"
#: Enough of the file to see past a long licence comment to the root element.
SNIFF_BYTES = 1 << 16
_BOM = b"\xef\xbb\xbf"
_ROOT = re.compile(rb"<coverage[\s/>]")
_MAX_LINE = 2**31 - 1
_MAX_COUNT = 2**63 - 1
_CONDITION = re.compile(r"\s*\d+(?:\.\d*)?\s*%\s*\(\s*(\d+)\s*/\s*(\d+)\s*\)\s*\Z")
_HEADER = ("lines-valid", "lines-covered", "branches-valid", "branches-covered")


@hookimpl
def covtool_parse_profile(source: ProfileSource, run: Run) -> Profile | None:
    """Claim files whose root element is ``<coverage>``, or any read as ``cobertura``."""
    if source.format is not None and source.format != NAME:
        return None
    if source.format is None and not sniff(source.head(SNIFF_BYTES)):
        return None
    profile, warning = parse(source)
    if warning:
        run.warn(warning)
    return profile


@hookimpl
def covtool_report_formats() -> list[ReportFormat]:
    """Cobertura is a report format as well as an input format."""
    description = "Cobertura XML, as coverage.py's coverage xml writes it"
    return [ReportFormat(NAME, description, FILENAME, readable=True)]


@hookimpl
def covtool_render_report(report: Report, formats: list[str]) -> list[Artifact]:
    """Write the report's profile (lines, or Go blocks seen per line) as Cobertura XML."""
    if NAME not in formats:
        return []
    profile = report.profile
    _check_paths(profile)  # now, before any file is opened
    stamp = timestamp_ms()
    return [Artifact(NAME, FILENAME, lambda: iter_xml(profile, stamp))]


# -- sniffing ------------------------------------------------------------------------------
def sniff(head: bytes) -> bool:
    """Whether the root element of the document starting with ``head`` is ``<coverage>``.

    Skips what may come first: a UTF-8 byte-order mark, white space, an XML declaration (or
    other processing instruction), comments and a DOCTYPE.
    """
    text = head.removeprefix(_BOM)
    position = 0
    while True:
        position = len(text) - len(text[position:].lstrip())
        if text.startswith(b"<?", position):
            end = text.find(b"?>", position)
            position = -1 if end < 0 else end + 2
        elif text.startswith(b"<!--", position):
            end = text.find(b"-->", position + 4)
            position = -1 if end < 0 else end + 3
        elif text.startswith(b"<!DOCTYPE", position):
            position = _doctype_end(text, position)
        else:
            return _ROOT.match(text, position) is not None
        if position < 0:
            return False


def _doctype_end(text: bytes, start: int) -> int:
    """Where the DOCTYPE at ``start`` ends (past its internal subset, if any); -1 if unseen."""
    close = text.find(b">", start)
    bracket = text.find(b"[", start)
    if 0 <= bracket < close:
        subset_end = text.find(b"]", bracket)
        close = -1 if subset_end < 0 else text.find(b">", subset_end)
    return -1 if close < 0 else close + 1


# -- reading -------------------------------------------------------------------------------
def parse(source: ProfileSource) -> tuple[Profile, str | None]:
    """Read a Cobertura file (streamed from disk, or from memory for a pipe or stdin);
    returns the profile and, when the header totals disagree with the body, the warning to
    give. Malformed input raises ``InputError`` at ``name:LINE:COL``.
    """
    reader = _Reader(source.name)
    stream = XmlStream(source.name, reader.start, reader.end)
    reader.stream = stream
    stream.feed(source)
    return reader.finish()


class _Reader:
    """Element handlers for one document, feeding a ``LineProfileBuilder``.

    Where we are is kept in a few flags set and cleared by start and end tags (expat
    guarantees the nesting); ``target`` is the current file's id while inside
    ``class/lines`` and outside ``methods``, else -1, so a ``<line>`` costs one test.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.builder = LineProfileBuilder(source_format=NAME, name=name)
        self._add = self.builder.add_to
        self.stream: XmlStream | None = None
        self.header: dict[str, str] | None = None
        self.file_id = -1
        self.in_lines = False
        self.in_methods = 0
        self.target = -1
        self.text: list[str] = []
        self.roots_seen: set[str] = set()
        self._starts: dict[str, Callable[[dict[str, str]], None]] = {
            "class": self._start_class,
            "lines": self._start_lines,
            "methods": self._start_methods,
            "method": self._start_methods,
            "source": self._start_source,
        }

    # The hot path: a million calls for a million lines. Keep it lean.
    def start(self, tag: str, attrs: dict[str, str]) -> None:
        """Expat's start-element handler."""
        if tag == "line":
            target = self.target
            if target < 0:
                self._stray_line()
                return
            try:
                number, hits = int(attrs["number"]), int(attrs["hits"])
            except (KeyError, ValueError):
                raise self._fail(_line_problem(attrs)) from None
            if not (0 < number <= _MAX_LINE and 0 <= hits <= _MAX_COUNT):
                raise self._fail(_line_problem(attrs))
            if attrs.get("branch") == "true":
                branches, covered = self._conditions(attrs)
                self._add(target, number, hits, branches, covered)
            else:
                self._add(target, number, hits, 0, 0)
            return
        if self.header is None:
            self._start_root(tag, attrs)
        handler = self._starts.get(tag)
        if handler is not None:
            handler(attrs)

    def end(self, tag: str) -> None:
        """Expat's end-element handler."""
        if tag == "line":
            return
        if tag == "lines":
            self.in_lines = False
        elif tag in ("methods", "method"):
            self.in_methods -= 1
        elif tag == "class":
            self.file_id, self.in_lines = -1, False
        elif tag == "source":
            self._end_source()
            return
        else:
            return
        self._retarget()

    def finish(self) -> tuple[Profile, str | None]:
        """The profile, and the header warning if the header's totals disagree with it."""
        profile = self.builder.build()
        return profile, _header_warning(self.name, self.header or {}, profile.totals())

    # -- the rest of the elements -------------------------------------------------------------
    def _retarget(self) -> None:
        taking = self.file_id >= 0 and self.in_lines and not self.in_methods
        self.target = self.file_id if taking else -1

    def _start_root(self, tag: str, attrs: dict[str, str]) -> None:
        if tag != "coverage":
            raise self._fail(f"root element <{tag}>: a Cobertura file starts with <coverage>")
        self.header = attrs

    def _start_class(self, attrs: dict[str, str]) -> None:
        filename = attrs.get("filename", "")
        if not filename:
            raise self._fail("<class> without a filename attribute")
        self.file_id = self.builder.file(filename.replace("\\", "/"))
        self.in_lines = False
        self._retarget()

    def _start_lines(self, attrs: dict[str, str]) -> None:
        self.in_lines = self.file_id >= 0 and not self.in_methods
        self._retarget()

    def _start_methods(self, attrs: dict[str, str]) -> None:
        # ``method`` counts too, for a producer that leaves out the ``methods`` wrapper.
        self.in_methods += 1
        self._retarget()

    def _start_source(self, attrs: dict[str, str]) -> None:
        self.text.clear()
        self._stream().route_text(self.text.append)

    def _end_source(self) -> None:
        self._stream().route_text(None)
        root = "".join(self.text).strip().replace("\\", "/")
        if root and root not in self.roots_seen:
            self.roots_seen.add(root)
            self.builder.roots.append(root)

    def _stray_line(self) -> None:
        if self.in_methods:
            return  # a method's copy of its class's lines: not counted twice
        if self.file_id < 0:
            raise self._fail("<line> outside any <class>")
        raise self._fail("<line> directly in <class>: expected it inside <lines>")

    def _conditions(self, attrs: dict[str, str]) -> tuple[int, int]:
        """``(branches, covered)`` of a ``branch="true"`` line; none without the figure."""
        text = attrs.get("condition-coverage")
        if text is None:
            return 0, 0
        match = _CONDITION.match(text)
        if match is None:
            raise self._fail(f'condition-coverage {text!r}: expected "PERCENT% (COVERED/TOTAL)"')
        covered, branches = int(match[1]), int(match[2])
        if covered > branches or branches > _MAX_LINE:
            raise self._fail(f"condition-coverage {text!r}: impossible branch counts")
        return branches, covered

    def _stream(self) -> XmlStream:
        assert self.stream is not None, "parse() sets the stream before feeding it"
        return self.stream

    def _fail(self, message: str) -> Exception:
        return self._stream().fail(message)


def _line_problem(attrs: dict[str, str]) -> str:
    """What is wrong with a ``<line>``'s ``number`` or ``hits``, in words."""
    number, hits = attrs.get("number"), attrs.get("hits")
    if number is None:
        return "<line> without a number attribute"
    problem = _integer_problem(number, 1, _MAX_LINE)
    if problem:
        return f"<line> number {number!r} {problem}"
    if hits is None:
        return f"<line number={number!r}> without a hits attribute"
    problem = _integer_problem(hits, 0, _MAX_COUNT)
    return f"<line number={number!r}> hits {hits!r} {problem or 'is not a count'}"


def _integer_problem(text: str, low: int, high: int) -> str:
    try:
        value = int(text)
    except ValueError:
        return "is not an integer"
    if value < low:
        return "is not positive" if low > 0 else "is negative"
    return "is too large" if value > high else ""


def _header_warning(name: str, header: dict[str, str], body: Totals) -> str | None:
    """The header-disagreement warning, comparing only the figures the header states."""
    stated = [_optional_int(header.get(key)) for key in _HEADER]
    if all(value is None for value in stated):
        return None
    own = (body.statements, body.covered, body.branches, body.branches_covered)
    claimed = Totals(*(b if s is None else s for s, b in zip(stated, own, strict=True)))
    return header_disagreement(name, claimed, body)


def _optional_int(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None  # a header figure that is not a number states nothing


# -- writing -------------------------------------------------------------------------------
#: Classes formatted per piece of output, so a huge package is not one huge string.
CLASSES_PER_PIECE = 256
_LINE = '\t\t\t\t\t\t<line number="%d" hits="%d"/>\n'
_BRANCH_LINE = (
    '\t\t\t\t\t\t<line number="%d" hits="%d" branch="true" condition-coverage="%d%% (%d/%d)"/>\n'
)
_TEMPLATES = (_LINE, _BRANCH_LINE)
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
    }
)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def timestamp_ms() -> int:
    """Now in milliseconds since the epoch, or ``SOURCE_DATE_EPOCH`` for reproducible files."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(fixed) * 1000 if fixed.isdigit() else int(time.time() * 1000)


def _check_paths(profile: Profile) -> None:
    for path in profile.paths:
        if _NOT_XML.search(path):
            raise UsageError(f"file name {path!r} holds a character that XML cannot carry")


def _attr(value: str) -> str:
    """An attribute value, escaped so that a reader gets exactly ``value`` back."""
    return value.translate(_ESCAPES)


def _rate(hit: int, total: int) -> str:
    """coverage.py's rate: four significant digits, 1 when there is nothing to cover."""
    return "1" if total == 0 else f"{hit / total:.4g}"


def _rates(totals: Totals, branches: bool) -> str:
    branch_rate = _rate(totals.branches_covered, totals.branches) if branches else "0"
    return f'line-rate="{_rate(totals.covered, totals.statements)}" branch-rate="{branch_rate}"'


def iter_xml(profile: Profile, timestamp: int) -> Iterator[str]:
    """The profile as coverage.py-style Cobertura XML, in pieces of a few hundred classes."""
    lines = _Lines(profile)
    totals = lines.totals()
    total = sum(totals, Totals())
    branches = total.branches > 0
    yield (
        '<?xml version="1.0" ?>\n'
        f'<coverage version="{_attr(__version__)}" timestamp="{timestamp}" '
        f'lines-valid="{total.statements}" lines-covered="{total.covered}" '
        f'line-rate="{_rate(total.covered, total.statements)}" '
        f'branches-valid="{total.branches}" branches-covered="{total.branches_covered}" '
        f'branch-rate="{_rate(total.branches_covered, total.branches) if branches else 0}" '
        'complexity="0">\n'
        f"\t<!-- Generated by covtool {__version__} -->\n"
        "\t<sources>\n\t\t<source>.</source>\n\t</sources>\n\t<packages>\n"
    )
    for directory, files in _directories(profile.paths).items():
        package = sum((totals[i] for i in files), Totals())
        parts = [
            f'\t\t<package name="{_attr(directory.replace("/", "."))}" '
            f'{_rates(package, branches)} complexity="0">\n\t\t\t<classes>\n'
        ]
        for i in files:
            parts.append(_class_xml(profile.paths[i], lines, i, totals[i], branches))
            if len(parts) >= CLASSES_PER_PIECE:
                yield "".join(parts)
                parts.clear()
        parts.append("\t\t\t</classes>\n\t\t</package>\n")
        yield "".join(parts)
    yield "\t</packages>\n</coverage>\n"


def _directories(paths: tuple[str, ...]) -> dict[str, list[int]]:
    """File indices by directory (``.`` for the root), directories sorted."""
    groups: dict[str, list[int]] = {}
    for i, path in enumerate(paths):
        groups.setdefault(path.rpartition("/")[0] or ".", []).append(i)
    return dict(sorted(groups.items()))


def _class_xml(path: str, lines: _Lines, index: int, totals: Totals, branches: bool) -> str:
    head = (
        f'\t\t\t\t<class name="{_attr(path.rpartition("/")[2])}" filename="{_attr(path)}" '
        f'complexity="0" {_rates(totals, branches)}>\n\t\t\t\t\t<methods/>\n'
    )
    if totals.statements == 0:
        return head + "\t\t\t\t\t<lines/>\n\t\t\t\t</class>\n"
    body = _lines_xml(*lines.columns(index))
    return f"{head}\t\t\t\t\t<lines>\n{body}\t\t\t\t\t</lines>\n\t\t\t\t</class>\n"


def _lines_xml(line: np.ndarray, hits: np.ndarray, total: np.ndarray, covered: np.ndarray) -> str:
    """A file's ``<line>`` elements: one ``%`` of a template made of one line template per
    line over the flat numbers, so no Python code formats a line on its own."""
    branchy = total > 0
    total, covered = total.astype(np.int64), covered.astype(np.int64)
    percent = 100 * covered // np.maximum(total, 1)
    table = np.stack([line.astype(np.int64), hits, percent, covered, total], axis=1)
    if branchy.any():
        keep = np.ones(table.shape, bool)
        keep[~branchy, 2:] = False
        template = "".join([_TEMPLATES[b] for b in branchy.tolist()])
        numbers = table[keep].tolist()
    else:
        template = _LINE * line.shape[0]
        numbers = table[:, :2].ravel().tolist()
    text: str = template % tuple(numbers)
    return text


class _Lines:
    """Each file's lines as Cobertura states them: number, hits, branches, covered.

    A profile of lines holding one row per line (what every line format reads into) *is*
    that table, so its columns are sliced as they are and totalled in one vectorised pass;
    anything else (Go blocks) goes through each file's line view.
    """

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        r = profile.regions
        self.one_row_per_line = profile.unit == "line" and bool(np.all(r.statements == 1))
        if self.one_row_per_line and r.size:
            starts = profile.offsets[:-1]
            first = np.zeros(r.size, bool)
            first[starts[starts < r.size]] = True
            ascending = first[1:] | (r.start_line[1:] > r.start_line[:-1])
            self.one_row_per_line = bool(np.all(ascending))

    def columns(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The lines of file ``index``: numbers, hits, branches and covered branches."""
        if self.one_row_per_line:
            r, offsets = self.profile.regions, self.profile.offsets
            rows = slice(int(offsets[index]), int(offsets[index + 1]))
            return r.start_line[rows], r.hits[rows], r.branches[rows], r.branches_covered[rows]
        view = self.profile[self.profile.paths[index]].lines()
        return view.line, view.hits, view.branches, view.branches_covered

    def totals(self) -> list[Totals]:
        """Each file's totals counted in lines."""
        if self.one_row_per_line:
            return self.profile.file_totals()
        totals = []
        for index in range(len(self.profile.paths)):
            line, hits, branches, covered = self.columns(index)
            totals.append(
                Totals(
                    line.shape[0],
                    int(np.count_nonzero(hits > 0)),
                    int(branches.sum(dtype=np.int64)),
                    int(covered.sum(dtype=np.int64)),
                )
            )
        return totals
