"""The ``comment`` report: the pull request comment, as markdown from a jinja2 template.

It keeps the original tool's comment — its header, its table (``File | Old Coverage | New
Coverage | Delta``, ``%.1f%%``, ``Does not exist`` for a new file, the delta without a sign
for gains) and its re-run line — and adds the overall and patch coverage, the lines no test
ran, the lines that lost coverage, the gate's verdicts and the baseline used; in a presubmit,
also the change since the pull request's previous build, overall and per file (a column
that appears only when there is such a build). Each file links
to its ``#fileN`` anchor in the build's line-by-line HTML when that has a URL
(``covtool.html_url``). A hidden marker line identifies the comment of this job, so a
publisher can find and update it.

Everything from the repository is escaped (file names, reasons, notes): the template's
``finalize`` escapes every value covtool did not mark as safe. The body stays within
GitHub's 65,536 characters: a long one folds its detail into ``<details>`` sections, and one
still too long keeps only the files with the lowest coverage, with a note saying so.

The template is ``templates/comment.md.j2``; the ``comment_template`` setting names a
repository's own (relative paths from the repository root), which may extend the builtin
one as ``covtool/comment.md.j2``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from covtool import (
    Artifact,
    Diff,
    FileDelta,
    Parser,
    PreviousDiff,
    Report,
    ReportFormat,
    Run,
    Totals,
    UsageError,
    Verdict,
    hookimpl,
    html_url,
    job_name,
    views,
)

NAME = "comment"
FILENAME = "bot-post"
#: GitHub refuses a comment longer than this (counted in UTF-16 code units, to be safe).
GITHUB_LIMIT = 65_536
#: Room left for a publisher that adds the marker to a template that lacks it.
BUDGET = GITHUB_LIMIT - 512
#: A body longer than this folds its detail into ``<details>`` sections.
COLLAPSE_AT = 10_000
#: Files listed at most in each list (uncovered lines, lost lines, files left out).
LIST_LIMIT = 30
#: Verdict details (files below a threshold) listed at most.
DETAIL_LIMIT = 20
BUILTIN_TEMPLATE = "covtool/comment.md.j2"
TEMPLATES = Path(__file__).parent / "templates"


@hookimpl
def covtool_addoption(parser: Parser) -> None:
    """Declare the template setting."""
    parser.addoption(
        "comment_template",
        type="path",
        default="",
        help="A jinja2 template for the PR comment, instead of covtool's (relative to the "
        "repository root; it may extend covtool/comment.md.j2).",
    )


@hookimpl
def covtool_report_formats() -> list[ReportFormat]:
    """Offer the ``comment`` format (written to ``bot-post``, as the original tool did)."""
    return [ReportFormat(NAME, "the pull request comment (markdown)", FILENAME)]


@hookimpl
def covtool_render_report(report: Report, formats: list[str], run: Run) -> list[Artifact]:
    """Render the PR comment of a comparison."""
    if NAME not in formats:
        return []
    if report.diff is None:
        raise UsageError("the comment format needs a comparison: use covtool diff or comment")
    return [Artifact(NAME, FILENAME, comment_body(report, run))]


# -- the body ------------------------------------------------------------------------------
def comment_body(report: Report, run: Run) -> str:
    """The comment's markdown: fully detailed if it fits, else folded, else shortened."""
    assert report.diff is not None
    template = load_template(run)
    context = CommentContext(report, report.diff, run)
    body = render(template, context.build(limit=None, collapse=False))
    if length(body) > COLLAPSE_AT:
        body = render(template, context.build(limit=None, collapse=True))
    if length(body) <= BUDGET:
        return body
    return _shortened(template, context)


def _shortened(template: Any, context: CommentContext) -> str:
    """The body with as many rows as fit the budget (found by bisection)."""
    fits, too_many = 0, context.row_count()
    while too_many - fits > 1:
        middle = (fits + too_many) // 2
        body = render(template, context.build(limit=middle, collapse=True))
        fits, too_many = (middle, too_many) if length(body) <= BUDGET else (fits, middle)
    return _cut(render(template, context.build(limit=fits, collapse=True)))


def _cut(body: str) -> str:
    """The last resort, for a body too long without any row (a template's own text, many
    notes): whole lines up to the budget, and a line saying the rest was cut."""
    if length(body) <= BUDGET:
        return body
    kept, used = [], 0
    for line in body.splitlines(keepends=True):
        used += length(line)
        if used > BUDGET - 200:
            break
        kept.append(line)
    return "".join(kept) + "\n… (the rest is cut to GitHub's comment size limit)\n"


def length(body: str) -> int:
    """The body's length as GitHub may count it: UTF-16 code units (an emoji is two)."""
    return len(body.encode("utf-16-le")) // 2


def render(template: Any, context: dict[str, Any]) -> str:
    """The template rendered, blank-line runs squeezed to one, ending in one newline."""
    from jinja2 import TemplateError

    try:
        text: str = template.render(context)
    except TemplateError as error:
        raise UsageError(f"comment template {template.name}: {error}") from None
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# -- the template --------------------------------------------------------------------------
def load_template(run: Run) -> Any:
    """The repository's template (``comment_template``) or covtool's."""
    configured: str = run.config.get("comment_template")
    if not configured:
        return _environment(None).get_template(BUILTIN_TEMPLATE)
    path = Path(configured)
    path = path if path.is_absolute() else run.repository / path
    if not path.is_file():
        raise UsageError(f"comment_template: no such file {path}")
    return _load(path)


def _load(path: Path) -> Any:
    from jinja2 import TemplateError, TemplateSyntaxError

    try:
        return _environment(str(path.parent)).get_template(path.name)
    except TemplateSyntaxError as error:
        raise UsageError(f"{path}:{error.lineno}: template syntax error: {error.message}") from None
    except TemplateError as error:
        raise UsageError(f"{path}: {error}") from None


@cache
def _environment(directory: str | None) -> Any:
    """A sandboxed jinja2 environment whose every output is markdown-escaped unless safe.

    Sandboxed because a repository's template is the pull request's to change.
    """
    from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    builtin = PrefixLoader({"covtool": FileSystemLoader(str(TEMPLATES))})
    loaders = [builtin] if directory is None else [FileSystemLoader(directory), builtin]
    environment = SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
        finalize=_escape,
        autoescape=False,
    )
    environment.filters["plural"] = plural
    environment.filters["number"] = "{:,}".format
    return environment


def plural(count: int, noun: str) -> str:
    """``1 file``, ``2,000 files``: a count with thousands separators and its noun."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _escape(value: Any) -> Any:
    """Markdown-escape a value, unless covtool marked it safe (``Markup``)."""
    from markupsafe import Markup

    if isinstance(value, Markup):
        return value
    return views.escape_markdown("" if value is None else str(value))


def safe(text: str) -> Any:
    """``text`` marked as covtool's own (numbers, links): shown as is."""
    from markupsafe import Markup

    return Markup(text)


# -- the context ---------------------------------------------------------------------------
class CommentContext:
    """Turns a report into the template's variables, with at most ``limit`` table rows.

    Everything that does not depend on the limit is worked out once, here: a long comment
    is rendered several times while the bisection looks for the rows that fit.
    """

    def __init__(self, report: Report, diff: Diff, run: Run) -> None:
        job, url = job_name(run), html_url(run)
        anchors = views.anchor_indices(diff)
        since = views.previous_deltas(diff)
        self.files = views.table_files(diff)
        self.row_of = {
            f.path: _row(f, url, anchors.get(f.path), since.get(f.path)) for f in self.files
        }
        # Lowest new coverage first: what a shortened table keeps.
        self.ranked = sorted(self.files, key=lambda f: (_ratio(f.new), f.path))
        self.lists = {
            "uncovered": _ranges(diff.files, "uncovered"),
            "lost": _ranges(diff.files, "lost"),
            "indirect": [_plain_row(f) for f in diff.indirect],
            "ignored": _ignored(diff.ignored),
        }
        self.fixed = {
            "marker": safe(views.comment_marker(job)),
            "job": job,
            "rerun": safe(views.code_span(f"/test {job}")),
            "nothing": views.nothing_to_report(diff, report.verdicts),
            "commit": _short(diff.changes.head if diff.changes else None),
            "total_rows": len(self.files),
            "html_url": safe(_url(url)) if url else None,
            "overall": _overall(diff),
            "patch": _patch(diff.patch),
            "patch_known": diff.patch is not None,
            "indirect_total": len(diff.indirect),
            "ignored_total": len(diff.ignored),
            "notes": list(diff.notes),
            "gate": _gate(report.verdicts),
            "baseline": _baseline(diff),
            "previous": _previous(diff.previous),
        }

    def row_count(self) -> int:
        """How many files the full table has."""
        return len(self.files)

    def build(self, limit: int | None, collapse: bool) -> dict[str, Any]:
        """The variables for one rendering: the ``limit`` rows with the lowest coverage (all
        when None), back in path order, and lists cut to match."""
        kept = self.files if limit is None else sorted(self.ranked[:limit], key=lambda f: f.path)
        most = LIST_LIMIT if limit is None else min(LIST_LIMIT, max(limit, 1))
        variables = {
            **self.fixed,
            "collapse": collapse,
            "rows": [self.row_of[f.path] for f in kept],
            "dropped": len(self.files) - len(kept),
        }
        for name, items in self.lists.items():
            variables |= _listed(name, items, most)
        return variables


