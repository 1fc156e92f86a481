"""LCOV tracefiles (``lcov``/``geninfo``, ``coverage lcov``, gcovr, llvm-cov): read and write.

    TN:
    SF:src/util.c
    FN:3,add
    FNDA:4,add
    DA:3,4
    DA:7,0
    BRDA:7,0,0,1
    BRDA:7,0,1,-
    LF:2
    LH:1
    end_of_record

A file record runs from ``SF:PATH`` to ``end_of_record``. ``DA:LINE,HITS[,CHECKSUM]`` is an
executable line; ``BRDA:LINE,BLOCK,BRANCH,TAKEN`` one branch outcome, ``TAKEN`` ``-`` when
its block never ran (counted as 0). Dialects read alike:

- coverage.py ≥ 7.6 writes textual branch ids that may contain commas
  (``BRDA:12,0,jump to line 14,1``: the branch id is everything between the block and the
  last comma) and ``FN:START,END,NAME``;
- lcov ≥ 2.2 writes ``FNL:INDEX,START[,END]`` and ``FNA:INDEX,HITS,NAME``, and lcov 2.3
  ``MCDC:``/``MCF:``/``MCH:`` condition records;
- gcovr writes ``VER:`` and marks exception branches with an ``e`` (``BRDA:7,0,e0,0``, or
  ``BRDA:7,e0,1,-`` in gcovr 8): they are counted as branches like any other;
- ``#`` comments and blank lines anywhere.

Several records for one file merge: hits of a line add up, and a branch (its line, block
and id) is covered when it was taken in any record. Functions are not part of covtool's
model: their records are checked for shape and dropped. ``LF``/``LH``/``BRF``/``BRH`` are
summaries and never trusted: the figures come from the ``DA``/``BRDA`` lines, and one
warning per input says when a record's summary disagrees with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from covtool import (
    Artifact,
    InputError,
    LineProfileBuilder,
    LineView,
    Profile,
    ProfileSource,
    Report,
    ReportFormat,
    Run,
    Totals,
    header_disagreement,
    hookimpl,
)

NAME = "lcov"
FILENAME = "coverage.lcov"
_MAX_LINE = 2**31 - 1  # line numbers are int32 in the model
_BOM = "\ufeff"
_FIRST_RECORDS = (b"TN:", b"SF:", b"VER:")
_SUMMARIES = ("LF", "LH", "BRF", "BRH")


@hookimpl
def covtool_parse_profile(source: ProfileSource, run: Run) -> Profile | None:
    """Claim files read with ``--input-format lcov``, or whose first record is TN, SF or VER."""
    if source.format is not None and source.format != NAME:
        return None
    if source.format is None and not looks_like_lcov(source.head()):
        return None
    profile, warning = parse(source.read(), source.name)
    if warning:
        run.warn(warning)
    return profile


@hookimpl
def covtool_report_formats() -> list[ReportFormat]:
    """LCOV is also an output format, for genhtml and the services that read tracefiles."""
    description = "LCOV tracefile, as lcov, genhtml and coverage lcov read it"
    return [ReportFormat(NAME, description, FILENAME, readable=True)]


@hookimpl
def covtool_render_report(report: Report, formats: list[str]) -> list[Artifact]:
    """Write the report's profile, line-based or Go blocks, as an LCOV tracefile."""
    if NAME not in formats:
        return []
    profile = report.profile
    return [Artifact(NAME, FILENAME, lambda: iter_tracefile(profile))]


def looks_like_lcov(head: bytes) -> bool:
    """Whether the first line that is not blank or a ``#`` comment is a TN, SF or VER record."""
    for line in head.removeprefix(_BOM.encode()).splitlines():
        if line.strip() and not line.startswith(b"#"):
            return line.startswith(_FIRST_RECORDS)
    return False


# -- reading -------------------------------------------------------------------------------
def parse(data: bytes, name: str) -> tuple[Profile, str | None]:
    """Parse a tracefile: the profile, and a warning when its summaries disagree with it.

    A malformed tracefile raises ``InputError`` at ``name:LINE``.
    """
    text = _decode(data, name).removeprefix(_BOM)
    if not text.strip():
        raise InputError(f"{name}:1", "empty file: expected an LCOV tracefile (TN:, SF:PATH, …)")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    reader = _Reader(name)
    reader.read(text.split("\n"))
    return reader.finish(text.count("\n") + (not text.endswith("\n")))


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(
            f"{name}:{line}", "not UTF-8 text: expected an LCOV tracefile in UTF-8"
        ) from None


@dataclass
class _Record:
    """The file record being read: where it began, its summaries and its branches."""

    path: str
    file_id: int
    line: int
    claims: dict[str, int] = field(default_factory=dict)
    #: (line, block, branch id) -> times taken, for this record only.
    branches: dict[tuple[int, str, str], int] = field(default_factory=dict)


