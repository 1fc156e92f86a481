"""What a comparison of two profiles found: per-file old %, new % and delta, patch coverage,
lines that lost or gained coverage, and each line's differential category.

These are plain records; ``covtool.analysis`` computes them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, NamedTuple

import numpy as np

from covtool.model import Totals
from covtool.records import Baseline, ChangeSet, PreviousBuild

#: How the coverage of a file moved: ``unchanged`` when it moved by less than the sensitivity.
FileStatus = Literal["added", "deleted", "changed", "unchanged"]

#: Why a file is in the comparison: the change added, deleted, modified or renamed it; a test
#: of it changed (``tests``); nothing touched it but its coverage moved (``indirect``); or no
#: change set was given and every file is compared (``none``).
ChangeKind = Literal["added", "deleted", "modified", "renamed", "tests", "indirect", "none"]

#: Inclusive runs of line numbers, ``((3, 5), (9, 9))``.
LineRanges = tuple[tuple[int, int], ...]


class Category(enum.IntEnum):
    """lcov's differential coverage categories of a line (``genhtml --baseline-file``).

    "New" lines are lines the change added or modified; "unchanged" lines are the same text
    as a baseline line (compared with *that* line, wherever it moved); "included" lines are
    unchanged text that was not executable in the baseline; "excluded" lines are unchanged
    text no longer executable; "deleted" lines are baseline lines the change removed.
    """

    GNC = 0  # new, covered
    UNC = 1  # new, not covered
    GBC = 2  # unchanged, not covered in the baseline, covered now: gained
    LBC = 3  # unchanged, covered in the baseline, not now: lost
    CBC = 4  # unchanged, covered in both
    UBC = 5  # unchanged, covered in neither
    GIC = 6  # unchanged text, executable only now, covered
    UIC = 7  # unchanged text, executable only now, not covered
    ECB = 8  # unchanged text, executable only in the baseline, where it was covered
    EUB = 9  # unchanged text, executable only in the baseline, where it was not covered
    DCB = 10  # deleted by the change, covered in the baseline
    DUB = 11  # deleted by the change, not covered in the baseline

    @property
    def description(self) -> str:
        """The category in words, as reports show it."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    Category.GNC: "new covered",
    Category.UNC: "new uncovered",
    Category.GBC: "gained",
    Category.LBC: "lost",
    Category.CBC: "unchanged covered",
    Category.UBC: "unchanged uncovered",
    Category.GIC: "included covered",
    Category.UIC: "included uncovered",
    Category.ECB: "excluded covered",
    Category.EUB: "excluded uncovered",
    Category.DCB: "deleted covered",
    Category.DUB: "deleted uncovered",
}


class LineDiff(NamedTuple):
    """Each executable line's category: the head's lines, then the baseline's deleted ones.

    ``lines`` are head line numbers (sorted) with ``categories``; ``deleted`` are baseline
    line numbers (sorted) with ``deleted_categories`` (DCB, DUB, ECB, EUB).
    """

    lines: np.ndarray  # int64
    categories: np.ndarray  # uint8, Category values
    deleted: np.ndarray  # int64
    deleted_categories: np.ndarray  # uint8

    def counts(self) -> dict[str, int]:
        """How many lines fall in each category that occurs, by category name."""
        found = np.bincount(
            np.concatenate((self.categories, self.deleted_categories)), minlength=len(Category)
        )
        return {c.name: int(found[c]) for c in Category if found[c]}

    def of(self, *categories: Category) -> np.ndarray:
        """The head line numbers in any of ``categories``."""
        # Comparisons, not np.isin: on a file's few hundred lines isin's setup dominates.
        mask = self.categories == categories[0]
        for category in categories[1:]:
            mask |= self.categories == category
        selected: np.ndarray = self.lines[mask]
        return selected


