"""The shared view helpers: markdown escaping, code spans, the comment's marker, the
one-line status summary."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from covtool import (
    Baseline,
    ChangeSet,
    Diff,
    FileDelta,
    PreviousBuild,
    PreviousDiff,
    Profile,
    Totals,
    Verdict,
    views,
)

RENDER = MarkdownIt("commonmark").enable("table")


@pytest.mark.parametrize(
    "text",
    [
        "# heading",
        "- item",
        "+ item",
        "12. item",
        "3) item",
        "**bold** _em_ ~~gone~~",
        "[x](http://evil.example)",
        "![img](http://evil.example/i.png)",
        "<b>tag</b> & <script>x</script>",
        "a|b",
        "line\nbreak",
        "back\\slash\\",
        "`code`",
    ],
)
def test_escaped_text_renders_as_itself_in_a_list_item(text: str) -> None:
    html = RENDER.render(f"- {views.escape_markdown(text)}\n")
    expected = " ".join(text.splitlines())
    expected = expected.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert html == f"<ul>\n<li>{expected}</li>\n</ul>\n"


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("/test pull-x", "`/test pull-x`"),
        ("a`b", "``a`b``"),
        ("``x", "``` ``x ```"),
        ("two\nlines", "`two lines`"),
    ],
)
def test_code_span_shows_its_text_verbatim(text: str, span: str) -> None:
    assert views.code_span(text) == span
    shown = " ".join(text.splitlines())
    assert RENDER.render(span) == f"<p><code>{shown}</code></p>\n"


def test_comment_marker_cannot_be_ended_early() -> None:
    assert views.comment_marker("pull-k8s_x.y") == "<!-- covtool:comment job=pull-k8s_x.y -->"
    odd = views.comment_marker("a --> <b> c")
    assert odd == "<!-- covtool:comment job=a%20--%3E%20%3Cb%3E%20c -->"
    assert odd.count("-->") == 1


def diff_with(files: tuple[FileDelta, ...], changes: bool = True) -> Diff:
    change_set = ChangeSet((), "git") if changes else None
    return Diff(files, Totals(10, 8), Totals(10, 7), changes=change_set)


def test_status_description() -> None:
    moved = FileDelta("a.go", Totals(10, 8), Totals(10, 7), "modified", patch=Totals(4, 3))
    failed = Verdict("file-threshold", False, "x")
    told = Verdict("max-drop", False, "y", informational=True)
    passed = Verdict("overall-threshold", True, "z")
    diff = diff_with((moved,))
    assert views.status_description(diff, None) == "coverage 70.0% (-10.0), patch 3/4 (75.0%)"
    assert views.status_description(diff, [passed]).endswith("; gate passed")
    assert views.status_description(diff, [failed, told]).endswith(
        "; gate failed: file-threshold, max-drop"
    )
    assert views.status_description(diff, [told]).endswith("; would fail (informational): max-drop")
    quiet = diff_with((FileDelta("a.go", Totals(10, 7), Totals(10, 7), "modified"),))
    assert views.status_description(quiet, [passed]) == (
        "no covered file changed; coverage 70.0% (-10.0); gate passed"
    )
    long = views.status_description(diff, [Verdict("r" * 200, False, "x")])
    assert len(long) == 140 and long.endswith("…")


def test_nothing_to_report() -> None:
    quiet = FileDelta("a.go", Totals(10, 7), Totals(10, 7), "modified")
    assert views.nothing_to_report(diff_with((quiet,)), [Verdict("r", True, "ok")])
    assert not views.nothing_to_report(diff_with((quiet,)), [Verdict("r", False, "no")])
    lost = FileDelta("a.go", Totals(10, 7), Totals(10, 7), "modified", lost=((3, 3),))
    assert not views.nothing_to_report(diff_with((lost,)), None)
    patched = FileDelta("a.go", Totals(10, 7), Totals(10, 7), "modified", patch=Totals(1, 1))
    assert not views.nothing_to_report(diff_with((patched,)), None)
    added = FileDelta("b.go", None, Totals(1, 1), "added")
    assert not views.nothing_to_report(diff_with((added,)), None)


def _previous(
    commit: str | None,
    old: Totals | None,
    new: Totals | None,
    ancestor: bool | None = True,
    mapped: bool = True,
) -> PreviousDiff:
    """A comparison with a previous build 2001 of ``commit``."""
    profile = Profile.empty()  # the profile plays no part in the words
    build = Baseline(profile, "2001", commit, "gs://b/pr-logs/pull/o_r/7/job/2001/")
    return PreviousDiff(PreviousBuild(build), (), old, new, ancestor, mapped)


def test_the_line_on_the_previous_build() -> None:
    sha = "0123456789abcdef"
    moved = _previous(sha, Totals(9, 6), Totals(10, 8))  # 66.67 % -> 80 %
    assert views.previous_summary(moved) == "+13.3% since 0123456 (build 2001)"
    assert views.previous_caveat(moved) is None
    same = _previous(sha, Totals(4, 2), Totals(6, 3))
    assert views.previous_summary(same) == "no change since 0123456 (build 2001)"
    empty = _previous(None, Totals(0, 0), Totals(3, 1), ancestor=None, mapped=False)
    assert views.previous_summary(empty) == "no coverage to compare since build 2001"
    assert views.previous_caveat(empty) == (
        "the previous build does not say its commit, so files are compared by their totals only"
    )
    pruned = _previous(sha, Totals(1, 1), Totals(2, 1), ancestor=False, mapped=False)
    assert views.previous_caveat(pruned) == (
        "0123456 is not an ancestor of this commit: the branch's history was rewritten (a "
        "force-push) since that build; git does not have 0123456, so files are compared by "
        "their totals only"
    )
    shallow = _previous(sha, Totals(1, 1), Totals(2, 1), ancestor=None, mapped=False)
    assert views.previous_caveat(shallow) == (
        "git does not have 0123456, so files are compared by their totals only"
    )
    first = PreviousDiff(PreviousBuild(None, "first run for this PR", first=True))
    assert views.previous_summary(first) == "first run for this PR"
    unhealthy = PreviousDiff(PreviousBuild(None, "no healthy earlier build (2001: …)"))
    assert views.previous_summary(unhealthy) == "not known: no healthy earlier build (2001: …)"
    assert views.previous_caveat(unhealthy) is None