@dataclass
class _Disagreement:
    """The first record whose summaries disagree with its body, and how many do."""

    where: str
    claimed: Totals
    body: Totals
    count: int = 1


class _Reader:
    """Reads one tracefile's lines into a ``LineProfileBuilder``.

    ``DA`` lines, nearly all of a big tracefile, go straight into the builder's compact
    arrays from the loop in ``read``; only branches are kept in a dict, keyed by their
    identity, until every record is read.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.builder = LineProfileBuilder(NAME, name)
        self.paths: list[str] = []  # by file id
        self.record: _Record | None = None
        #: (file id, line, block, branch id) -> times taken, summed over records.
        self.branches: dict[tuple[int, int, str, str], int] = {}
        self.disagreement: _Disagreement | None = None

    def read(self, lines: list[str]) -> None:
        """Read every line; the hot path, ``DA``, is handled inline with local state."""
        add, file_id = self.builder.add_to, -1
        n_da = n_hit = last = 0
        ordered = True
        for number, line in enumerate(lines, 1):
            if line[:3] == "DA:" and file_id >= 0:
                try:
                    fields = line[3:].split(",")
                    at, hits = int(fields[0]), int(fields[1])
                    if not (0 < at <= _MAX_LINE and hits >= 0 and len(fields) <= 3):
                        raise ValueError
                    add(file_id, at, hits, 0, 0)
                except (ValueError, IndexError, OverflowError):
                    problem = _da_problem(line[3:]) or "hit count out of range"
                    raise self._error(number, f"bad DA record {_show(line)}: {problem}") from None
                n_da += 1
                n_hit += hits > 0
                if at <= last:
                    ordered = False
                last = at
            elif line[:3] == "SF:":
                file_id = self._open(number, line[3:])
                n_da = n_hit = last = 0
                ordered = True
            elif line.startswith("end_of_record") and not line[13:].strip():
                self._close(number, n_da, n_hit, ordered, lines)
                file_id = -1
            elif line.strip() and line[0] != "#":
                self._other(number, line)

    def _error(self, number: int, message: str) -> InputError:
        return InputError(f"{self.name}:{number}", message)

    def _open(self, number: int, path: str) -> int:
        if self.record is not None:
            raise self._error(
                number,
                f"SF:{path} inside the record for {self.record.path} (line "
                f"{self.record.line}): expected end_of_record before the next SF",
            )
        path = path.replace("\\", "/")
        if not path.strip():
            raise self._error(number, "SF record without a path: expected SF:PATH")
        file_id = self.builder.file(path)
        if file_id == len(self.paths):
            self.paths.append(path)
        self.record = _Record(path, file_id, number)
        return file_id

    def _close(self, number: int, n_da: int, n_hit: int, ordered: bool, lines: list[str]) -> None:
        record = self.record
        if record is None:
            raise self._error(number, "end_of_record outside a file record: expected SF:PATH")
        if not ordered:  # a line may repeat within the record: count each line once
            n_da, n_hit = _distinct_lines(lines[record.line : number - 1])
        taken = record.branches.values()
        body = Totals(n_da, n_hit, len(taken), sum(1 for t in taken if t > 0))
        if record.claims:
            self._compare(record, body)
        for (at, block, branch), count in record.branches.items():
            key = (record.file_id, at, block, branch)
            self.branches[key] = self.branches.get(key, 0) + count
        self.record = None

    def _compare(self, record: _Record, body: Totals) -> None:
        """Note the record's summaries that disagree with its body (only those it states)."""
        c = record.claims
        claimed = Totals(
            c.get("LF", body.statements),
            c.get("LH", body.covered),
            c.get("BRF", body.branches),
            c.get("BRH", body.branches_covered),
        )
        if claimed == body:
            return
        if self.disagreement is None:
            where = f"{self.name}:{record.line} (the record for {record.path})"
            self.disagreement = _Disagreement(where, claimed, body)
        else:
            self.disagreement.count += 1

    def _other(self, number: int, line: str) -> None:
        """Every record but DA, SF and end_of_record: check its shape, keep branches."""
        tag, colon, value = line.partition(":")
        if colon and tag in ("TN", "VER"):
            return
        problem = _shape_problem(tag, value) if colon else None
        if problem is None:
            raise self._error(number, f"unknown record {_show(line)}: expected {_KNOWN}")
        record = self.record
        if record is None:
            raise self._error(
                number, f"{tag} record outside a file record: expected SF:PATH before it"
            )
        if problem:
            raise self._error(number, f"bad {tag} record {_show(line)}: {problem}")
        if tag == "BRDA":
            self._branch(record, value)
        elif tag in _SUMMARIES:
            record.claims[tag] = int(value)

    @staticmethod
    def _branch(record: _Record, value: str) -> None:
        head, _, taken = value.rpartition(",")
        at, block, branch = head.split(",", 2)
        key = (int(at), block, branch)
        record.branches[key] = record.branches.get(key, 0) + (0 if taken == "-" else int(taken))

    def finish(self, last_line: int) -> tuple[Profile, str | None]:
        """The profile with its branches, and the summaries' warning if any."""
        if self.record is not None:
            raise self._error(
                last_line,
                f"the record for {self.record.path} (SF at line {self.record.line}) is not "
                "closed: expected end_of_record; is the file truncated?",
            )
        profile = self.builder.build()
        if self.branches:
            profile = self._with_branches(profile)
        return profile, self._warning()

    def _with_branches(self, profile: Profile) -> Profile:
        """Per line: the distinct branch ids seen, and those taken in any record.

        Branches count only on lines that have a DA record: a branch on a line that no DA
        calls executable is dropped, as the line has no place in the profile to hold it.
        """
        per_line: dict[tuple[int, int], list[int]] = {}
        for (file_id, at, _, _), taken in self.branches.items():
            tally = per_line.setdefault((file_id, at), [0, 0])
            tally[0] += 1
            tally[1] += taken > 0
        index = {path: i for i, path in enumerate(profile.paths)}
        ranks = np.array([index[path] for path in self.paths], np.int64)
        where = np.array(list(per_line), np.int64).reshape(-1, 2)
        rows, found = _rows_of(profile, ranks[where[:, 0]], where[:, 1])
        tallies = np.array(list(per_line.values()), np.int32).reshape(-1, 2)
        regions = profile.regions
        branches, covered = regions.branches.copy(), regions.branches_covered.copy()
        branches[rows[found]] = tallies[found, 0]
        covered[rows[found]] = tallies[found, 1]
        return profile.with_regions(regions._replace(branches=branches, branches_covered=covered))

    def _warning(self) -> str | None:
        found = self.disagreement
        if found is None:
            return None
        text = header_disagreement(found.where, found.claimed, found.body) or ""
        others = found.count - 1
        if others:
            text += f" ({others} more record{'s' * (others > 1)} disagree{'s' * (others == 1)} too)"
        return text