@dataclass(frozen=True)
class FileDelta:
    """How one file's coverage moved.

    ``old`` is None when the baseline does not have the file, ``new`` when the head does not.
    ``old_path`` is the file's baseline path when it was renamed. ``patch`` counts the
    executable lines the change added or modified and how many of them ran; ``uncovered``
    lists those that did not. ``lost`` and ``gained`` are unchanged lines (head numbers)
    that were covered in the baseline and are not any more, and the reverse. ``lines`` is
    None when the change's lines are unknown, and then so is ``patch``.
    """

    path: str
    old: Totals | None
    new: Totals | None
    change: ChangeKind = "none"
    old_path: str | None = None
    patch: Totals | None = field(default_factory=Totals)
    uncovered: LineRanges = ()
    lost: LineRanges = ()
    gained: LineRanges = ()
    lines: LineDiff | None = None
    sensitivity: float = 0.0

    @property
    def status(self) -> FileStatus:
        """``added``, ``deleted``, ``changed``, or ``unchanged`` when the coverage moved by
        less than the sensitivity (exactly the same ratio, with a sensitivity of 0)."""
        if self.old is None:
            return "added"
        if self.new is None:
            return "deleted"
        delta = self.delta
        if delta is None or self.sensitivity == 0:
            return "unchanged" if self.old.same_ratio(self.new) else "changed"
        return "unchanged" if abs(delta) < self.sensitivity else "changed"

    @cached_property
    def delta(self) -> float | None:
        """New minus old, in percentage points; None unless both sides have a percentage."""
        return percent_delta(self.old, self.new)

    @property
    def base_path(self) -> str:
        """The file's path in the baseline."""
        return self.old_path or self.path


@dataclass(frozen=True)
class PreviousDiff:
    """How coverage moved since the pull request's previous build (locally: the branch's
    previous run), or why that is not known.

    ``found`` is the search's answer: the earlier build, or the reason there is none.
    ``files`` compares each file of the main comparison (the files the pull request touches)
    with the previous build's; ``old_totals`` and ``new_totals`` are the whole profiles'.
    ``ancestor`` says whether the previous commit is in the history of this one (False: the
    branch was rewritten, as by a force-push; None: git cannot tell). ``mapped`` says whether
    lines were lined up through git's diff of the two commits; without it only the files'
    totals are compared.
    """

    found: PreviousBuild
    files: tuple[FileDelta, ...] = ()
    old_totals: Totals | None = None
    new_totals: Totals | None = None
    ancestor: bool | None = None
    mapped: bool = False

    @property
    def build(self) -> Baseline | None:
        """The previous build compared with; None when there is none."""
        return self.found.build

    @property
    def commit(self) -> str | None:
        """The previous build's commit, when known."""
        return self.found.build.commit if self.found.build else None

    @property
    def delta(self) -> float | None:
        """The change of the overall figure since the previous build, in percentage points."""
        return percent_delta(self.old_totals, self.new_totals)


@dataclass(frozen=True)
class Diff:
    """The comparison of a baseline profile with a head profile.

    ``files`` are the files the change touched (and the files their changed tests stand
    for), sorted by path; without a change set, every file of either profile. ``indirect``
    are files the change did not touch whose coverage moved anyway. ``ignored`` maps the
    files left out to the reason. ``changes`` is the change set used, if any; ``notes``
    say what the comparison had to work around; ``baseline`` is the build the base profile
    came from, when it came from a store. ``previous`` is the comparison with the pull
    request's previous build, when a workflow looked for one.
    """

    files: tuple[FileDelta, ...]
    old_totals: Totals
    new_totals: Totals
    indirect: tuple[FileDelta, ...] = ()
    ignored: dict[str, str] = field(default_factory=dict)
    changes: ChangeSet | None = None
    sensitivity: float = 0.0
    notes: tuple[str, ...] = ()
    baseline: Baseline | None = None
    previous: PreviousDiff | None = None

    @property
    def delta(self) -> float | None:
        """The change of the overall figure, in percentage points."""
        return percent_delta(self.old_totals, self.new_totals)

    @property
    def patch(self) -> Totals | None:
        """Executable lines the change added or modified, and how many ran, over all files;
        None without a change set."""
        if self.changes is None:
            return None
        return sum((f.patch for f in self.files if f.patch is not None), Totals())


def percent_delta(old: Totals | None, new: Totals | None) -> float | None:
    """``new - old`` in percentage points, or None unless both have a percentage.

    One integer numerator over one integer denominator, divided once: the float nearest the
    exact difference (subtracting two rounded percentages would not be).
    """
    if old is None or new is None or old.total == 0 or new.total == 0:
        return None
    return 100 * (new.hit * old.total - old.hit * new.total) / (old.total * new.total)
