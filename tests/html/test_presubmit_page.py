"""The presubmit page (line-cov.html) in a real browser: the PR comment's #fileN links land
on their files, the filters and keys work, nothing leaves the page, light and dark."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser import Visit, page_url, save_screenshot, serving, visit

from pr_scenarios import PROW_PRESUBMIT as PROW
from pr_scenarios import PullRequest, Side, lines_of, make_pull_request
from support import Covtool

FILES = 12
LINES = 60
ADDED = 5
REWRITTEN = 10


def path_of(i: int) -> str:
    return f"pkg/mod{i:02d}/file{i:02d}.go"


def head_hits(i: int) -> dict[int, int]:
    """The head's hits of file ``i``: 40 old lines, one in ``i + 2`` not run, and the
    added lines 61-65, every other one run."""
    hits = {n: (0 if n % (i + 2) == 0 else 3) for n in range(1, 41)}
    return hits | {LINES + 1 + k: k % 2 for k in range(ADDED)}


def wide(directory: Path) -> PullRequest:
    """A pull request over twelve files: each rewrites line 10 and adds five lines, and
    loses coverage differently, so every file is in the comment's table."""
    added = "".join(f"added line {k}\n" for k in range(ADDED))
    base = Side(
        {path_of(i): lines_of(path_of(i), LINES) for i in range(FILES)},
        {path_of(i): {n: 1 for n in range(1, 41)} for i in range(FILES)},
    )
    head = Side(
        {
            path_of(i): lines_of(path_of(i), LINES, {REWRITTEN: f"rewritten {i}"}) + added
            for i in range(FILES)
        },
        {path_of(i): head_hits(i) for i in range(FILES)},
    )
    return make_pull_request(directory, base, head)


def run_comment(pr: PullRequest, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    """``covtool comment`` as a Prow presubmit runs it, posting nothing; the artifacts
    directory and the comment it wrote there."""
    artifacts = pr.root.parent / "artifacts"
    result = Covtool(pr.root, capsys)(
        "comment",
        "--base",
        pr.base_profile,
        "--head",
        pr.head_profile,
        "--changes",
        pr.changes,
        "--postsubmit-gcs-bucket",
        "acme-ci",
        "--artifacts",
        artifacts,
        "--comment-mode",
        "off",
        "--no-commit-status",
        env=PROW,
    )
    assert result.exit_code in (0, 1), result.stderr
    assert f"wrote {artifacts / 'line-cov.html'}" in result.stderr
    return artifacts, (artifacts / "bot-post").read_text()


def links(comment: str) -> dict[str, int]:
    """The comment's table links: file path to its ``#fileN``."""
    found = re.findall(r"^\[([^\]]+)\]\(https://\S+/line-cov\.html#file(\d+)\)", comment, re.M)
    return {path: int(n) for path, n in found}


def landed(opened: Visit) -> dict[str, Any]:
    """Where the page is scrolled: the target element's id, its section's path, and how far
    from the top of the viewport it is."""
    result: dict[str, Any] = opened.evaluate(
        """() => {
            const target = document.getElementById(location.hash.slice(1));
            const box = target.getBoundingClientRect();
            return {id: target.id, path: target.dataset.path, top: box.top,
                    scrolled: window.scrollY};
        }"""
    )
    return result


def test_each_link_of_the_comment_lands_on_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], browser: Any
) -> None:
    pr = wide(tmp_path)
    artifacts, comment = run_comment(pr, capsys)
    linked = links(comment)
    assert sorted(linked) == [path_of(i) for i in range(FILES)]
    page = artifacts / "line-cov.html"
    for path, index in linked.items():
        url = f"{page.as_uri()}#file{index}"
        opened = visit(browser, url)
        where = landed(opened)
        assert where["id"] == f"file{index}" and where["path"] == path
        # At the top of the viewport, under the sticky toolbar (a later file needs scrolling).
        assert 0 <= where["top"] < 80, where
        assert index == 0 or where["scrolled"] > 0
        assert opened.errors == []
        assert opened.requests == [page_url(url)]
        opened.page.close()


