"""The HTML reports' files, read back as HTML (lxml): sources only from inside the
repository, notes about sources that do not match, where files are written, the tree."""

from __future__ import annotations

import os
from pathlib import Path

import lxml.html
import pytest

from covtool import ExitCode, Totals
from covtool_plugins.report.htmltree import tree_rows
from covtool_plugins.report.htmlview import page_name
from pr_scenarios import lcov, lcov_beside
from support import Covtool

SECRET = "top secret: never in a report"


def write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def page(covtool: Covtool, profile: Path, *flags: str) -> tuple[lxml.html.HtmlElement, str]:
    """``covtool report --format html-page`` of ``profile``: the page and stderr."""
    result = covtool("report", profile, "--format", "html-page", "-o", "page.html", *flags)
    assert result.exit_code == 0, result.stderr
    return lxml.html.parse(str(covtool.path / "page.html")).getroot(), result.stderr


def section(document: lxml.html.HtmlElement, path: str) -> lxml.html.HtmlElement:
    (found,) = document.xpath("//section[@data-path=$path]", path=path)
    return found


def row_classes(element: lxml.html.HtmlElement) -> dict[int, str]:
    """Line number to the row's class, for every row of a section or page."""
    return {
        int(row.get("id").rsplit("L", 1)[1]): row.get("class", "")
        for row in element.xpath(".//div[@class='lines']/div")
    }


def test_sources_outside_the_repository_are_refused_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    outside = tmp_path / "outside.go"
    outside.write_text(f"{SECRET}\n" * 3)
    write(repo, {"pkg/ok.go": "fine 1\nfine 2\n"})
    (repo / "pkg" / "link.go").symlink_to(outside)  # inside by name, outside in fact
    (repo / "pkg" / "dirlink").symlink_to(tmp_path, target_is_directory=True)
    names = ["pkg/ok.go", "pkg/link.go", "pkg/dirlink/outside.go", "../outside.go", str(outside)]
    profile = tmp_path / "c.info"
    profile.write_text(lcov({name: {1: 1, 2: 0} for name in names}))

    covtool = Covtool(repo, capsys)
    document, stderr = page(covtool, profile)
    text = lxml.html.tostring(document, encoding="unicode")
    assert SECRET not in text
    warnings = [line for line in stderr.splitlines() if "source is not read" in line]
    assert warnings == [
        "covtool: warning: html: 4 file(s) of the profile lie outside the repository; their "
        f"source is not read or shown: ../outside.go, {outside}, pkg/dirlink/outside.go, "
        "pkg/link.go"
    ]
    for name in names[1:]:
        refused = section(document, name)
        assert "The source is not shown: outside the repository." in refused.text_content()
        # The coverage is still reported: the profile's two lines, without their text.
        assert row_classes(refused) == {1: "c", 2: "m"}
    assert "fine 2" in section(document, "pkg/ok.go").text_content()

    # The site refuses the same files.
    result = covtool("report", profile, "--format", "html", "-o", "site")
    assert result.exit_code == 0
    assert "4 file(s) of the profile lie outside the repository" in result.stderr
    for written in (repo / "site").iterdir():
        assert SECRET not in written.read_text()


def test_notes_say_when_the_source_does_not_match(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"short.go": "one\ntwo\n"})
    (tmp_path / "latin1.go").write_bytes(b"caf\xe9\nok\n")
    profile = lcov_beside(
        tmp_path, {"short.go": {1: 1, 5: 0}, "latin1.go": {1: 1}, "missing.go": {3: 0, 7: 1}}
    )
    document, stderr = page(Covtool(tmp_path, capsys), profile)
    short = section(document, "short.go")
    assert "The profile names line 5 of a 2-line file" in short.text_content()
    assert row_classes(short) == {1: "c", 2: "", 3: "", 4: "", 5: "m"}
    latin1 = section(document, "latin1.go")
    assert "The source is not valid UTF-8" in latin1.text_content()
    assert latin1.xpath(".//div[@class='lines']/div/code")[0].text == "caf\ufffd"
    missing = section(document, "missing.go")
    assert "The source is not shown: not in the checkout." in missing.text_content()
    assert row_classes(missing) == {3: "m", 7: "c"}
    assert "outside the repository" not in stderr


def test_without_a_comparison_the_page_shows_every_file_in_path_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"b.go": {1: 1}, "a/z.go": {1: 0}, "a.go": {1: 1, 2: 1}}
    write(tmp_path, {path: "x\ny\n" for path in files})
    profile = lcov_beside(tmp_path, files)
    document, _ = page(Covtool(tmp_path, capsys), profile)
    sections = [(s.get("id"), s.get("data-path")) for s in document.xpath("//section")]
    assert sections == [("file0", "a.go"), ("file1", "a/z.go"), ("file2", "b.go")]
    toc = [a.get("href") for a in document.xpath("//nav//a")]
    assert toc == ["#file0", "#file1", "#file2"]


def test_the_site_goes_to_its_own_directory_and_index_comes_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"a.go": {1: 1}, "A.go": {1: 0}, "dir/b.go": {1: 1}}
    write(tmp_path, {path: "x\n" for path in files})
    profile = lcov_beside(tmp_path, files)
    result = Covtool(tmp_path, capsys)("report", profile, "--format", "html")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "covtool: wrote covtool-html/ (4 files)\n"
    site = tmp_path / "covtool-html"
    pages = {page_name(path) for path in files}
    assert len(pages) == 3  # a.go and A.go differ even where case does not
    assert {p.name for p in site.iterdir()} == pages | {"index.html"}
    # Written one by one, the index last: it never points at a page not yet there.
    by_time = sorted(site.iterdir(), key=lambda p: p.stat().st_mtime_ns)
    assert by_time[-1].name == "index.html"
    index = lxml.html.parse(str(site / "index.html")).getroot()
    assert sorted(a.get("href") for a in index.xpath("//table[@id='tree']//a")) == sorted(pages)


def test_a_site_over_a_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.go").write_text("x\n")
    profile = lcov_beside(tmp_path, {"a.go": {1: 1}})
    (tmp_path / "taken").write_text("a file")
    result = Covtool(tmp_path, capsys)("report", profile, "--format", "html", "-o", "taken")
    assert result.exit_code == ExitCode.USAGE_ERROR
    assert result.stderr.startswith("covtool: error: cannot write taken/")
    assert result.stderr.count("\n") == 1
    assert (tmp_path / "taken").read_text() == "a file"


def test_the_page_goes_to_the_artifacts_of_covtool_comment_next_to_bot_post(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pr_scenarios import typical

    pr = typical(tmp_path)
    artifacts = tmp_path / "artifacts"
    result = Covtool(pr.root, capsys)(
        *("comment", "--base", pr.base_profile, "--head", pr.head_profile),
        *("--changes", pr.changes, "--artifacts", artifacts, "--comment-mode", "off"),
        "--no-commit-status",
        "--html-name",
        "coverage.html",
    )
    assert result.exit_code == ExitCode.GATE_FAILED, result.stderr
    assert sorted(p.name for p in artifacts.iterdir()) == ["bot-post", "coverage.html"]
    document = lxml.html.parse(str(artifacts / "coverage.html")).getroot()
    breaker = section(document, "pkg/queue/breaker.go")
    assert breaker.get("id") == "file0"
    # The differential categories of the hand-worked typical change (pr_scenarios.typical).
    labels = {
        int(row.get("id").rsplit("L", 1)[1]): row.xpath("i")[0].text_content()
        for row in breaker.xpath(".//div[@class='lines']/div")
    }
    assert labels == {
        **{n: "" for n in (1, 2, 3, 4, 9, 10)},
        5: "new covered",
        6: "new uncovered",
        7: "lost",
        8: "lost",
        11: "new covered",
        12: "new uncovered",
    }
    assert "chg" in row_classes(breaker)[6] and "chg" not in row_classes(breaker)[7]
    figures = {
        dt.text_content(): dt.getnext().text_content() for dt in document.xpath("//header//dt")
    }
    assert figures["Coverage"] == "41.7% (10 of 24 lines)"
    assert figures["Baseline"] == "76.2% (change -34.5)"
    assert figures["Patch coverage"] == "4/9 (44.4%)"
    assert figures["Commit"] == pr.head_sha[:12]
    assert "Coverage gate failed" in document.xpath("//header")[0].text_content()


# -- the index's tree ---------------------------------------------------------------------------
def test_directory_rows_roll_up_their_subtree_never_a_name_prefix() -> None:
    paths = ["pkg/a/x.go", "pkg/ab/y.go", "pkg/a.go"]
    totals = [Totals(4, 1), Totals(10, 10), Totals(2, 2)]
    rows = {row.path: row for row in tree_rows(paths, totals)}
    assert rows["pkg"].totals == Totals(16, 13)
    assert rows["pkg/a"].totals == Totals(4, 1)
    assert rows["pkg/ab"].totals == Totals(10, 10)
    order = [(row.depth, row.name) for row in tree_rows(paths, totals)]
    assert order == [(0, "pkg"), (1, "a"), (2, "x.go"), (1, "ab"), (2, "y.go"), (1, "a.go")]


def test_single_child_directories_are_one_row_and_depth_is_no_limit() -> None:
    deep = "/".join(f"d{i}" for i in range(3000)) + "/leaf.go"
    rows = tree_rows(["k8s.io/kubernetes/pkg/x.go", deep], [Totals(1, 1), Totals(2, 0)])
    names = [row.name for row in rows]
    assert names[0] == "/".join(f"d{i}" for i in range(3000))  # one row for the chain
    assert names[1:] == ["leaf.go", "k8s.io/kubernetes/pkg", "x.go"]
    parents = {row.id: row.parent for row in rows}
    assert parents[rows[1].id] == rows[0].id and parents[rows[3].id] == rows[2].id


def test_page_names_are_distinct_and_portable() -> None:
    names = [page_name(p) for p in ("a.go", "A.go", "a_go", "x/<y>.go", "é.go", "index.html")]
    assert len(set(names)) == len(names)
    assert all(n.endswith(".html") and n != "index.html" for n in names)
    assert all(
        set(n) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        for n in names
    )
    assert len(page_name("a" * 5000)) < 120
    assert os.sep not in "".join(names)
