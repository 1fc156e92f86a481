"""The full HTML report (index.html and a page per file) in a real browser: the tree's
roll-ups, sorting and folding, links to the file pages, and hostile source shown as text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser import page_url, save_screenshot, visit

from pr_scenarios import lcov_beside
from support import Covtool

#: A small tree: pkg/a and pkg/ab are different directories; cmd/tool/main.go sits in a
#: chain of single directories. Hits per line; statements = lines listed.
TREE = {
    "pkg/a/x.go": {1: 1, 2: 1, 3: 0, 4: 0},  # 2 of 4
    "pkg/a/y.go": {1: 1, 2: 1, 3: 1, 4: 1, 5: 0},  # 4 of 5
    "pkg/ab/z.go": {1: 0, 2: 0, 3: 0, 4: 1},  # 1 of 4
    "cmd/tool/main.go": {1: 1, 2: 1},  # 2 of 2
    "top.go": {1: 1, 2: 0, 3: 0},  # 1 of 3
}


@pytest.fixture
def site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The site of the TREE profile (sources written), made by ``covtool report``."""
    for path, hits in TREE.items():
        source = tmp_path / path
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text("".join(f"line {n} of {path}\n" for n in range(1, max(hits) + 3)))
    profile = lcov_beside(tmp_path, TREE)
    result = Covtool(tmp_path, capsys)("report", profile, "--format", "html", "-o", "site")
    assert result.exit_code == 0, result.stderr
    assert f"wrote site/ ({len(TREE) + 1} files)" in result.stderr
    return tmp_path / "site"


def rows(opened: Any) -> list[tuple[str, str, str, bool]]:
    """The index's rows in page order: name, statements, coverage text, shown."""
    result: list[tuple[str, str, str, bool]] = opened.evaluate(
        """() => Array.from(document.querySelectorAll('#tree tbody tr')).map(r => [
            r.cells[0].textContent.trim().replace(/^\\u25BE/, ''),
            r.cells[1].textContent.trim(),
            r.cells[4].textContent.trim(),
            !r.hidden])"""
    )
    return [tuple(row) for row in result]  # type: ignore[misc]


def test_the_index_shows_the_tree_with_subtree_totals(site: Path, browser: Any) -> None:
    opened = visit(browser, (site / "index.html").as_uri())
    assert [(name, statements, percent) for name, statements, percent, _ in rows(opened)] == [
        ("cmd/tool/", "2", "100.0%"),
        ("main.go", "2", "100.0%"),
        ("pkg/", "13", "53.8%"),  # 7 of 13: a/ and ab/ together
        ("a/", "9", "66.7%"),  # 6 of 9: never ab/'s lines
        ("x.go", "4", "50.0%"),
        ("y.go", "5", "80.0%"),
        ("ab/", "4", "25.0%"),
        ("z.go", "4", "25.0%"),
        ("top.go", "3", "33.3%"),
    ]
    assert opened.page.inner_text("header.summary").count("55.6%") == 1  # 10 of 18
    assert opened.errors == []
    assert opened.requests == [page_url(opened.url)]
    save_screenshot(opened, "index")


def test_sorting_orders_each_directory_and_keeps_subtrees(site: Path, browser: Any) -> None:
    opened = visit(browser, (site / "index.html").as_uri())
    opened.page.click("#tree th:nth-child(5) button")  # coverage, ascending
    assert [row[0] for row in rows(opened)] == [
        "top.go",  # 33.3
        "pkg/",  # 53.8
        "ab/",
        "z.go",
        "a/",
        "x.go",  # 50.0
        "y.go",  # 80.0
        "cmd/tool/",  # 100
        "main.go",
    ]
    assert opened.page.get_attribute("#tree th:nth-child(5)", "aria-sort") == "ascending"
    opened.page.click("#tree th:nth-child(5) button")  # descending
    assert [row[0] for row in rows(opened)][:4] == ["cmd/tool/", "main.go", "pkg/", "a/"]
    opened.page.click("#tree th:nth-child(2) button")  # statements, ascending
    assert [row[0] for row in rows(opened)][:2] == ["cmd/tool/", "main.go"]
    assert opened.errors == []


def test_folding_a_directory_hides_its_subtree(site: Path, browser: Any) -> None:
    opened = visit(browser, (site / "index.html").as_uri())
    opened.page.click("#tree tr.d:has-text('pkg/') button.fold")
    shown = [name for name, _, _, visible in rows(opened) if visible]
    assert shown == ["cmd/tool/", "main.go", "pkg/", "top.go"]
    opened.page.click("#tree tr.d:has-text('pkg/') button.fold")
    assert all(visible for *_, visible in rows(opened))
    assert opened.errors == []