def _rows_of(
    profile: Profile, files: np.ndarray, lines: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The row of each (file index, line) in a line profile, and whether it has one."""
    sizes = np.diff(profile.offsets)
    row_keys = np.repeat(np.arange(sizes.shape[0], dtype=np.int64), sizes) << 32
    row_keys |= profile.regions.start_line.astype(np.int64)
    wanted = (files << 32) | lines
    if not row_keys.size:
        return np.zeros(wanted.shape, np.int64), np.zeros(wanted.shape, bool)
    rows = np.searchsorted(row_keys, wanted).clip(max=row_keys.shape[0] - 1)
    return rows, row_keys[rows] == wanted


def _distinct_lines(lines: list[str]) -> tuple[int, int]:
    """Lines and lines hit among a record's DA records, each line counted once."""
    hits: dict[int, int] = {}
    for line in lines:
        if line[:3] == "DA:":
            fields = line[3:].split(",")
            at = int(fields[0])
            hits[at] = hits.get(at, 0) + int(fields[1])
    return len(hits), sum(1 for h in hits.values() if h > 0)


# -- the shape of each record ----------------------------------------------------------------
#: Records other than DA, SF and end_of_record: (the expected shape, how many commas split
#: it, the kind of each field: ``l`` a line number, ``n`` a non-negative integer, ``s``
#: non-empty text, and how many fields at least). The last field takes the rest of the line.
_SHAPES: dict[str, tuple[str, int, str, int]] = {
    "FNDA": ("FNDA:HITS,NAME", 1, "ns", 2),
    "FNL": ("FNL:INDEX,START[,END]", 2, "nnn", 2),
    "FNA": ("FNA:INDEX,HITS,NAME", 2, "nns", 3),
    "MCDC": ("MCDC:LINE,GROUP_SIZE,SENSE,TAKEN,INDEX,EXPRESSION", 5, "lnssns", 6),
    **{
        t: (f"{t}:COUNT", 0, "n", 1) for t in ("LF", "LH", "BRF", "BRH", "FNF", "FNH", "MCF", "MCH")
    },
}
_KNOWN = (
    "TN, VER, SF, DA, BRDA, BRF, BRH, LF, LH, FN, FNDA, FNF, FNH, FNL, FNA, MCDC, MCF, MCH "
    "or end_of_record"
)


def _shape_problem(tag: str, value: str) -> str | None:
    """Why a record's value has the wrong shape, "" when it is right, None for unknown tags."""
    if tag == "DA":
        return _da_problem(value)
    if tag == "FN":
        return _fn_problem(value)
    if tag == "BRDA":
        return _brda_problem(value)
    if tag not in _SHAPES:
        return None
    expected, commas, kinds, at_least = _SHAPES[tag]
    fields = value.split(",", commas)
    if len(fields) < at_least:
        return f"expected {expected}"
    problem = _fields_problem(fields, kinds)
    return f"{problem}; expected {expected}" if problem else ""


def _fn_problem(value: str) -> str:
    """``FN:LINE,NAME`` (lcov 1) or ``FN:START,END,NAME`` (coverage.py ≥ 7.6)."""
    fields = value.split(",", 2)
    if len(fields) == 3 and fields[1].isascii() and fields[1].isdigit():
        problem = _fields_problem(fields, "nns")
    else:
        fields = value.split(",", 1)
        problem = _fields_problem(fields, "ns") if len(fields) == 2 else "too few fields"
    return f"{problem}; expected FN:LINE,NAME or FN:START,END,NAME" if problem else ""


def _brda_problem(value: str) -> str:
    """``BRDA:LINE,BLOCK,BRANCH,TAKEN``; the branch id may hold commas, TAKEN may be ``-``."""
    head, _, taken = value.rpartition(",")
    fields = head.split(",", 2)
    expected = "expected BRDA:LINE,BLOCK,BRANCH,TAKEN with TAKEN a count or -"
    if len(fields) < 3:
        return expected
    problem = _fields_problem(fields, "lss")
    if not problem and taken != "-":
        problem = _count_problem(taken, "taken count")
    return f"{problem}; {expected}" if problem else ""


def _fields_problem(fields: list[str], kinds: str) -> str:
    """The first field that is not of its kind (see ``_SHAPES``), or ""."""
    for text, kind in zip(fields, kinds, strict=False):
        if kind == "l":
            problem = _line_problem(text)
        elif kind == "n":
            problem = _count_problem(text, "number")
        else:
            problem = "" if text.strip() else "an empty field"
        if problem:
            return problem
    return ""


def _count_problem(text: str, what: str) -> str:
    """Why ``text`` is not a non-negative integer, or "" when it is one."""
    if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
        return f"{what} {text!r} is negative"
    if not (text.isascii() and text.isdigit()):
        return f"{what} {text!r} is not a non-negative integer"
    if len(text) > 18:
        return f"{what} {text!r} is too large"
    return ""


def _line_problem(text: str) -> str:
    problem = _count_problem(text, "line number")
    if not problem and not 0 < int(text) <= _MAX_LINE:
        problem = f"line number {text!r} is out of range (1 to {_MAX_LINE})"
    return problem


def _da_problem(value: str) -> str:
    """Why a DA record's value is malformed, or ""."""
    expected = "expected DA:LINE,HITS[,CHECKSUM]"
    fields = value.split(",")
    if not 2 <= len(fields) <= 3:
        return expected
    problem = _line_problem(fields[0]) or _count_problem(fields[1], "hit count")
    return f"{problem}; {expected}" if problem else ""


def _show(line: str) -> str:
    return repr(line if len(line) <= 80 else line[:77] + "...")


# -- writing -------------------------------------------------------------------------------
def format_tracefile(profile: Profile) -> str:
    """The profile as one LCOV text (tests and small profiles; writers use the iterator)."""
    return "".join(iter_tracefile(profile))


def iter_tracefile(profile: Profile) -> Iterator[str]:
    """The profile as an LCOV tracefile, one piece per file.

    Each file's DA lines come from its line view (a Go block spans lines: each line gets
    the highest count of the blocks on it), so LF/LH are the line view's lines and lines
    hit. A line with branches gets ids 0..n-1 on block 0: the first ``branches_covered``
    taken once, the others not taken (``-`` when the line never ran).
    """
    for path in profile.paths:
        yield _file_record(path, profile[path].lines())


def _file_record(path: str, view: LineView) -> str:
    numbers = np.stack((view.line.astype(np.int64), view.hits), axis=1).ravel().tolist()
    parts = ["TN:\n", f"SF:{path}\n", ("DA:%d,%d\n" * view.line.shape[0]) % tuple(numbers)]
    branched = np.flatnonzero(view.branches > 0)
    lines, hits = view.line[branched].tolist(), view.hits[branched].tolist()
    counts, covered = view.branches[branched].tolist(), view.branches_covered[branched].tolist()
    for line, hit, count, taken in zip(lines, hits, counts, covered, strict=True):
        missed = "0" if hit else "-"
        parts.extend(f"BRDA:{line},0,{i},{1 if i < taken else missed}\n" for i in range(count))
    parts.append(
        f"BRF:{int(view.branches.sum())}\nBRH:{int(view.branches_covered.sum())}\n"
        f"LF:{view.line.shape[0]}\nLH:{int(np.count_nonzero(view.hits))}\nend_of_record\n"
    )
    return "".join(parts)
