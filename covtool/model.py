"""The coverage model: plain data and pure functions, no I/O.

A ``Profile`` is one columnar table of *regions*, sorted by file and then by span, with an
offset array saying where each file's rows begin. A region is a Go block (a span of source
with a statement count and an execution count) or, for line-based formats, one source line
(a one-line span holding one statement). Keeping one table instead of an object per block is
what lets a million-block profile be parsed, merged and summed in well under a second: every
operation is a handful of whole-array numpy calls.

Percentages are never stored. Totals are exact integer pairs (covered/statements, and
covered/total branches); a percentage is computed from them only when shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, NamedTuple

import numpy as np

from covtool.errors import InputError

#: Go cover modes. ``set`` counts are 0/1; ``count`` and ``atomic`` counts add up.
GO_MODES = ("set", "count", "atomic")

#: What one region of a profile is: a Go block, or one source line.
Unit = Literal["block", "line"]

# Line states in a ``LineView``.
MISSED, PARTIAL, COVERED = 0, 1, 2

_INT32 = np.int32
_INT64 = np.int64


@dataclass(frozen=True)
class Totals:
    """Exact coverage counts of a file, a directory or a whole profile.

    ``statements``/``covered`` are Go statements, or executable lines for line formats.
    Branch counts are zero for formats without branches.
    """

    statements: int = 0
    covered: int = 0
    branches: int = 0
    branches_covered: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.statements + other.statements,
            self.covered + other.covered,
            self.branches + other.branches,
            self.branches_covered + other.branches_covered,
        )

    @property
    def hit(self) -> int:
        """Covered statements and covered branches: the numerator of ``ratio``."""
        return self.covered + self.branches_covered

    @property
    def total(self) -> int:
        """Statements and branches: the denominator of ``ratio``."""
        return self.statements + self.branches

    def same_ratio(self, other: Totals) -> bool:
        """Whether both have exactly the same coverage (both None counts as the same)."""
        return self.hit * other.total == other.hit * self.total and (
            (self.total == 0) == (other.total == 0)
        )

    @property
    def line_percent(self) -> float | None:
        """Statement (line) coverage alone, in percent; ``None`` without statements."""
        return None if self.statements == 0 else 100 * self.covered / self.statements

    @property
    def branch_percent(self) -> float | None:
        """Branch coverage alone, in percent; ``None`` without branches."""
        return None if self.branches == 0 else 100 * self.branches_covered / self.branches

    @property
    def ratio(self) -> Fraction | None:
        """Covered over total, statements and branches together (coverage.py's combination).

        ``None`` when there is nothing to cover; without branches this is statement coverage.
        """
        return None if self.total == 0 else Fraction(self.hit, self.total)

    @property
    def percent(self) -> float | None:
        """``ratio`` as a percentage, unrounded; ``None`` when there is nothing to cover.

        Integer true division is correctly rounded, so this is the float nearest the exact
        ratio, without building a ``Fraction``.
        """
        return None if self.total == 0 else 100 * self.hit / self.total


class Regions(NamedTuple):
    """Columns of a region table; every column has one entry per region."""

    start_line: np.ndarray  # int32, 1-based
    start_col: np.ndarray  # int32, 1-based byte column (0 for line formats)
    end_line: np.ndarray  # int32
    end_col: np.ndarray  # int32
    statements: np.ndarray  # int32
    hits: np.ndarray  # int64, execution count
    branches: np.ndarray  # int32, branch outcomes on this region
    branches_covered: np.ndarray  # int32

    @classmethod
    def from_columns(
        cls,
        start_line: Sequence[int] | np.ndarray,
        start_col: Sequence[int] | np.ndarray,
        end_line: Sequence[int] | np.ndarray,
        end_col: Sequence[int] | np.ndarray,
        statements: Sequence[int] | np.ndarray,
        hits: Sequence[int] | np.ndarray,
        branches: Sequence[int] | np.ndarray | None = None,
        branches_covered: Sequence[int] | np.ndarray | None = None,
    ) -> Regions:
        """Build a table from columns, converting each to its dtype; branches default to 0."""
        n = len(start_line)
        zeros = np.zeros(n, _INT32)
        return cls(
            np.asarray(start_line, _INT32),
            np.asarray(start_col, _INT32),
            np.asarray(end_line, _INT32),
            np.asarray(end_col, _INT32),
            np.asarray(statements, _INT32),
            np.asarray(hits, _INT64),
            zeros if branches is None else np.asarray(branches, _INT32),
            zeros if branches_covered is None else np.asarray(branches_covered, _INT32),
        )

    @classmethod
    def empty(cls) -> Regions:
        """A table with no rows."""
        return cls.from_columns([], [], [], [], [], [])

    @classmethod
    def concat(cls, tables: Sequence[Regions]) -> Regions:
        """Rows of several tables, in order."""
        if not tables:
            return cls.empty()
        return cls(*(np.concatenate(column) for column in zip(*tables, strict=True)))

    def take(self, index: np.ndarray | slice) -> Regions:
        """The rows selected by an index array, a boolean mask or a slice."""
        return Regions(*(column[index] for column in self))

    @property
    def size(self) -> int:
        """The number of rows (``len()`` of a NamedTuple is its number of columns)."""
        return int(self.start_line.shape[0])


class LineView(NamedTuple):
    """Per-line coverage of one file, derived from its regions; one entry per line."""

    line: np.ndarray  # int32, sorted, unique
    hits: np.ndarray  # int64: the highest count of any region on the line
    state: np.ndarray  # uint8: MISSED, PARTIAL or COVERED
    branches: np.ndarray  # int32
    branches_covered: np.ndarray  # int32


class FileCoverage:
    """One file of a profile: a view on its rows of the region table, nothing copied."""

    def __init__(self, profile: Profile, index: int) -> None:
        self.profile = profile
        self.index = index
        self.path = profile.paths[index]
        self._slice = slice(int(profile.offsets[index]), int(profile.offsets[index + 1]))

    @property
    def regions(self) -> Regions:
        """This file's rows of the region table (views, sorted by span)."""
        return self.profile.regions.take(self._slice)

    @property
    def totals(self) -> Totals:
        """Exact totals of this file."""
        return _sum_totals(self.regions)

    def lines(self) -> LineView:
        """The per-line view, computed on each call (callers keep it if they need it twice)."""
        return line_view(self.regions, self.profile.unit)

    def __repr__(self) -> str:
        return f"FileCoverage({self.path!r}, {self.totals})"


class Profile(Mapping[str, FileCoverage]):
    """Coverage of a set of files: a sorted region table plus the files' offsets into it.

    A profile is a read-only mapping from repository-relative POSIX path to ``FileCoverage``.
    Build one with ``Profile.build``, which sorts rows and merges duplicate regions.
    """

    def __init__(
        self,
        paths: Sequence[str],
        offsets: np.ndarray,
        regions: Regions,
        *,
        unit: Unit = "block",
        mode: str | None = None,
        source_format: str = "",
        roots: Sequence[str] = (),
    ) -> None:
        self.paths: tuple[str, ...] = tuple(paths)
        self.offsets = np.asarray(offsets, _INT64)
        self.regions = regions
        self.unit: Unit = unit
        self.mode = mode
        self.source_format = source_format
        #: Directories the format says its paths are relative to (Cobertura ``<source>``).
        self.roots: tuple[str, ...] = tuple(roots)
        self._index: dict[str, int] | None = None
        self._sums: list[np.ndarray] | None = None

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        paths: Sequence[str],
        file_ids: np.ndarray,
        regions: Regions,
        *,
        unit: Unit = "block",
        mode: str | None = None,
        source_format: str = "",
        origin: Callable[[int], str] | None = None,
        reject_overlaps: bool = False,
    ) -> Profile:
        """Sort rows by (path, span) and merge rows with the same span, the x/tools way.

        ``paths`` are the distinct file paths (any order), ``file_ids`` index into them per
        row. Same-span rows merge: counts add up, except in ``set`` mode where they are ORed;
        rows that disagree on the number of statements are an ``InputError``. With
        ``reject_overlaps`` two different regions of one file that overlap are an error too.
        ``origin(row)`` names where an input row came from (``PATH:LINE``) for messages.
        """
        return _build(paths, file_ids, regions, unit, mode, source_format, origin, reject_overlaps)

    def with_regions(
        self,
        regions: Regions,
        *,
        paths: Sequence[str] | None = None,
        offsets: np.ndarray | None = None,
        mode: str | None = None,
    ) -> Profile:
        """A profile like this one with other regions (and files, offsets or mode if given).

        The new table must already be sorted and merged; nothing is checked or re-sorted.
        """
        return Profile(
            self.paths if paths is None else paths,
            self.offsets if offsets is None else offsets,
            regions,
            unit=self.unit,
            mode=mode or self.mode,
            source_format=self.source_format,
            roots=self.roots,
        )

    @classmethod
    def empty(cls, *, unit: Unit = "block", mode: str | None = None) -> Profile:
        """A profile with no files."""
        return cls((), np.zeros(1, _INT64), Regions.empty(), unit=unit, mode=mode)

    # -- the mapping ----------------------------------------------------------------------
    def __getitem__(self, path: str) -> FileCoverage:
        if self._index is None:
            self._index = {p: i for i, p in enumerate(self.paths)}
        return FileCoverage(self, self._index[path])

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __contains__(self, path: object) -> bool:
        if self._index is None:
            self._index = {p: i for i, p in enumerate(self.paths)}
        return path in self._index

    # -- figures ----------------------------------------------------------------------------
    @property
    def block_count(self) -> int:
        """Number of rows in the region table."""
        return self.regions.size

    def totals(self) -> Totals:
        """Exact totals over every file."""
        return _sum_totals(self.regions)

    def file_totals(self) -> list[Totals]:
        """Exact totals of every file, in ``paths`` order, from one pass over the table."""
        columns = self._file_sums()
        return [Totals(*row) for row in zip(*(c.tolist() for c in columns), strict=True)]

    def _file_sums(self) -> list[np.ndarray]:
        """Per-file sums of the counted columns, computed once (a profile never changes)."""
        if self._sums is None:
            self._sums = _per_file_sums(self.regions, self.offsets)
        return self._sums

    def directory_totals(self) -> dict[str, Totals]:
        """Totals per directory, sorted by directory; ``.`` is the root.

        A directory counts the files directly in it, not those of its subdirectories: a Go
        package, and an exact match (``pkg/a`` never includes ``pkg/ab`` or ``pkg/a/b``).
        """
        ids: dict[str, int] = {}
        file_dirs = [ids.setdefault(p.rpartition("/")[0] or ".", len(ids)) for p in self.paths]
        sums = []
        for column in self._file_sums():
            total = np.zeros(len(ids), _INT64)
            np.add.at(total, np.array(file_dirs, _INT64), column)
            sums.append(total.tolist())
        rows = {d: Totals(*(s[i] for s in sums)) for d, i in ids.items()}
        return dict(sorted(rows.items()))

    def __repr__(self) -> str:
        return (
            f"Profile({len(self.paths)} files, {self.block_count} {self.unit}s, mode={self.mode})"
        )


