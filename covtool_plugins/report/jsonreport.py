"""The ``json`` report: exact counts for machines, with a format version.

A summary::

    {"format_version": 1, "kind": "summary", "mode": "count", "unit": "block",
     "totals": {"statements": 10, "covered": 8, "percent": 80.0},
     "files": {"pkg/a.go": {...}}, "directories": {"pkg": {...}}}

A comparison (``covtool diff``) has ``"kind": "diff"``: totals, patch coverage, and per
file old, new, delta, patch, uncovered, lost and gained lines (docs/diff-json.md describes
every field). Percentages are unrounded; ``null`` where there is nothing to cover.
``percent`` combines statements and branches as coverage.py does; profiles with branches
add ``branches``, ``branches_covered``, ``line_percent`` and ``branch_percent``. Keys are
sorted; the document is one line (the compact encoder is several times faster on 20,000 files).
"""

from __future__ import annotations

import json
from typing import Any

from covtool import (
    Artifact,
    Diff,
    FileDelta,
    PreviousDiff,
    Profile,
    Report,
    ReportFormat,
    Totals,
    hookimpl,
    views,
)

NAME = "json"
#: Its name in the artifacts: not coverage.json, which is coverage.py's own profile there.
FILENAME = "covtool-report.json"
FORMAT_VERSION = 1


@hookimpl
def covtool_report_formats() -> list[ReportFormat]:
    """Offer the ``json`` format."""
    return [ReportFormat(NAME, "exact counts for machines, versioned", FILENAME)]


@hookimpl
def covtool_render_report(report: Report, formats: list[str]) -> list[Artifact]:
    """Render the summary or the comparison as JSON."""
    if NAME not in formats:
        return []
    data = diff_data(report.diff, report.profile) if report.diff else summary_data(report.profile)
    return [Artifact(NAME, FILENAME, json.dumps(data, sort_keys=True) + "\n")]


def summary_data(profile: Profile) -> dict[str, Any]:
    """The summary document: totals per file, per directory and overall."""
    branches = views.has_branches(profile)
    return {
        "format_version": FORMAT_VERSION,
        "kind": "summary",
        "mode": profile.mode,
        "unit": profile.unit,
        "totals": views.totals_dict(profile.totals(), branches),
        "files": {r.name: views.totals_dict(r.totals, branches) for r in views.file_rows(profile)},
        "directories": {
            r.name: views.totals_dict(r.totals, branches) for r in views.directory_rows(profile)
        },
    }


def diff_data(diff: Diff, head: Profile) -> dict[str, Any]:
    """The comparison document; its fields are described in docs/diff-json.md."""
    branches = views.has_branches(head)
    changes = diff.changes
    return {
        "format_version": FORMAT_VERSION,
        "kind": "diff",
        "totals": {
            "old": _side(diff.old_totals, branches),
            "new": _side(diff.new_totals, branches),
            "delta": diff.delta,
        },
        "patch": _patch(diff.patch),
        "sensitivity": diff.sensitivity,
        "changes": None
        if changes is None
        else {"source": changes.source, "base": changes.base, "head": changes.head},
        "baseline": _baseline(diff),
        "previous": _previous(diff.previous, branches),
        "files": {f.path: _file(f, branches) for f in diff.files},
        "indirect": {f.path: _file(f, branches) for f in diff.indirect},
        "ignored": diff.ignored,
        "notes": list(diff.notes),
    }


def _side(totals: Totals | None, branches: bool) -> dict[str, Any] | None:
    return None if totals is None else views.totals_dict(totals, branches)


def _patch(patch: Totals | None) -> dict[str, Any] | None:
    if patch is None:
        return None
    return {"lines": patch.statements, "covered": patch.covered, "percent": patch.percent}


def _file(f: FileDelta, branches: bool) -> dict[str, Any]:
    return {
        "change": f.change,
        "status": f.status,
        "old_path": f.old_path,
        "old": _side(f.old, branches),
        "new": _side(f.new, branches),
        "delta": f.delta,
        "patch": _patch(f.patch),
        "uncovered_lines": [list(r) for r in f.uncovered],
        "lost_lines": [list(r) for r in f.lost],
        "gained_lines": [list(r) for r in f.gained],
        "categories": None if f.lines is None else f.lines.counts(),
    }


def _baseline(diff: Diff) -> dict[str, Any] | None:
    found = diff.baseline
    if found is None:
        return None
    return {
        "build": found.build_id,
        "commit": found.commit,
        "location": found.location,
        "commits_behind": found.commits_behind,
    }


def _previous(previous: PreviousDiff | None, branches: bool) -> dict[str, Any] | None:
    if previous is None:
        return None
    found = previous.found
    build = found.build
    return {
        "build": build.build_id if build else None,
        "commit": build.commit if build else None,
        "location": build.location if build else None,
        "missing": None if build else found.reason,
        "first_run": found.first,
        "ancestor": previous.ancestor,
        "lines_mapped": previous.mapped,
        "totals": {
            "old": _side(previous.old_totals, branches),
            "new": _side(previous.new_totals, branches),
            "delta": previous.delta,
        },
        "files": {f.path: _file(f, branches) for f in previous.files},
    }
