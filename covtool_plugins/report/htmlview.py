"""The HTML report's view data: per-file views, each source line's row, the summary.

The templates only lay these out. A file's lines are built when its section or page is
rendered (``FileView.load``) and dropped after it, so a report of 20,000 files holds one
file's source at a time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from markupsafe import Markup

from covtool import (
    COVERED,
    MISSED,
    PARTIAL,
    Category,
    Diff,
    FileDelta,
    LineView,
    Profile,
    Report,
    Totals,
    Verdict,
    views,
)
from covtool_plugins.report.htmlsource import Located, SourceTree, read_html_lines

#: An executable line's state, branches and branches taken.
Coverage = tuple[int, int, int]
LineRanges = tuple[tuple[int, int], ...]

#: Rows per block of a file's lines (see ``_chunks``).
CHUNK_LINES = 500
_STATE_CLASS = {MISSED: "m", PARTIAL: "p", COVERED: "c"}
#: A line's ``class`` attribute, indexed by its state (LineView.state: 0, 1 or 2).
_STATE_ATTRIBUTES = np.array(
    [f' class="{_STATE_CLASS[state]}"' for state in sorted(_STATE_CLASS)], dtype=object
)
#: Categories too common to label: the line is unchanged and so is its coverage.
_QUIET = {Category.CBC, Category.UBC}
_NEW = {Category.GNC, Category.UNC}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_PAGE_ID = re.compile(r"^(file\d+|f\d+-L\d+)$")
_WHITESPACE = re.compile(r"\s")


def page_name(path: str) -> str:
    """The file name of a file's page in the HTML site: readable, unique, portable.

    Characters outside ``[A-Za-z0-9._-]`` become ``_`` and a hash of the whole path keeps
    names distinct (also where the file system ignores case); no name is ``index.html``.
    """
    digest = hashlib.blake2s(path.encode(), digest_size=5).hexdigest()
    stem = _UNSAFE_NAME.sub("_", path)[-80:].lstrip("._") or "file"
    return f"{stem}_{digest}.html"


@dataclass
class FileLines:
    """What a file's section shows: its rows (HTML, escaped) and notes about its source."""

    html: Markup
    notes: list[str]