# -- sums --------------------------------------------------------------------------------
def _covered_columns(regions: Regions) -> tuple[np.ndarray, ...]:
    covered = np.where(regions.hits > 0, regions.statements, 0)
    return regions.statements, covered, regions.branches, regions.branches_covered


def _sum_totals(regions: Regions) -> Totals:
    return Totals(*(int(column.sum(dtype=_INT64)) for column in _covered_columns(regions)))


def _per_file_sums(regions: Regions, offsets: np.ndarray) -> list[np.ndarray]:
    """Per-file sums of each counted column, by differences of cumulative sums.

    Differences of cumulative sums (not ``reduceat``) so that files without rows sum to 0.
    """
    sums = []
    for column in _covered_columns(regions):
        cumulative = np.concatenate(([0], np.cumsum(column, dtype=_INT64)))
        sums.append(cumulative[offsets[1:]] - cumulative[offsets[:-1]])
    return sums


# -- the line view -------------------------------------------------------------------------
def line_view(regions: Regions, unit: Unit) -> LineView:
    """Per-line coverage from a file's regions.

    A block covers every line from its start line to its end line. A line's hits are the
    highest count on it; it is COVERED when every region touching it ran, MISSED when none
    did, PARTIAL otherwise, or when it ran but some of its branches did not.
    """
    if unit == "line":
        lines, rows = regions.start_line, np.arange(regions.size)
    else:
        spans = (regions.end_line - regions.start_line + 1).astype(_INT64)
        rows = np.repeat(np.arange(regions.size), spans)
        firsts = np.repeat(np.cumsum(spans) - spans, spans)
        lines = regions.start_line[rows] + (np.arange(rows.shape[0]) - firsts).astype(_INT32)
    order = np.argsort(lines, kind="stable")
    lines, rows = lines[order], rows[order]
    starts = np.flatnonzero(np.concatenate(([True], lines[1:] != lines[:-1])))
    if rows.shape[0] == 0:
        empty = np.zeros(0, _INT32)
        return LineView(empty, np.zeros(0, _INT64), np.zeros(0, np.uint8), empty, empty)
    counts = regions.hits[rows]
    ran = (counts > 0).astype(_INT32)
    hits = np.maximum.reduceat(counts, starts)
    ran_all = np.minimum.reduceat(ran, starts) > 0
    ran_any = np.maximum.reduceat(ran, starts) > 0
    branches = np.add.reduceat(regions.branches[rows], starts).astype(_INT32)
    branches_covered = np.add.reduceat(regions.branches_covered[rows], starts).astype(_INT32)
    state = np.full(starts.shape[0], PARTIAL, np.uint8)
    state[ran_all & (branches_covered == branches)] = COVERED
    state[~ran_any] = MISSED
    return LineView(lines[starts], hits, state, branches, branches_covered)


