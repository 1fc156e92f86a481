"""The ``text`` report: a table per file and per directory, and the total.

On a terminal it is a rich table coloured by the threshold; anywhere else (a file, a pipe,
a CI log, ``NO_COLOR``) it is plain aligned text, stable enough to diff.
"""

from __future__ import annotations

import io
import shutil

from rich.console import Console
from rich.table import Table

from covtool import Artifact, Report, ReportFormat, Run, Totals, hookimpl, views

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
    text = _rich(sections, report.threshold) if run.color else _plain(sections)
    return [Artifact(NAME, "coverage.txt", text)]


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
    """Files whose coverage changed, were added or deleted; then the totals."""
    assert report.diff is not None
    moved = [f for f in report.diff.files if f.status != "unchanged"]
    rows: list[tuple[str, ...]] = [
        (f.path, _side(f.old), _side(f.new), views.format_delta(f)) for f in moved
    ]
    unchanged = len(report.diff.files) - len(moved)
    d = report.diff
    delta = "" if d.delta is None else f"{d.delta:+.1f}"
    total = (
        f"TOTAL ({unchanged} files unchanged)",
        _side(d.old_totals),
        _side(d.new_totals),
        delta,
    )
    return [
        (_DIFF_HEADER, rows, [f.new.percent if f.new else None for f in moved]),
        (("", *_DIFF_HEADER[1:]), [total], [d.new_totals.percent]),
    ]


def _side(totals: Totals | None) -> str:
    return "-" if totals is None else views.format_percent(totals)


def _plain(sections: list[Section]) -> str:
    lines: list[str] = []
    for header, rows, _ in sections:
        if rows:
            if lines:
                lines.append("")
            lines.extend(views.align([header, *rows], [False] + [True] * (len(header) - 1)))
    return "\n".join(lines) + "\n"


def _rich(sections: list[Section], threshold: float | None) -> str:
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
    return buffer.getvalue()


def _style(percent: float | None, threshold: float | None) -> str:
    if percent is None:
        return "dim"
    if threshold is None:
        return ""
    return "green" if percent >= threshold else "red"
