"""The shared view helpers: markdown escaping, code spans, the comment's marker, the
one-line status summary."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from covtool import ChangeSet, Diff, FileDelta, Totals, Verdict, views

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