# -- building: sort and merge ----------------------------------------------------------------
def _build(
    paths: Sequence[str],
    file_ids: np.ndarray,
    regions: Regions,
    unit: Unit,
    mode: str | None,
    source_format: str,
    origin: Callable[[int], str] | None,
    reject_overlaps: bool,
) -> Profile:
    sorted_paths = sorted(paths)
    rank = np.empty(len(paths), _INT64)
    rank[np.argsort(np.array(paths, dtype=object), kind="stable")] = np.arange(len(paths))
    ranks = rank[np.asarray(file_ids, _INT64)] if len(paths) else np.zeros(0, _INT64)
    order = _sort_order(ranks, regions)
    rows = np.arange(regions.size) if order is None else order
    if order is not None:
        ranks, regions = ranks[order], regions.take(order)
    ranks, regions, rows = _merge_same_spans(sorted_paths, ranks, regions, rows, mode, origin)
    if reject_overlaps:
        _check_overlaps(sorted_paths, ranks, regions, rows, origin)
    offsets = np.searchsorted(ranks, np.arange(len(sorted_paths) + 1)).astype(_INT64)
    return Profile(
        sorted_paths, offsets, regions, unit=unit, mode=mode, source_format=source_format
    )


def _span_columns(ranks: np.ndarray, regions: Regions) -> tuple[np.ndarray, ...]:
    return ranks, regions.start_line, regions.start_col, regions.end_line, regions.end_col