def test_a_file_link_opens_its_page(site: Path, browser: Any) -> None:
    opened = visit(browser, (site / "index.html").as_uri())
    opened.page.click("#tree a:text-is('y.go')")
    opened.page.wait_for_load_state("load")
    assert opened.page.inner_text("h1") == "pkg/a/y.go"
    missed = opened.evaluate(
        "() => Array.from(document.querySelectorAll('.lines > .m')).map(r => r.id)"
    )
    assert missed == ["L5"]
    opened.page.click("button[data-filter=uncovered]")
    assert opened.visible_lines() == ["L5"]
    opened.page.keyboard.press("j")
    assert opened.evaluate("() => location.hash") == "#L5"
    # Two documents, both local files: nothing else was fetched.
    assert opened.requests == [page_url(opened.url), page_url(opened.page.url)]
    assert opened.errors == []
    save_screenshot(opened, "file-page")


# -- hostile source -----------------------------------------------------------------------------
HOSTILE_LINES = [
    'const a = "</script><script>window.__pwned = 1</script>";',
    '// <img src=x onerror="window.__pwned = 2; alert(1)">',
    "// {{ 7 * 7 }} {% if true %}jinja{% endif %} ${7*7} &amp; &lt;",
    "\tindented\twith\ttabs",
    "// non-ASCII: héllo wörld — 日本語 — 😀 — Ω≈ç√ — \u202eevil",
    "<!-- a comment --> ]]> <![CDATA[ x ]]>",
]
HOSTILE_NAME = "pkg/<img src=x onerror=alert(1)>.go"


@pytest.fixture
def hostile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A site and a page of a file whose source and name are written to break out."""
    source = tmp_path / HOSTILE_NAME
    source.parent.mkdir(parents=True)
    source.write_text("\n".join(HOSTILE_LINES) + "\n", encoding="utf-8")
    profile = lcov_beside(tmp_path, {HOSTILE_NAME: {1: 1, 2: 0, 3: 1, 4: 0}})
    covtool = Covtool(tmp_path, capsys)
    for fmt, output in (("html", "site"), ("html-page", "page.html")):
        result = covtool("report", profile, "--format", fmt, "-o", output)
        assert result.exit_code == 0, result.stderr
    return tmp_path


def check_shown_as_text(opened: Any) -> None:
    """Every line is its text exactly; nothing ran, no element was injected."""
    texts = opened.evaluate(
        "() => Array.from(document.querySelectorAll('.lines > div > code')).map(c => c.textContent)"
    )
    assert texts == HOSTILE_LINES
    assert opened.evaluate("() => window.__pwned") is None
    assert opened.evaluate("() => document.querySelectorAll('img, .lines script').length") == 0
    assert opened.evaluate("() => document.scripts.length") == 1  # covtool's own
    assert opened.dialogs == [] and opened.errors == []
    assert "49" not in opened.page.inner_text("main")
    white_space = opened.evaluate(
        "() => getComputedStyle(document.querySelector('.lines > div > code')).whiteSpace"
    )
    assert white_space == "pre"
    assert opened.requests == [page_url(opened.url)]


def test_hostile_source_is_text_on_the_page(hostile: Path, browser: Any) -> None:
    opened = visit(browser, (hostile / "page.html").as_uri())
    check_shown_as_text(opened)
    assert opened.evaluate("() => document.querySelector('section').dataset.path") == HOSTILE_NAME
    # The section's id by path: the path, its spaces (no id may hold one) as %20.
    by_path = HOSTILE_NAME.replace(" ", "%20")
    assert opened.evaluate("(id) => document.getElementById(id).textContent", by_path) == (
        HOSTILE_NAME
    )


def test_hostile_source_is_text_in_the_site(hostile: Path, browser: Any) -> None:
    index = visit(browser, (hostile / "site" / "index.html").as_uri())
    assert index.evaluate("() => document.querySelectorAll('img').length") == 0
    assert index.page.inner_text("#tree a") == "<img src=x onerror=alert(1)>.go"
    index.page.click("#tree a")
    index.page.wait_for_load_state("load")
    assert index.page.inner_text("h1") == HOSTILE_NAME
    index.requests = index.requests[1:]
    index.url = index.page.url
    check_shown_as_text(index)
