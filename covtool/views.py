"""Plain view data for renderers: rows, formatted percentages, aligned text, escaping.

Renderers turn a ``Report`` into rows here, then into text, JSON or markdown; they share the
rounding rule so that every output shows the same number for the same ratio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from covtool.diff import FileDelta
from covtool.model import Profile, Totals


@dataclass(frozen=True)
class Row:
    """A named line of a summary table: a file, a directory or the total."""

    name: str
    totals: Totals


def file_rows(profile: Profile) -> list[Row]:
    """One row per file, sorted by path."""
    return [Row(p, t) for p, t in zip(profile.paths, profile.file_totals(), strict=True)]


def directory_rows(profile: Profile) -> list[Row]:
    """One row per directory (its own files only), sorted."""
    return [Row(d, t) for d, t in profile.directory_totals().items()]


def format_ratio(ratio: Fraction | None, digits: int = 1) -> str:
    """A ratio as a percentage with ``digits`` decimals, ``N/A`` when there is none.

    Like coverage.py, it shows 100 only when everything is covered and 0 only when nothing
    is: 99.96 % reads 99.9, not 100.0, so a display never contradicts a threshold check.
    """
    if ratio is None:
        return "N/A"
    text = f"{float(ratio * 100):.{digits}f}"
    step = 10.0**-digits
    if text == f"{100:.{digits}f}" and ratio < 1:
        text = f"{100 - step:.{digits}f}"
    elif text == f"{0:.{digits}f}" and ratio > 0:
        text = f"{step:.{digits}f}"
    return text


def format_percent(totals: Totals | None, digits: int = 1) -> str:
    """``format_ratio`` of a file's or total's coverage, with a ``%`` sign."""
    if totals is None or totals.ratio is None:
        return "N/A"
    return format_ratio(totals.ratio, digits) + "%"


def format_delta(delta: FileDelta) -> str:
    """A file's change in points with its sign (``+4.3``, ``-0.5``), or its status word."""
    if delta.status in ("added", "deleted"):
        return delta.status
    if delta.delta is None:
        return ""
    return f"{delta.delta:+.1f}"


def format_ranges(ranges: Sequence[tuple[int, int]], limit: int = 0) -> str:
    """Line runs as text: ``4-6, 9``; with ``limit``, at most that many runs and a count of
    the rest (``4-6, 9 and 3 more``)."""
    shown = ranges[:limit] if limit else ranges
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in shown)
    rest = len(ranges) - len(shown)
    return f"{text} and {rest} more" if rest else text


def format_patch(patch: Totals | None) -> str:
    """Patch coverage as ``covered/lines (percent)``; ``-`` when unknown or empty."""
    if patch is None or patch.statements == 0:
        return "-"
    return f"{patch.covered}/{patch.statements} ({format_percent(patch)})"


def has_branches(profile: Profile) -> bool:
    """Whether any region of the profile counts branches (reports then show them)."""
    return bool(profile.regions.branches.any())


def summary_header(with_branches: bool) -> tuple[str, ...]:
    """Column titles of a summary table."""
    if with_branches:
        return ("Statements", "Covered", "Branches", "Covered branches", "Coverage")
    return ("Statements", "Covered", "Coverage")


def summary_cells(totals: Totals, with_branches: bool) -> tuple[str, ...]:
    """The cells of one summary row after its name; ``Coverage`` is the combined figure."""
    counts: tuple[str, ...] = (str(totals.statements), str(totals.covered))
    if with_branches:
        counts += (str(totals.branches), str(totals.branches_covered))
    return (*counts, format_percent(totals))


def totals_dict(totals: Totals, with_branches: bool) -> dict[str, Any]:
    """Totals as JSON-ready data: exact counts, and the unrounded percentages.

    ``percent`` is the combined figure (statements and branches together, as coverage.py
    reports it); with branches, ``line_percent`` and ``branch_percent`` give each alone.
    """
    data: dict[str, Any] = {
        "statements": totals.statements,
        "covered": totals.covered,
        "percent": totals.percent,
    }
    if with_branches:
        data["branches"] = totals.branches
        data["branches_covered"] = totals.branches_covered
        data["line_percent"] = totals.line_percent
        data["branch_percent"] = totals.branch_percent
    return data


def align(rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    """Rows of cells as lines of text, each column padded to its widest cell."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(right))]
    return [
        "  ".join(
            cell.rjust(width) if is_right else cell.ljust(width)
            for cell, width, is_right in zip(row, widths, right, strict=True)
        ).rstrip()
        for row in rows
    ]


_MARKDOWN_SPECIAL = str.maketrans(
    {c: "\\" + c for c in "\\`*_{}[]()#+!|~"} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
)


def escape_markdown(text: str) -> str:
    """Text that shows as itself in GitHub markdown, inside a table cell too."""
    return text.translate(_MARKDOWN_SPECIAL).replace("\n", " ")
