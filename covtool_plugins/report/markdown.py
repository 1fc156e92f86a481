"""The ``markdown`` report: the summary or comparison as GitHub-flavoured markdown tables.

File names are escaped, so a name with ``|``, backticks or ``<script>`` shows as itself.
"""

from __future__ import annotations

from covtool import Artifact, FileDelta, Report, ReportFormat, hookimpl, views

NAME = "markdown"


@hookimpl
def covtool_report_formats() -> list[ReportFormat]:
    """Offer the ``markdown`` format."""
    return [ReportFormat(NAME, "markdown tables, for PR comments and job summaries", "coverage.md")]


@hookimpl
def covtool_render_report(report: Report, formats: list[str]) -> list[Artifact]:
    """Render the summary or the comparison as markdown."""
    if NAME not in formats:
        return []
    text = diff_markdown(report) if report.diff else summary_markdown(report)
    return [Artifact(NAME, "coverage.md", text)]


def _table(header: list[str], align: str, rows: list[list[str]]) -> list[str]:
    separator = " | ".join(["----", *[align] * (len(header) - 1)])
    return [" | ".join(header), separator, *(" | ".join(row) for row in rows)]


def summary_markdown(report: Report) -> str:
    """Total first, then directories and files."""
    profile = report.profile
    total = profile.totals()
    branches = views.has_branches(profile)
    header = list(views.summary_header(branches))
    sentence = f"{total.covered} of {total.statements} statements"
    if branches:
        sentence += f", {total.branches_covered} of {total.branches} branches"
    lines = [
        f"**Coverage: {views.format_percent(total)}** ({sentence} in {len(profile)} files)",
        "",
        *_table(["Directory", *header], "---:", _rows(views.directory_rows(profile), branches)),
        "",
        *_table(["File", *header], "---:", _rows(views.file_rows(profile), branches)),
    ]
    return "\n".join(lines) + "\n"


def _rows(rows: list[views.Row], branches: bool) -> list[list[str]]:
    return [[views.escape_markdown(r.name), *views.summary_cells(r.totals, branches)] for r in rows]


def diff_markdown(report: Report) -> str:
    """The original comparison table (changed, added and deleted files); with a change set,
    also patch coverage and the added lines that no test ran."""
    assert report.diff is not None
    d = report.diff
    moved = [f for f in d.files if f.status != "unchanged"]
    delta = "" if d.delta is None else f"{d.delta:+.1f}"
    old, new = views.format_side(d.old_totals), views.format_side(d.new_totals)
    lines = [f"**Coverage: {old} → {new}** ({delta or 'no change'})"]
    if d.previous is not None:
        since = views.escape_markdown(views.previous_summary(d.previous), inline=True)
        lines.append(f"\n**Since the last push:** {since}")
    if d.patch is not None:
        lines.append(
            f"\n**Patch coverage: {views.format_patch(d.patch)}** of added or modified lines"
        )
    lines += [
        "",
        *_table(
            ["File", "Old Coverage", "New Coverage", "Delta"],
            ":---:",
            [_diff_row(f) for f in moved],
        ),
    ]
    if not moved:
        lines.append("\nNo file's coverage changed.")
    uncovered = [f for f in d.files if f.uncovered] if d.patch is not None else []
    if uncovered:
        lines += ["", "Added or modified lines no test ran:", ""]
        lines += [
            f"- {views.escape_markdown(f.path)}: {views.format_ranges(f.uncovered, 10)}"
            for f in uncovered
        ]
    return "\n".join(lines) + "\n"


def _diff_row(f: FileDelta) -> list[str]:
    sides = [views.format_side(f.old), views.format_side(f.new)]
    return [views.escape_markdown(f.path), *sides, views.format_delta(f)]