@dataclass(frozen=True)
class FileView:
    """One file of the report, as its section and its page show it."""

    path: str
    anchor: int
    totals: Totals
    profile: Profile
    located: Located
    delta: FileDelta | None = None
    changed: LineRanges | None = None

    @property
    def page(self) -> str:
        """The file name of its page in the site."""
        return page_name(self.path)

    @property
    def path_id(self) -> str | None:
        """The id of its section by path (whitespace, which no id may hold, as ``%20``);
        None for a path that looks like an anchor or line id of the page."""
        if _PAGE_ID.match(self.path):
            return None
        return _WHITESPACE.sub(lambda m: "".join(f"%{b:02X}" for b in m[0].encode()), self.path)

    @property
    def percent(self) -> str:
        """Its coverage, as every report rounds it."""
        return views.format_percent(self.totals)

    @property
    def has_changes(self) -> bool:
        """Whether the change touched its lines (the "changed" filter applies)."""
        return bool(self.changed) or (self.delta is not None and self.delta.lines is not None)

    @property
    def comparison(self) -> dict[str, str] | None:
        """Its old and new coverage and the change, when it was compared."""
        if self.delta is None:
            return None
        delta = self.delta.delta
        return {
            "old": views.format_side(self.delta.old),
            "new": views.format_side(self.delta.new),
            "delta": "" if delta is None else f"{delta:+.1f}",
            "patch": views.format_patch(self.delta.patch) if self.delta.patch else "",
            "lost": views.format_ranges(self.delta.lost, 10),
            "uncovered": views.format_ranges(self.delta.uncovered, 10),
        }

    def load(self, prefix: str) -> FileLines:
        """Read the source and build the rows, their ids starting with ``prefix`` (done
        when the file is rendered, and dropped after)."""
        notes = [] if self.located.path else [f"The source is not shown: {self.located.reason}."]
        source: list[str] = []
        if self.located.path is not None:
            source, problem = read_html_lines(self.located.path)
            notes += [problem] if problem else []
        view = self.profile[self.path].lines()
        last = int(view.line[-1]) if view.line.size else 0
        if self.located.path is not None and last > len(source):
            notes.append(
                f"The profile names line {last:,} of a {len(source):,}-line file: the "
                "source changed after the tests ran, and lines may not match."
            )
        rows = self._rows(source, view, prefix)
        return FileLines(Markup("".join(_chunks(rows))), notes)

    def _rows(self, source: list[str], view: LineView, prefix: str) -> list[str]:
        """Each line's row: every source line (escaped already), and lines the profile names
        past the end of the source; without a source, the profile's lines only.

        The hot loop of the report (millions of lines): a column per cell is filled with
        numpy where it can be, then one comprehension writes every row.
        """
        last = max(len(source), int(view.line[-1]) if view.line.size else 0)
        at = view.line.astype(np.intp) - 1
        attributes = np.full(last, "", dtype=object)
        hits = np.full(last, "", dtype=object)
        labels = np.full(last, "", dtype=object)
        attributes[at] = _STATE_ATTRIBUTES[view.state]
        hits[at] = np.array([f"{count:,}" for count in view.hits.tolist()], dtype=object)
        for n, line_attributes, label in self._special_lines(view):
            if n <= last:
                attributes[n - 1], labels[n - 1] = line_attributes, label
        if source:
            numbers: Sequence[int] = range(1, last + 1)
            texts = [*source, *[""] * (last - len(source))]
        else:  # only the lines the profile knows, without their text
            numbers, texts = view.line.tolist(), [""] * at.size
            attributes, hits, labels = attributes[at], hits[at], labels[at]
        cells = (attributes.tolist(), hits.tolist(), labels.tolist(), texts)
        columns = zip(numbers, *cells, strict=True)
        return [
            f'<div id="{prefix}L{n}"{attribute}><a href="#{prefix}L{n}">{n}</a>'
            f"<b>{count}</b><i>{label}</i><code>{text}</code></div>\n"
            for n, attribute, count, label, text in columns
        ]

    def _special_lines(self, view: LineView) -> Iterator[tuple[int, str, str]]:
        """``(line, attributes, label)`` of the lines whose row says more than their state:
        lines with branches, with a category, or changed. What a kind of line shows is
        worked out once (``_marks``)."""
        categories, changed = self._categories(), _line_set(self.changed or ())
        branched = np.flatnonzero(view.branches > 0)
        special = categories.keys() | changed | set(view.line[branched].tolist())
        if not special:
            return
        coverage = dict(
            zip(
                view.line.tolist(),
                zip(
                    view.state.tolist(),
                    view.branches.tolist(),
                    view.branches_covered.tolist(),
                    strict=True,
                ),
                strict=True,
            )
        )
        marks: dict[tuple[Any, ...], tuple[str, str]] = {}
        for n in sorted(special):
            key = (coverage.get(n), categories.get(n), n in changed)
            yield n, *(marks.get(key) or marks.setdefault(key, _marks(*key)))

    def _categories(self) -> dict[int, Category]:
        if self.delta is None or self.delta.lines is None:
            return {}
        found = self.delta.lines
        return {
            line: Category(category)
            for line, category in zip(found.lines.tolist(), found.categories.tolist(), strict=True)
        }


def _chunks(rows: list[str]) -> Iterator[str]:
    """The rows in blocks of ``CHUNK_LINES``, each ``<div class="lines">`` saying how many
    rows it holds (``--n``).

    The stylesheet lets the browser skip the layout of blocks out of view
    (``content-visibility``), sized by their row count until shown: that is what keeps a
    50,000-line file quick to open, filter and scroll.
    """
    for start in range(0, len(rows), CHUNK_LINES):
        part = rows[start : start + CHUNK_LINES]
        yield f'<div class="lines" style="--n:{len(part)}">\n'
        yield from part
        yield "</div>\n"


