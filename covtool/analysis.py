"""The comparison at the heart of a presubmit: a baseline profile, a head profile and what the
change touched become one ``Diff``.

For every file the change touched (and every file whose changed test stands for it): old %,
new %, delta; each executable line's differential category, with unchanged lines compared
with their *own* baseline line through the diff's hunks (renames followed); patch coverage
over the lines the change added or modified. Files the change did not touch are compared
too, cheaply: a whole-table comparison finds the few whose regions differ, and only those
get a line-by-line look; those whose coverage moved are the *indirect* changes.

When the baseline was built from an older commit than the one the change is measured from
(the main branch moved on), ``drift`` holds ``git diff BASELINE_COMMIT CHANGE_BASE``: lines
are mapped through it too, and lines the main branch changed in between count as
"included", never as the change's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from covtool.diff import Category, ChangeKind, Diff, FileDelta, LineDiff
from covtool.errors import UsageError
from covtool.linemap import LineMap, line_ranges
from covtool.model import MISSED, LineView, Profile, Regions, Totals, line_view
from covtool.records import ChangedFile, ChangeSet, Hunk

_INT64 = np.int64
#: The line view of a file a profile does not have.
_EMPTY_LINES = line_view(Regions.empty(), "line")

#: Asked once with every path that would be reported; answers ``{path: reason}``.
IgnoreFiles = Callable[[list[str]], Mapping[str, str]]


@dataclass(frozen=True)
class Planned:
    """A file to compare: its head and baseline paths, why, and how its lines map."""

    path: str
    base_path: str
    change: ChangeKind
    hunks: tuple[Hunk, ...] | None  # the change's own; None: unknown
    drift: tuple[Hunk, ...] | None = None  # the main branch's since the baseline


def analyse(
    base: Profile,
    head: Profile,
    changes: ChangeSet | None,
    *,
    drift: Sequence[ChangedFile] = (),
    ignore: IgnoreFiles | None = None,
    test_file_map: Sequence[str] = (),
    sensitivity: float = 0.0,
) -> Diff:
    """Compare ``base`` (the baseline) with ``head`` over what ``changes`` touched.

    Without a change set every file of either profile is compared (``covtool diff A B``)
    and none is left out. ``ignore`` decides which files to leave out; ``test_file_map``
    holds ``REGEX=REPLACEMENT`` rules from a changed test file to the file it tests.
    """
    drifted = {f.path: f for f in drift}
    if changes is None:
        # Every file, as it is: leaving files out is a choice about what a change touched.
        planned = _plan_all(base, head)
        indirect: list[Planned] = []
        ignore = None
    else:
        planned = _plan_changes(changes, base, head, drifted, parse_test_rules(test_file_map))
        indirect = _plan_indirect(base, head, planned, drifted)
    ignored = dict(ignore(sorted({p.path for p in planned + indirect}))) if ignore else {}
    files = _deltas([p for p in planned if p.path not in ignored], base, head, sensitivity)
    moved = _deltas([p for p in indirect if p.path not in ignored], base, head, sensitivity)
    return Diff(
        files=tuple(files),
        old_totals=base.totals(),
        new_totals=head.totals(),
        indirect=tuple(d for d in moved if d.lost or d.gained or d.status != "unchanged"),
        ignored=dict(sorted(ignored.items())),
        changes=changes,
        sensitivity=sensitivity,
    )


def compare(base: Profile, head: Profile, sensitivity: float = 0.0) -> Diff:
    """Every file of either profile side by side, with no change set: ``covtool diff A B``."""
    return analyse(base, head, None, sensitivity=sensitivity)


def analyse_since(
    previous: Profile,
    head: Profile,
    paths: Sequence[str],
    push: Sequence[ChangedFile] | None,
    sensitivity: float = 0.0,
) -> tuple[FileDelta, ...]:
    """Compare the files ``paths`` (a pull request's) of its ``previous`` build with ``head``.

    ``push`` is git's diff between the two builds' commits: a file it lists is mapped
    through its hunks (renames followed), a file it does not list is the same text in both,
    line for line. Without it (a commit git does not have) only the files' totals are
    compared. A file neither profile has is left out.
    """
    pushed = {f.path: f for f in push or ()}
    planned = []
    for path in paths:
        if push is None:
            item = Planned(path, path, "none", None)
        elif path in pushed:
            found = pushed[path]
            hunks = None if found.binary else () if found.status == "added" else found.hunks
            item = Planned(path, found.base_path, found.status, hunks)
        else:
            item = Planned(path, path, "none", ())
        if item.path in head or item.base_path in previous:
            planned.append(item)
    return tuple(_deltas(planned, previous, head, sensitivity))


# -- what to compare ---------------------------------------------------------------------------
def _plan_changes(
    changes: ChangeSet,
    base: Profile,
    head: Profile,
    drifted: Mapping[str, ChangedFile],
    rules: Sequence[tuple[re.Pattern[str], str]],
) -> list[Planned]:
    """The changed files that either profile covers, then the files their tests stand for."""
    planned: dict[str, Planned] = {}
    for file in changes.files:
        if file.binary:
            continue
        item = _planned(file.path, file.base_path, file.status, file.hunks, drifted)
        if item.path in head or item.base_path in base:
            planned[item.path] = item
    for file in changes.files:
        target = tested_file(file.path, rules)
        if target and target not in planned and (target in head or target in base):
            planned[target] = _planned(target, target, "tests", (), drifted)
    return sorted(planned.values(), key=lambda p: p.path)


def _planned(
    path: str,
    change_base_path: str,
    change: ChangeKind,
    hunks: tuple[Hunk, ...] | None,
    drifted: Mapping[str, ChangedFile],
) -> Planned:
    """A file's plan, with its baseline path and hunks from the main branch's drift."""
    moved = drifted.get(change_base_path)
    if change == "added":
        hunks = ()  # every line is new, whatever the source said about hunks
    return Planned(
        path,
        moved.base_path if moved else change_base_path,
        change,
        hunks,
        moved.hunks if moved else None,
    )


def _plan_indirect(
    base: Profile, head: Profile, planned: Sequence[Planned], drifted: Mapping[str, ChangedFile]
) -> list[Planned]:
    """Files the change did not touch whose regions differ, or that the main branch moved."""
    touched = {p.path for p in planned} | {p.base_path for p in planned}
    paths = set(differing_files(base, head)) | {
        f.path for f in drifted.values() if f.path in head and f.base_path in base
    }
    return [
        _planned(path, path, "indirect", (), drifted)
        for path in sorted(paths - touched)
        if path in head
    ]


def _plan_all(base: Profile, head: Profile) -> list[Planned]:
    """Without a change set: every file, by totals only.

    Line-level comparison needs to know which lines a change touched; without one, lining
    lines up by number would call every shifted line lost, so none is attempted.
    """
    planned = []
    for path in sorted(set(base.paths) | set(head.paths)):
        change: ChangeKind = (
            "added" if path not in base else "deleted" if path not in head else "none"
        )
        planned.append(Planned(path, path, change, None))
    return planned


def differing_files(base: Profile, head: Profile) -> list[str]:
    """Files in both profiles whose regions differ in span, statements or being covered.

    One comparison over the whole region table instead of one per file: rows of files with
    equally many regions are lined up by gathering, compared column by column, and reduced
    per file.
    """
    common = sorted(set(base.paths) & set(head.paths))
    if not common:
        return []
    b_index = _indices(base, common)
    h_index = _indices(head, common)
    b_first, h_first = base.offsets[b_index], head.offsets[h_index]
    b_count = base.offsets[b_index + 1] - b_first
    h_count = head.offsets[h_index + 1] - h_first
    same = b_count == h_count
    counts = b_count[same]
    within = np.arange(int(counts.sum()), dtype=_INT64) - np.repeat(
        np.cumsum(counts) - counts, counts
    )
    b_rows = np.repeat(b_first[same], counts) + within
    h_rows = np.repeat(h_first[same], counts) + within
    unequal = np.zeros(b_rows.shape, bool)
    for b_column, h_column in zip(_compared(base), _compared(head), strict=True):
        unequal |= b_column[b_rows] != h_column[h_rows]
    per_file = np.zeros(int(same.sum()), _INT64)
    np.add.at(per_file, np.repeat(np.arange(per_file.shape[0]), counts), unequal)
    differs = ~same
    differs[np.flatnonzero(same)] = per_file > 0
    return [path for path, d in zip(common, differs.tolist(), strict=True) if d]


def _indices(profile: Profile, paths: Sequence[str]) -> np.ndarray:
    position = {p: i for i, p in enumerate(profile.paths)}
    return np.array([position[p] for p in paths], _INT64)


def _compared(profile: Profile) -> tuple[np.ndarray, ...]:
    r = profile.regions
    return (
        r.start_line,
        r.start_col,
        r.end_line,
        r.end_col,
        r.statements,
        r.hits > 0,
        r.branches,
        r.branches_covered,
    )


# -- test files ---------------------------------------------------------------------------------
def parse_test_rules(rules: Sequence[str]) -> list[tuple[re.Pattern[str], str]]:
    """``REGEX=REPLACEMENT`` rules (split at the last ``=``); a bad one is a ``UsageError``."""
    parsed = []
    for rule in rules:
        pattern, equals, replacement = rule.rpartition("=")
        if not equals or not pattern:
            raise UsageError(f"test_file_map {rule!r}: expected REGEX=REPLACEMENT")
        try:
            parsed.append((re.compile(pattern), replacement))
        except re.error as error:
            raise UsageError(f"test_file_map {rule!r}: not a regular expression: {error}") from None
    return parsed


def tested_file(path: str, rules: Sequence[tuple[re.Pattern[str], str]]) -> str | None:
    """The file a test file stands for, by the first rule whose pattern matches the path."""
    for pattern, replacement in rules:
        if pattern.search(path):
            return pattern.sub(replacement, path, count=1)
    return None


# -- one file -----------------------------------------------------------------------------------
def _deltas(
    planned: Sequence[Planned], base: Profile, head: Profile, sensitivity: float
) -> list[FileDelta]:
    old_totals = dict(zip(base.paths, base.file_totals(), strict=True))
    new_totals = dict(zip(head.paths, head.file_totals(), strict=True))
    return [
        file_delta(p, base, head, old_totals.get(p.base_path), new_totals.get(p.path), sensitivity)
        for p in planned
    ]


def file_delta(
    planned: Planned,
    base: Profile,
    head: Profile,
    old: Totals | None,
    new: Totals | None,
    sensitivity: float,
) -> FileDelta:
    """One file's comparison; line-level only when its hunks are known."""
    old_path = planned.base_path if planned.base_path != planned.path else None
    if planned.hunks is None:
        return FileDelta(
            planned.path, old, new, planned.change, old_path, None, sensitivity=sensitivity
        )
    old_lines = base[planned.base_path].lines() if old is not None else _EMPTY_LINES
    new_lines = head[planned.path].lines() if new is not None else _EMPTY_LINES
    lines = categorise(old_lines, new_lines, planned)
    new_code = lines.of(Category.GNC, Category.UNC)
    covered = int(np.count_nonzero(lines.categories == Category.GNC))
    return FileDelta(
        planned.path,
        old,
        new,
        planned.change,
        old_path,
        patch=Totals(int(new_code.size), covered),
        uncovered=line_ranges(lines.of(Category.UNC)),
        lost=line_ranges(lines.of(Category.LBC)),
        gained=line_ranges(lines.of(Category.GBC)),
        lines=lines,
        sensitivity=sensitivity,
    )


def categorise(old: LineView, new: LineView, planned: Planned) -> LineDiff:
    """Each executable line's category (a line is covered when any of it ran)."""
    change = LineMap(planned.hunks or ())
    drift = LineMap(planned.drift) if planned.drift else None
    lines = new.line.astype(_INT64)
    covered = new.state != MISSED
    fresh = np.ones(lines.shape, bool) if planned.change == "added" else change.changed(lines)
    middle = change.to_base(lines)
    included = drift.changed(middle) & ~fresh if drift else np.zeros(lines.shape, bool)
    at_base = drift.to_base(middle) if drift else middle

    base_lines = old.line.astype(_INT64)
    was_covered = old.state != MISSED
    position = np.minimum(np.searchsorted(base_lines, at_base), max(base_lines.size - 1, 0))
    found = ~fresh & ~included
    found &= base_lines[position] == at_base if base_lines.size else False

    categories = np.where(covered, Category.GIC, Category.UIC).astype(np.uint8)
    categories[fresh] = np.where(covered[fresh], Category.GNC, Category.UNC)
    before = was_covered[position[found]] if base_lines.size else np.zeros(0, bool)
    categories[found] = _unchanged_category(before, covered[found])

    matched = np.zeros(base_lines.shape, bool)
    matched[position[found]] = True
    gone = ~matched
    removed = _removed(base_lines[gone], planned, change, drift)
    was = was_covered[gone]
    deleted_categories = np.where(
        removed,
        np.where(was, Category.DCB, Category.DUB),
        np.where(was, Category.ECB, Category.EUB),
    ).astype(np.uint8)
    return LineDiff(lines, categories, base_lines[gone], deleted_categories)


def _unchanged_category(before: np.ndarray, now: np.ndarray) -> np.ndarray:
    both = np.where(now, Category.CBC, Category.LBC)
    neither = np.where(now, Category.GBC, Category.UBC)
    return np.where(before, both, neither).astype(np.uint8)


def _removed(
    base_lines: np.ndarray, planned: Planned, change: LineMap, drift: LineMap | None
) -> np.ndarray:
    """Which baseline lines the change (or the main branch since) removed or rewrote."""
    if planned.change == "deleted":
        return np.ones(base_lines.shape, bool)
    if drift is None:
        return change.removed(base_lines)
    at_change_base = drift.inverse().to_base(base_lines)
    removed: np.ndarray = drift.removed(base_lines) | change.removed(at_change_base)
    return removed
