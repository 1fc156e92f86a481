"""Compare two profiles file by file: old %, new %, delta, added and deleted files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from covtool.model import Profile, Totals

FileStatus = Literal["added", "deleted", "changed", "unchanged"]


@dataclass(frozen=True)
class FileDelta:
    """How one file's coverage moved. ``old`` is None for an added file, ``new`` for a
    deleted one."""

    path: str
    old: Totals | None
    new: Totals | None

    @property
    def status(self) -> FileStatus:
        """``added``, ``deleted``, ``changed`` or ``unchanged`` (same exact ratio)."""
        if self.old is None:
            return "added"
        if self.new is None:
            return "deleted"
        return "unchanged" if self.old.same_ratio(self.new) else "changed"

    @property
    def delta(self) -> float | None:
        """New minus old, in percentage points; None unless both sides have a percentage."""
        return percent_delta(self.old, self.new)


@dataclass(frozen=True)
class Diff:
    """The per-file comparison of a base profile with a head profile, sorted by path."""

    files: tuple[FileDelta, ...]
    old_totals: Totals
    new_totals: Totals

    @property
    def delta(self) -> float | None:
        """The change of the overall figure, in percentage points."""
        return percent_delta(self.old_totals, self.new_totals)


def percent_delta(old: Totals | None, new: Totals | None) -> float | None:
    """``new - old`` in percentage points, or None unless both have a percentage.

    One integer numerator over one integer denominator, divided once: the float nearest the
    exact difference (subtracting two rounded percentages would not be).
    """
    if old is None or new is None or old.total == 0 or new.total == 0:
        return None
    return 100 * (new.hit * old.total - old.hit * new.total) / (old.total * new.total)


def compare(base: Profile, head: Profile) -> Diff:
    """Per-file totals of both profiles side by side, over the union of their files."""
    old = dict(zip(base.paths, base.file_totals(), strict=True))
    new = dict(zip(head.paths, head.file_totals(), strict=True))
    files = tuple(FileDelta(path, old.get(path), new.get(path)) for path in sorted(old | new))
    return Diff(files, base.totals(), head.totals())