def _row(
    delta: FileDelta, url: str | None, anchor: int | None, since: FileDelta | None
) -> dict[str, Any]:
    """A table row that links to the file's anchor in the HTML, when it has one, with its
    change since the previous build."""
    row = _plain_row(delta)
    if url and anchor is not None:
        row["link"] = safe(f"{_url(url)}#file{anchor}")
    row["since"] = safe(views.format_delta(since) if since else "")
    return row


def _ratio(totals: Totals | None) -> float:
    ratio = totals.ratio if totals is not None else None
    return 2.0 if ratio is None else float(ratio)


def _plain_row(delta: FileDelta) -> dict[str, Any]:
    """A table row as the original tool wrote it."""
    return {
        "path": delta.path,
        "old_path": delta.old_path,
        "old": safe(views.format_side(delta.old)),
        "new": safe(views.format_side(delta.new)),
        "delta": safe("" if delta.delta is None else f"{delta.delta:.1f}"),
        "link": None,
    }


def _overall(diff: Diff) -> dict[str, Any]:
    """The totals before and after; ``delta`` None when it rounds to no change."""
    delta = diff.delta
    shown = None if delta is None else f"{delta:+.1f}"
    return {
        "old": safe(views.format_percent(diff.old_totals)),
        "new": safe(views.format_percent(diff.new_totals)),
        "delta": safe(shown) if shown not in (None, "+0.0", "-0.0") else None,
    }


def _patch(patch: Totals | None) -> dict[str, Any] | None:
    if patch is None or patch.statements == 0:
        return None
    return {
        "percent": safe(views.format_percent(patch)),
        "covered": patch.covered,
        "statements": patch.statements,
    }


def _ranges(files: Sequence[FileDelta], which: str) -> list[dict[str, Any]]:
    return [
        {"path": f.path, "ranges": safe(views.format_ranges(getattr(f, which), 10))}
        for f in files
        if getattr(f, which)
    ]


def _ignored(ignored: dict[str, str]) -> list[dict[str, Any]]:
    return [{"path": path, "reason": reason} for path, reason in sorted(ignored.items())]


def _listed(name: str, items: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    """``name``: at most ``limit`` items; ``name_more``: how many were left out."""
    return {name: items[:limit], f"{name}_more": max(len(items) - limit, 0)}


def _gate(verdicts: Sequence[Verdict] | None) -> dict[str, Any] | None:
    if not verdicts:
        return None
    blocking = any(v.blocking for v in verdicts)
    failing = any(not v.passed for v in verdicts)
    outcome = "failed" if blocking else "would fail (informational)" if failing else "passed"
    return {
        "outcome": safe(outcome),
        "passed": not blocking,
        "verdicts": [
            {
                "icon": safe(":white_check_mark:" if v.passed else ":x:"),
                "rule": v.rule,
                "message": v.message,
                "details": list(v.details[:DETAIL_LIMIT]),
                "more": max(len(v.details) - DETAIL_LIMIT, 0),
            }
            for v in verdicts
        ],
    }


def _baseline(diff: Diff) -> dict[str, Any] | None:
    baseline = diff.baseline
    if baseline is None:
        return None
    return {
        "build": baseline.build_id,
        "commit": _short(baseline.commit),
        "behind": baseline.commits_behind,
        "location": baseline.location,
    }


def _previous(previous: PreviousDiff | None) -> dict[str, Any] | None:
    """The line on the previous build, and whether the table has its column (only when
    there is a build to compare with)."""
    if previous is None:
        return None
    caveat = views.previous_caveat(previous)
    return {
        # Both follow other text on their line: escaped, but never taken for a list item.
        "text": safe(views.escape_markdown(views.previous_summary(previous), inline=True)),
        "caveat": safe(views.escape_markdown(caveat, inline=True)) if caveat else None,
        "column": previous.build is not None,
    }


def _short(commit: str | None) -> str | None:
    return commit[:7] if commit else None


def _url(url: str) -> str:
    """``url`` with anything that could end a markdown link target percent-encoded."""
    return quote(url, safe=":/?#@!$&'*+,;=%~")
