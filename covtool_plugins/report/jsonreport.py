"""The ``json`` report: exact counts for machines, with a format version.

A summary::

    {"format_version": 1, "kind": "summary", "mode": "count", "unit": "block",
     "totals": {"statements": 10, "covered": 8, "percent": 80.0},
     "files": {"pkg/a.go": {...}}, "directories": {"pkg": {...}}}

A comparison (``covtool diff``) has ``"kind": "diff"``, ``totals`` with ``old``, ``new`` and
``delta``, and per file ``status``, ``old``, ``new`` and ``delta``. Percentages are
unrounded; ``null`` where there is nothing to cover. ``percent`` combines statements
and branches as coverage.py does; profiles with branches add ``branches``,
``branches_covered``, ``line_percent`` and ``branch_percent``. Keys are sorted; the document is
one line (the compact encoder is several times faster on 20,000 files).
"""

from __future__ import annotations

import json
from typing import Any

from covtool import Artifact, Diff, Profile, Report, ReportFormat, Totals, hookimpl, views

NAME = "json"
FORMAT_VERSION = 1


@hookimpl
def covtool_report_formats() -> list[ReportFormat]:
    """Offer the ``json`` format."""
    return [ReportFormat(NAME, "exact counts for machines, versioned", "coverage.json")]


@hookimpl
def covtool_render_report(report: Report, formats: list[str]) -> list[Artifact]:
    """Render the summary or the comparison as JSON."""
    if NAME not in formats:
        return []
    data = diff_data(report.diff, report.profile) if report.diff else summary_data(report.profile)
    return [Artifact(NAME, "coverage.json", json.dumps(data, sort_keys=True) + "\n")]


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
    """The comparison document: old, new and delta per file and overall."""
    branches = views.has_branches(head)

    def side(totals: Totals | None) -> dict[str, Any] | None:
        return None if totals is None else views.totals_dict(totals, branches)

    return {
        "format_version": FORMAT_VERSION,
        "kind": "diff",
        "totals": {"old": side(diff.old_totals), "new": side(diff.new_totals), "delta": diff.delta},
        "files": {
            f.path: {"status": f.status, "old": side(f.old), "new": side(f.new), "delta": f.delta}
            for f in diff.files
        },
    }