def test_the_page_served_over_http_makes_no_other_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], browser: Any
) -> None:
    """As from storage.cloud.google.com: one request, for the page; the anchor still lands."""
    pr = wide(tmp_path)
    artifacts, _ = run_comment(pr, capsys)
    with serving(artifacts) as base:
        url = f"{base}/line-cov.html#file7"
        opened = visit(browser, url)
        assert landed(opened)["path"] == path_of(7)
        assert opened.requests == [page_url(url)]
        assert opened.errors == []
        opened.page.close()


def expected_rows(selected: Any) -> list[str]:
    """Row ids ``fN-LM`` of the lines ``selected(i, line, hits)`` picks, in page order."""
    return [
        f"f{i}-L{line}"
        for i in range(FILES)
        for line, hits in sorted(head_hits(i).items())
        if selected(i, line, hits)
    ]


def test_filters_show_uncovered_or_changed_lines_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], browser: Any
) -> None:
    pr = wide(tmp_path)
    artifacts, _ = run_comment(pr, capsys)
    opened = visit(browser, (artifacts / "line-cov.html").as_uri())
    everything = opened.visible_lines()
    assert len(everything) == FILES * (LINES + ADDED)

    opened.page.click("button[data-filter=uncovered]")
    assert opened.visible_lines() == expected_rows(lambda i, line, hits: hits == 0)
    assert opened.page.get_attribute("button[data-filter=uncovered]", "aria-pressed") == "true"

    opened.page.click("button[data-filter=changed]")
    changed = [
        f"f{i}-L{line}"
        for i in range(FILES)
        for line in (REWRITTEN, *range(LINES + 1, LINES + 1 + ADDED))
    ]
    assert opened.visible_lines() == changed

    opened.page.click("button[data-filter=all]")
    assert opened.visible_lines() == everything
    assert opened.errors == []
    save_screenshot(opened, "presubmit-page")


def test_keys_move_between_uncovered_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], browser: Any
) -> None:
    pr = wide(tmp_path)
    artifacts, _ = run_comment(pr, capsys)
    opened = visit(browser, (artifacts / "line-cov.html").as_uri())
    uncovered = expected_rows(lambda i, line, hits: hits == 0)

    def current() -> str:
        return str(opened.evaluate("() => location.hash.slice(1)"))

    def in_view() -> bool:
        return bool(
            opened.evaluate(
                """() => { const b = document.querySelector('.lines > .current').getBoundingClientRect();
                          return b.top >= 0 && b.bottom <= window.innerHeight; }"""
            )
        )

    for expected in uncovered[:3]:
        opened.page.keyboard.press("j")
        assert current() == expected and in_view()
    opened.page.keyboard.press("k")
    assert current() == uncovered[1]
    opened.page.keyboard.press("p")
    assert current() == uncovered[0]
    # Under the "changed" filter, hidden uncovered lines are skipped.
    opened.page.click("button[data-filter=changed]")
    changed = [r for r in uncovered[1:] if int(r.split("-L")[1]) in (REWRITTEN, *range(61, 66))]
    for expected in changed[:2]:
        opened.page.keyboard.press("n")
        assert current() == expected
    assert opened.errors == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_light_and_dark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], browser: Any, scheme: str
) -> None:
    pr = wide(tmp_path)
    artifacts, _ = run_comment(pr, capsys)
    opened = visit(browser, (artifacts / "line-cov.html").as_uri(), color_scheme=scheme)
    colours = opened.evaluate(
        """() => [getComputedStyle(document.body).backgroundColor,
                  getComputedStyle(document.body).color,
                  getComputedStyle(document.querySelector('.lines > .m > code')).backgroundColor,
                  getComputedStyle(document.querySelector('.lines > .c > code')).backgroundColor]"""
    )
    background, text, missed, covered = (luminance(c) for c in colours)
    if scheme == "dark":
        assert background < 0.1 and text > 0.6
    else:
        assert background > 0.9 and text < 0.2
    # Covered and missed lines differ from each other, and text reads on both.
    assert colours[2] != colours[3]
    assert abs(text - missed) > 0.4 and abs(text - covered) > 0.4
    save_screenshot(opened, f"presubmit-page-{scheme}")


def luminance(css: str) -> float:
    """The relative luminance (0 black, 1 white) of a CSS ``rgb(r, g, b)`` colour."""
    red, green, blue = (int(v) / 255 for v in re.findall(r"\d+", css)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue
