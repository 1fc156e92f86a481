"""The line-by-line HTML reports: the single page of a presubmit and the full site.

Two formats:

``html-page``
    One page (``line-cov.html``, the ``html_name`` setting) with a section per reported
    file — with a comparison, the compared files the head has, as ``#file0``, ``#file1``, …
    in the order the PR comment links them (the original tool's contract); without one,
    every file. Each section also has the file's path as an ``id``.
``html``
    A directory (``covtool-html``, or ``-o DIR``): ``index.html`` with the sortable,
    foldable directory tree, and a page per file. Pages are written one at a time and
    ``index.html`` last, so a report of 20,000 files never sits in memory and a failed run
    never leaves an index pointing at pages that are not there.

Every line shows its number, hit count and state (covered, not covered, partly covered
branches) and, in a comparison, its differential category (new uncovered lines and lost
coverage stand out). A filter shows only uncovered or changed lines; ``j``/``k`` move
between uncovered lines. Pages are self-contained — inline style and script, system fonts,
no request leaves the page — so they work from ``file://`` and from a bucket.

Sources are read from the repository checkout, and only from inside it: see
``htmlsource``. Templates are jinja2 with autoescaping: source text is always text.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from covtool import Artifact, Report, ReportFormat, Run, __version__, hookimpl
from covtool_plugins.report.htmlsource import OUTSIDE, SourceTree, refusal_warning
from covtool_plugins.report.htmltree import tree_rows
from covtool_plugins.report.htmlview import FileView, file_views, page_paths, summary

SITE = "html"
PAGE = "html-page"
SITE_DIRECTORY = "covtool-html"
TEMPLATES = Path(__file__).parent / "templates" / "html"
#: Template pieces (a line row each, mostly) joined into one write.
PIECES_PER_WRITE = 256


@hookimpl
def covtool_report_formats() -> list[ReportFormat]:
    """Offer the site (a directory) and the single page."""
    return [
        ReportFormat(
            SITE,
            "line-by-line HTML: an index with the directory tree and a page per file",
            SITE_DIRECTORY,
            directory=True,
        ),
        ReportFormat(PAGE, "line-by-line HTML of the reported files on one page", "line-cov.html"),
    ]


@hookimpl
def covtool_render_report(report: Report, formats: list[str], run: Run) -> list[Artifact]:
    """Render the single page and the site, as requested."""
    wanted = [name for name in (PAGE, SITE) if name in formats]
    if not wanted:
        return []
    renderer = Renderer(report, run)
    artifacts = []
    if PAGE in wanted:
        artifacts.append(Artifact(PAGE, run.config.get("html_name"), renderer.page()))
    if SITE in wanted:
        artifacts += renderer.site()
    renderer.warn_refused(run)
    return artifacts


class Renderer:
    """Renders one report's pages; the lines of a file are read when its page is written."""

    def __init__(self, report: Report, run: Run) -> None:
        self.report = report
        self.tree = SourceTree(run.repository)
        self.refused: set[str] = set()
        now = datetime.datetime.now(datetime.UTC)
        self.common = {
            "summary": summary(report, now.strftime("%Y-%m-%d %H:%M UTC")),
            "unit": "lines" if report.profile.unit == "line" else "statements",
            "compared": report.diff is not None,
            "version": __version__,
            "css": _asset("covtool.css"),
            "js": _asset("covtool.js"),
        }

    def views(self, paths: list[str]) -> list[FileView]:
        """File views of ``paths``, noting the refused ones for the warning."""
        found = file_views(self.report, paths, self.tree)
        self.refused |= {f.path for f in found if f.located.reason == OUTSIDE}
        return found

    def page(self) -> Callable[[], Iterable[str]]:
        """The single page, rendered when written."""
        files = self.views(page_paths(self.report))
        changes = self.report.diff is not None and self.report.diff.changes is not None
        return _streamed("page.html.j2", {**self.common, "files": files, "changes": changes})

    def site(self) -> list[Artifact]:
        """A page per file, then the index."""
        profile = self.report.profile
        files = self.views(list(profile.paths))
        artifacts = [
            Artifact(
                SITE,
                view.page,
                _streamed(
                    "file.html.j2", {**self.common, "file": view, "changes": view.has_changes}
                ),
            )
            for view in files
        ]
        deltas = {v.path: v.comparison["delta"] for v in files if v.comparison}
        rows = tree_rows(profile.paths, [v.totals for v in files], deltas)
        index = _streamed("index.html.j2", {**self.common, "rows": rows})
        return [*artifacts, Artifact(SITE, "index.html", index)]

    def warn_refused(self, run: Run) -> None:
        """One warning naming the files whose source was refused."""
        if self.refused:
            run.warn(refusal_warning(sorted(self.refused)))


def _streamed(name: str, context: dict[str, Any]) -> Callable[[], Iterator[str]]:
    """A function rendering template ``name`` piece by piece (joined into fewer writes)."""

    def chunks() -> Iterator[str]:
        pieces = _environment().get_template(name).generate(context)
        while batch := "".join(itertools.islice(pieces, PIECES_PER_WRITE)):
            yield batch

    return chunks


@cache
def _environment() -> Any:
    """The jinja2 environment: autoescaped HTML, covtool's templates."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        auto_reload=False,  # covtool's own templates do not change while it runs
    )
    environment.filters["number"] = "{:,}".format
    return environment


@cache
def _asset(name: str) -> Any:
    """covtool's own stylesheet or script, marked safe to embed as it is."""
    from markupsafe import Markup

    return Markup((TEMPLATES / name).read_text(encoding="utf-8"))
