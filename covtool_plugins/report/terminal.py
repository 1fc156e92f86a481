"""The ``text`` report: a table per file and per directory, and the total.

On a terminal it is a rich table coloured by the threshold; anywhere else (a file, a pipe,
a CI log, ``NO_COLOR``) it is plain aligned text, stable enough to diff.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from covtool import (
    Artifact,
    Diff,
    FileDelta,
    Report,
    ReportFormat,
    Run,
    Totals,
    hookimpl,
    views,
)

NAME = "text"
_DIFF_HEADER = ("File", "Old", "New", "Delta")


@hookimpl
def covtool_report_formats() -> list[ReportFormat]:
    """Offer the ``text`` format."""
    return [
        ReportFormat(
            NAME, "a table for people: rich on a terminal, plain elsewhere", "coverage.txt"
        )
    ]


@hookimpl
def covtool_render_report(report: Report, formats: list[str], run: Run) -> list[Artifact]:
    """Render the summary (or, with a comparison, the diff) as text."""
    if NAME not in formats:
        return []
    sections = diff_sections(report) if report.diff else summary_sections(report)
    details = diff_details(report.diff) if report.diff else []
    render = _rich if run.color else _plain
    return [Artifact(NAME, "coverage.txt", render(sections, report.threshold, details))]


Section = tuple[tuple[str, ...], list[tuple[str, ...]], list[float | None]]


def summary_sections(report: Report) -> list[Section]:
    """File rows, directory rows and the total, each with the percentage used for colour."""
    branches = views.has_branches(report.profile)
    header = views.summary_header(branches)
    total = views.Row("TOTAL", report.profile.totals())
    sections = []
    for title, rows in (
        ("File", views.file_rows(report.profile)),
        ("Directory", views.directory_rows(report.profile)),
        ("", [total]),
    ):
        cells = [(r.name, *views.summary_cells(r.totals, branches)) for r in rows]
        sections.append(((title, *header), cells, [r.totals.percent for r in rows]))
    return sections


def diff_sections(report: Report) -> list[Section]:
    """The files of the comparison, then the totals.

    With a change set every file it touched is a row, with its patch coverage; without one
    only files whose coverage moved are (the others are counted in the total row).
    """
    assert report.diff is not None
    d = report.diff
    with_patch = d.changes is not None
    shown = [f for f in d.files if with_patch or f.status != "unchanged"]
    header = _DIFF_HEADER + (("Patch",) if with_patch else ())
    rows = [_diff_row(f, with_patch) for f in shown]
    delta = "" if d.delta is None else f"{d.delta:+.1f}"
    hidden = len(d.files) - len(shown)
    label = f"TOTAL ({hidden} files unchanged)" if hidden or not with_patch else "TOTAL"
    total: tuple[str, ...] = (label, _side(d.old_totals), _side(d.new_totals), delta)
    total += (views.format_patch(d.patch),) if with_patch else ()
    return [
        (header, rows, [f.new.percent if f.new else None for f in shown]),
        (("", *header[1:]), [total], [d.new_totals.percent]),
    ]


def _diff_row(f: FileDelta, with_patch: bool) -> tuple[str, ...]:
    name = f"{f.path} (from {f.old_path})" if f.old_path else f.path
    cells = (name, _side(f.old), _side(f.new), views.format_delta(f))
    return cells + ((views.format_patch(f.patch),) if with_patch else ())


def diff_details(diff: Diff) -> list[str]:
    """What the table cannot show: the change since the previous run, uncovered patch
    lines, lost lines, indirect changes, files left out, and notes."""
    lines: list[str] = []
    if diff.previous is not None:
        caveat = views.previous_caveat(diff.previous)
        lines += ["", f"Since the previous run: {views.previous_summary(diff.previous)}"]
        lines += [f"Note: {caveat}"] if caveat else []
    if diff.changes is not None:
        _listing(lines, "Added or modified lines not covered:", diff.files, "uncovered")
    _listing(lines, "Lost coverage on unchanged lines:", diff.files, "lost")
    if diff.indirect:
        lines += ["", "Coverage moved in files the change did not touch:"]
        for f in diff.indirect:
            moved = f"  {f.path}: {_side(f.old)} -> {_side(f.new)}"
            if f.lost:
                moved += f", lost {views.format_ranges(f.lost, 10)}"
            if f.gained:
                moved += f", gained {views.format_ranges(f.gained, 10)}"
            lines.append(moved)
    if diff.ignored:
        lines += ["", "Left out:"]
        lines += [f"  {path} ({reason})" for path, reason in diff.ignored.items()]
    if diff.notes:
        lines += ["", *(f"Note: {note}" for note in diff.notes)]
    return lines


def _listing(lines: list[str], title: str, files: Sequence[FileDelta], field: str) -> None:
    entries = [(f.path, getattr(f, field)) for f in files if getattr(f, field)]
    if entries:
        lines += ["", title]
        lines += [f"  {path}: {views.format_ranges(ranges, 10)}" for path, ranges in entries]


def _side(totals: Totals | None) -> str:
    return "-" if totals is None else views.format_percent(totals)


def _plain(sections: list[Section], threshold: float | None, details: list[str]) -> str:
    lines: list[str] = []
    for header, rows, _ in sections:
        if rows:
            if lines:
                lines.append("")
            lines.extend(views.align([header, *rows], [False] + [True] * (len(header) - 1)))
    return "\n".join(lines + details) + "\n"


def _rich(sections: list[Section], threshold: float | None, details: list[str]) -> str:
    buffer = io.StringIO()
    width = shutil.get_terminal_size((100, 24)).columns
    console = Console(file=buffer, force_terminal=True, width=width, color_system="standard")
    for header, rows, percents in sections:
        if not rows:
            continue
        table = Table(*header, header_style="bold")
        for column in table.columns[1:]:
            column.justify = "right"
        for row, percent in zip(rows, percents, strict=True):
            table.add_row(*row, style=_style(percent, threshold))
        console.print(table)
    for line in details:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return buffer.getvalue()


def _style(percent: float | None, threshold: float | None) -> str:
    if percent is None:
        return "dim"
    if threshold is None:
        return ""
    return "green" if percent >= threshold else "red"