def _compare_neighbours(columns: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """For each row after the first: is it lexicographically after / equal to the previous?"""
    after = np.zeros(max(columns[0].shape[0] - 1, 0), bool)
    equal = np.ones_like(after)
    for column in columns:
        previous, current = column[:-1], column[1:]
        after |= equal & (current > previous)
        equal &= current == previous
    return after, equal


def _sort_order(ranks: np.ndarray, regions: Regions) -> np.ndarray | None:
    """A stable order sorting rows by (file, span), or None when they are sorted already."""
    columns = _span_columns(ranks, regions)
    after, equal = _compare_neighbours(columns)
    if bool(np.all(after | equal)):
        return None
    key = _packed_key(columns)
    if key is not None:
        return np.argsort(key, kind="stable")
    return np.lexsort(columns[::-1])


def _packed_key(columns: Sequence[np.ndarray]) -> np.ndarray | None:
    """All sort columns packed into one int64 when they fit in 63 bits; sorts several x faster."""
    widths = [max(int(column.max()), 0).bit_length() if column.size else 0 for column in columns]
    if any(int(column.min()) < 0 for column in columns if column.size) or sum(widths) > 63:
        return None
    key = np.zeros(columns[0].shape[0], _INT64)
    for column, width in zip(columns, widths, strict=True):
        key <<= width
        key |= column.astype(_INT64)
    return key


def _merge_same_spans(
    paths: Sequence[str],
    ranks: np.ndarray,
    regions: Regions,
    rows: np.ndarray,
    mode: str | None,
    origin: Callable[[int], str] | None,
) -> tuple[np.ndarray, Regions, np.ndarray]:
    """Collapse sorted rows with the same (file, span) into one, x/tools' way."""
    _, equal = _compare_neighbours(_span_columns(ranks, regions))
    if not equal.any():
        return ranks, regions, rows
    starts = np.flatnonzero(np.concatenate(([True], ~equal)))
    stmts = regions.statements
    lowest, highest = np.minimum.reduceat(stmts, starts), np.maximum.reduceat(stmts, starts)
    if (lowest != highest).any():
        _raise_inconsistent(paths, ranks, regions, rows, starts, lowest != highest, origin)
    if mode == "set":
        count = np.maximum.reduceat((regions.hits > 0).astype(_INT64), starts)
    else:
        count = np.add.reduceat(regions.hits, starts)
    merged = regions.take(starts)._replace(
        hits=count,
        branches=np.maximum.reduceat(regions.branches, starts),
        branches_covered=np.maximum.reduceat(regions.branches_covered, starts),
    )
    return ranks[starts], merged, rows[starts]


def _span_text(regions: Regions, i: int) -> str:
    r = regions
    return f"{r.start_line[i]}.{r.start_col[i]},{r.end_line[i]}.{r.end_col[i]}"


def _where(origin: Callable[[int], str] | None, row: int, fallback: str) -> str:
    return origin(int(row)) if origin else fallback


def _raise_inconsistent(
    paths: Sequence[str],
    ranks: np.ndarray,
    regions: Regions,
    rows: np.ndarray,
    starts: np.ndarray,
    bad_groups: np.ndarray,
    origin: Callable[[int], str] | None,
) -> None:
    first = int(starts[np.flatnonzero(bad_groups)[0]])
    other = first + 1
    while regions.statements[other] == regions.statements[first]:
        other += 1
    path = paths[int(ranks[first])]
    raise InputError(
        _where(origin, rows[other], path),
        f"block {path}:{_span_text(regions, first)} has {regions.statements[other]} "
        f"statements here but {regions.statements[first]} at "
        f"{_where(origin, rows[first], 'another occurrence')}",
    )


def _check_overlaps(
    paths: Sequence[str],
    ranks: np.ndarray,
    regions: Regions,
    rows: np.ndarray,
    origin: Callable[[int], str] | None,
) -> None:
    """Different regions of one file must not overlap (touching end to start is fine)."""
    r = regions
    same_file = ranks[1:] == ranks[:-1]
    starts_before_end = (r.start_line[1:] < r.end_line[:-1]) | (
        (r.start_line[1:] == r.end_line[:-1]) & (r.start_col[1:] < r.end_col[:-1])
    )
    bad = np.flatnonzero(same_file & starts_before_end)
    if bad.size:
        i = int(bad[0])
        path = paths[int(ranks[i])]
        raise InputError(
            _where(origin, rows[i + 1], path),
            f"blocks overlap but differ in {path}: {_span_text(r, i)} "
            f"({_where(origin, rows[i], 'another profile')}) and {_span_text(r, i + 1)}; "
            "profiles from different source versions or Go releases cannot be merged",
        )
