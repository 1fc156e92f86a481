"""Plain view data for renderers: rows, formatted percentages, aligned text, escaping.

Renderers turn a ``Report`` into rows here, then into text, JSON or markdown; they share the
rounding rule so that every output shows the same number for the same ratio.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from urllib.parse import quote

from covtool.diff import Diff, FileDelta, PreviousDiff
from covtool.model import Profile, Totals
from covtool.records import Verdict


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


def exact_percent(value: float) -> Fraction:
    """A percentage setting as the decimal its user wrote: ``69.99`` is 6999/100 exactly."""
    return Fraction(repr(value))


def below(ratio: Fraction, threshold: float) -> bool:
    """Whether ``ratio`` is below ``threshold`` percent, compared exactly (70 % of 10
    statements is not below 70)."""
    return ratio * 100 < exact_percent(threshold)


def format_against(ratio: Fraction, threshold: float) -> str:
    """``ratio`` as a percentage with a ``%`` sign and enough decimals to show which side of
    ``threshold`` it is on: 69.96 % against 70 reads ``69.96%``, not ``70.0%``."""
    limit = exact_percent(threshold)
    text = format_ratio(ratio)
    for digits in range(2, 5):
        if (Fraction(text) < limit) == (ratio * 100 < limit):
            break
        text = format_ratio(ratio, digits)
    return text + "%"


def format_percent(totals: Totals | None, digits: int = 1) -> str:
    """``format_ratio`` of a file's or total's coverage, with a ``%`` sign."""
    if totals is None or totals.ratio is None:
        return "N/A"
    return format_ratio(totals.ratio, digits) + "%"


def format_side(totals: Totals | None) -> str:
    """One side of a comparison as the original tool's table shows it: the percentage, or
    ``Does not exist`` for a file that side does not have."""
    return "Does not exist" if totals is None else format_percent(totals)


def format_delta(delta: FileDelta) -> str:
    """A file's change in points with its sign (``+4.3``, ``-0.5``), or its status word."""
    if delta.status in ("added", "deleted"):
        return delta.status
    if delta.delta is None:
        return ""
    return f"{delta.delta:+.1f}"


def format_names(names: Sequence[str], limit: int = 0) -> str:
    """Items as one line of text: ``a, b``; with ``limit``, at most that many and a count of
    the rest (``a, b and 3 more``)."""
    shown = names[:limit] if limit else names
    rest = len(names) - len(shown)
    text = ", ".join(shown)
    return f"{text} and {rest} more" if rest else text


def format_ranges(ranges: Sequence[tuple[int, int]], limit: int = 0) -> str:
    """Line runs as text: ``4-6, 9``; with ``limit``, at most that many runs and a count of
    the rest (``4-6, 9 and 3 more``)."""
    return format_names([str(a) if a == b else f"{a}-{b}" for a, b in ranges], limit)


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


# Characters that mean something anywhere in a line of GitHub markdown. ``(``, ``!`` and
# ``{`` need no escape once ``[`` has one (no link or image can start).
_MARKDOWN_SPECIAL = str.maketrans(
    {c: "\\" + c for c in "\\`*_[]|~"} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
)
# What starts a heading, a list or a rule when it opens a line or a list item.
_BLOCK_START = re.compile(r"^([#+=-]|\d+(?=[.)]))")
_BACKTICK_RUNS = re.compile(r"`+")


def escape_markdown(text: str, inline: bool = False) -> str:
    """Text that shows as itself in GitHub markdown: in a table cell, a list item or a
    paragraph; ``inline`` text follows other text on its line, so it starts no block."""
    text = " ".join(text.splitlines()).translate(_MARKDOWN_SPECIAL)
    if inline:
        return text
    return _BLOCK_START.sub(lambda m: "\\" + m[0] if not m[0].isdigit() else m[0] + "\\", text)


def code_span(text: str) -> str:
    """``text`` as a markdown code span that shows it verbatim, backticks included.

    Backslashes do not escape inside a code span, so the fence is made longer than any run
    of backticks in the text instead, with a space inside when the text touches a backtick.
    """
    text = " ".join(text.splitlines())
    longest = max((len(run) for run in _BACKTICK_RUNS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# -- the comparison with the previous build ------------------------------------------------------
def previous_summary(previous: PreviousDiff) -> str:
    """The overall change since the pull request's previous build as one line of plain text
    (``+1.8% since abc1234 (build 2001)``), or why it is not known (``first run for this
    PR``)."""
    found = previous.found
    if found.build is None:
        return found.reason if found.first else f"not known: {found.reason}"
    delta = previous.delta
    figure = "no coverage to compare" if delta is None else f"{delta:+.1f}%"
    if figure in ("+0.0%", "-0.0%"):
        figure = "no change"
    build = found.build.build_id
    since = f"{previous.commit[:7]} (build {build})" if previous.commit else f"build {build}"
    return f"{figure} since {since}"


def previous_caveat(previous: PreviousDiff) -> str | None:
    """What a reader must know about the comparison with the previous build: that its
    commit is no longer in this one's history (a force-push), or that git does not have it
    and only files' totals were compared; None when neither."""
    if previous.build is None:
        return None
    if not previous.commit:
        return (
            "the previous build does not say its commit, so files are compared by their totals only"
        )
    commit = previous.commit[:7]
    totals_only = f"git does not have {commit}, so files are compared by their totals only"
    if previous.ancestor is False:
        rewritten = (
            f"{commit} is not an ancestor of this commit: the branch's history was "
            "rewritten (a force-push) since that build"
        )
        return rewritten if previous.mapped else f"{rewritten}; {totals_only}"
    return None if previous.mapped else totals_only


def previous_deltas(diff: Diff) -> dict[str, FileDelta]:
    """Each file's comparison with the previous build, by path; empty without one."""
    previous = diff.previous
    return {} if previous is None else {f.path: f for f in previous.files}


# -- the pull request comment and commit status --------------------------------------------------
def comment_marker(job: str) -> str:
    """The hidden line that identifies covtool's PR comment for ``job``.

    An HTML comment (GitHub does not show it); characters outside ``[A-Za-z0-9._-]`` in the
    job name are percent-encoded, so no name can end the comment early.
    """
    return f"<!-- covtool:comment job={quote(job, safe='')} -->"


def anchor_indices(diff: Diff) -> dict[str, int]:
    """The ``#fileN`` anchor of each file in the line-by-line HTML of a comparison.

    The HTML shows the compared files the head has, in path order (the original tool's
    contract); the PR comment links each of its rows to the same number.
    """
    present = [f.path for f in diff.files if f.new is not None]
    return {path: index for index, path in enumerate(present)}


def table_files(diff: Diff) -> list[FileDelta]:
    """The rows of the comparison table: added files and files whose coverage moved.

    Deleted files and files whose coverage did not move are left out, as the original tool
    left them out.
    """
    return [f for f in diff.files if f.status in ("added", "changed")]


def nothing_to_report(diff: Diff, verdicts: Sequence[Verdict] | None) -> bool:
    """Whether a comparison has nothing for a PR author to read: no table row, no changed
    executable line, no lost coverage, and no verdict that did not pass."""
    patch = diff.patch
    return not (
        table_files(diff)
        or (patch is not None and patch.statements)
        or any(f.lost for f in diff.files)
        or any(not v.passed for v in verdicts or ())
    )


def status_description(diff: Diff, verdicts: Sequence[Verdict] | None, limit: int = 140) -> str:
    """A one-line summary for a commit status: the total and its change, the patch
    coverage, and the gate's outcome; at most ``limit`` characters."""
    total = format_percent(diff.new_totals)
    text = f"coverage {total}" + (f" ({diff.delta:+.1f})" if diff.delta is not None else "")
    if diff.patch is not None and diff.patch.statements:
        text += f", patch {format_patch(diff.patch)}"
    failed = [v.rule for v in verdicts or () if not v.passed]
    if failed and any(v.blocking for v in verdicts or ()):
        text += f"; gate failed: {', '.join(failed)}"
    elif failed:
        text += f"; would fail (informational): {', '.join(failed)}"
    elif verdicts:
        text += "; gate passed"
    if nothing_to_report(diff, verdicts):
        text = f"no covered file changed; {text}"
    return text if len(text) <= limit else text[: limit - 1] + "…"