def _marks(
    coverage: Coverage | None, category: Category | None = None, changed: bool = False
) -> tuple[str, str]:
    """A marked line's ``class`` and ``title`` attributes and its label, from its state,
    branches and branches taken, its category, and whether the change touched it."""
    classes, tips = [], []
    label = ""
    if coverage is not None:
        state, branches, taken = coverage
        classes.append(_STATE_CLASS[state])
        if branches:
            tips.append(f"{taken} of {branches} branches taken")
    if category is not None:
        classes.append(f"k-{category.name.lower()}")
        if category not in _QUIET:
            label = category.description
            tips.append(category.description)
    if changed or category in _NEW:
        classes.append("chg")
    title = f' title="{"; ".join(tips)}"' if tips else ""
    return f' class="{" ".join(classes)}"{title}', label


def _line_set(ranges: LineRanges) -> set[int]:
    return {line for first, last in ranges for line in range(first, last + 1)}


def changed_ranges(diff: Diff | None) -> dict[str, LineRanges]:
    """The head lines each changed file's hunks added or modified, by path."""
    if diff is None or diff.changes is None:
        return {}
    return {
        changed.path: tuple(
            (hunk.new_start, hunk.new_start + hunk.new_count - 1)
            for hunk in changed.hunks
            if hunk.new_count
        )
        for changed in diff.changes.files
        if changed.hunks
    }


def file_views(report: Report, paths: Sequence[str], tree: SourceTree) -> list[FileView]:
    """A view of each of ``paths`` (files of the report's profile), numbered in order."""
    profile = report.profile
    totals = dict(zip(profile.paths, profile.file_totals(), strict=True))
    deltas = _deltas(report.diff)
    changed = changed_ranges(report.diff)
    return [
        FileView(
            path=path,
            anchor=index,
            totals=totals[path],
            profile=profile,
            located=tree.locate(path),
            delta=deltas.get(path),
            changed=changed.get(path),
        )
        for index, path in enumerate(paths)
    ]


def _deltas(diff: Diff | None) -> dict[str, FileDelta]:
    if diff is None:
        return {}
    return {delta.path: delta for delta in (*diff.files, *diff.indirect)}


def page_paths(report: Report) -> list[str]:
    """The files of the single page, in ``#fileN`` order: with a comparison, the compared
    files the head has (as the PR comment links them); without, every file by path."""
    if report.diff is None:
        return list(report.profile.paths)
    indices = views.anchor_indices(report.diff)
    return sorted(indices, key=indices.__getitem__)


# -- the summary header ------------------------------------------------------------------------
def summary(report: Report, generated: str) -> dict[str, Any]:
    """The header's figures: totals, and with a comparison the baseline, the change, the
    patch coverage, the change since the previous build and the gate."""
    diff = report.diff
    totals = diff.new_totals if diff else report.profile.totals()
    found: dict[str, Any] = {
        "title": report.title or "Coverage report",
        "percent": views.format_percent(totals),
        "totals": totals,
        "generated": generated,
        "comparison": None,
    }
    if diff is not None:
        found["comparison"] = _comparison(diff, report.verdicts)
    return found


def _comparison(diff: Diff, verdicts: Sequence[Verdict] | None) -> dict[str, Any]:
    baseline = diff.baseline
    return {
        "old": views.format_percent(diff.old_totals),
        "delta": "" if diff.delta is None else f"{diff.delta:+.1f}",
        "patch": views.format_patch(diff.patch) if diff.patch is not None else "",
        "commit": (diff.changes.head or "")[:12] if diff.changes else "",
        "baseline": None
        if baseline is None
        else {
            "build": baseline.build_id,
            "commit": (baseline.commit or "")[:12],
            "behind": baseline.commits_behind,
            "location": baseline.location,
        },
        "previous": None
        if diff.previous is None
        else {
            "text": views.previous_summary(diff.previous),
            "caveat": views.previous_caveat(diff.previous),
        },
        "verdicts": list(verdicts or ()),
        "gate_failed": any(v.blocking for v in verdicts or ()),
        "notes": list(diff.notes),
    }
