"""The PR comment: golden files for real pull requests (git repositories made here), escaping
checked by rendering the markdown, the size limit, and a repository's own template."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from covtool import ExitCode
from pr_scenarios import PROW_PRESUBMIT as PROW
from pr_scenarios import PullRequest, Side, lines_of, make_pull_request, typical
from support import Covtool, Result

REPORT = (
    "https://storage.cloud.google.com/acme-ci/pr-logs/pull/acme_demo/5/pull-demo-coverage/1234/"
    "artifacts/line-cov.html"
)


def dry_run(
    pr: PullRequest, capsys: pytest.CaptureFixture[str], *flags: str, env: dict[str, str] = PROW
) -> Result:
    """``covtool comment --dry-run`` in the pull request's repository."""
    covtool = Covtool(pr.root, capsys)
    return covtool(
        "comment",
        "--dry-run",
        "--base",
        pr.base_profile,
        "--head",
        pr.head_profile,
        "--changes",
        pr.changes,
        "--postsubmit-gcs-bucket",
        "acme-ci",
        *flags,
        env=env,
    )


def scrubbed(pr: PullRequest, body: str) -> str:
    """The body with the commits (which differ on every run) replaced by names."""
    return body.replace(pr.head_sha[:7], "HEADSHA").replace(pr.base_sha[:7], "BASESHA")


def html_of(body: str) -> str:
    """The body as a CommonMark renderer with raw HTML allowed turns it into HTML."""
    return MarkdownIt("commonmark").enable("table").render(body)


# -- goldens ------------------------------------------------------------------------------------
def test_typical_pull_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], golden: object
) -> None:
    pr = typical(tmp_path)
    result = dry_run(pr, capsys)
    assert result.exit_code == ExitCode.GATE_FAILED, result.stderr
    golden("comment-typical.md", scrubbed(pr, result.stdout))  # type: ignore[operator]
    body = result.stdout
    # The original's header, table and links to the HTML of this build.
    assert body.startswith(
        "<!-- covtool:comment job=pull-demo-coverage -->\n"
        "The following is the coverage report on the affected files.\n"
        "Say `/test pull-demo-coverage` to re-run this coverage report\n"
    )
    assert f"[pkg/queue/breaker.go]({REPORT}#file0) | 80.0% | 50.0% | -30.0\n" in body
    assert f"[pkg/queue/new.go]({REPORT}#file1) | Does not exist | 40.0% |\n" in body
    assert "pkg/old.go" not in body and "docs/guide.md" not in body
    assert "**Patch coverage:** 44.4% of the added or modified executable lines ran (4 of 9)" in (
        body
    )
    assert "- pkg/queue/breaker.go: 6, 12\n- pkg/queue/new.go: 3-5\n" in body
    assert "**Unchanged lines that lost their coverage:**\n\n- pkg/queue/breaker.go: 7-8\n" in body
    assert "- pkg/gen.go: .gitattributes: linguist-generated" in body
    assert "pkg/util.go | 75.0% | 50.0% | -25.0" in body


def test_pull_request_adding_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], golden: object
) -> None:
    base = Side({"pkg/a.go": lines_of("a", 2)}, {"pkg/a.go": {1: 1, 2: 1}})
    head = Side(
        {
            "pkg/a.go": lines_of("a", 2),
            "pkg/b/full.go": lines_of("full", 4),
            "pkg/b/none.go": lines_of("none", 2),
            "pkg/b/types.go": lines_of("types", 3),
        },
        {
            "pkg/a.go": {1: 1, 2: 1},
            "pkg/b/full.go": {1: 3, 2: 1, 3: 1, 4: 1},
            "pkg/b/none.go": {1: 0, 2: 0},
            "pkg/b/types.go": {},
        },
    )
    pr = make_pull_request(tmp_path, base, head)
    result = dry_run(pr, capsys, "--coverage-threshold=50", "--patch-threshold=60")
    assert result.exit_code == ExitCode.GATE_FAILED
    golden("comment-added.md", scrubbed(pr, result.stdout))  # type: ignore[operator]
    # Anchors count the changed files only: the HTML shows those.
    assert f"[pkg/b/full.go]({REPORT}#file0) | Does not exist | 100.0% |\n" in result.stdout
    assert f"[pkg/b/types.go]({REPORT}#file2) | Does not exist | N/A |\n" in result.stdout
    assert "patch coverage 66.7% (4 of 6 lines) meets 60%" in result.stdout
    assert "  - pkg/b/none.go: 0.0%\n" in result.stdout


def test_two_thousand_files_stay_within_githubs_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], golden: object
) -> None:
    count = 2000
    names = [f"pkg/d{i // 100:02d}/file{i:04d}.go" for i in range(count)]
    base = Side(
        {name: lines_of(name, 10) for name in names},
        {name: dict.fromkeys(range(1, 11), 1) for name in names},
    )
    # Every file gets line 3 rewritten; file i keeps (i % 10) + 1 of its 10 lines covered.
    head = Side(
        {name: lines_of(name, 10, {3: "rewritten"}) for name in names},
        {name: {n: int(n <= i % 10 + 1) for n in range(1, 11)} for i, name in enumerate(names)},
    )
    pr = make_pull_request(tmp_path, base, head)
    body = dry_run(pr, capsys).stdout
    golden("comment-2000-files.md", scrubbed(pr, body))  # type: ignore[operator]
    assert len(body.encode("utf-16-le")) // 2 <= 65_536
    # File i keeps (i % 10 + 1) of 10 lines: every tenth file stays at 100 %, and is no row.
    assert "<details><summary>Coverage of 1,800 changed files</summary>" in body
    assert "\n\nNot shown: 1,439 of 1,800 files, to keep this comment within" in body
    assert f"Every file is in the [line-by-line report]({REPORT})." in body
    rows = [line for line in body.splitlines() if line.startswith("[pkg/")]
    assert len(rows) == 361 and rows == sorted(rows)  # shown in path order
    # The rows kept are those with the lowest coverage: all 200 at 10 %, then 20 %.
    shown = sorted(row.split(" | ")[2] for row in rows)
    assert shown == ["10.0%"] * 200 + ["20.0%"] * 161
    assert "- and 370 more files" in body  # 400 files leave line 3 uncovered: 30 listed
    assert "- and 1,770 more files" in body  # all 1,800 lost lines: 30 listed
    assert "1,400 files are below the per-file threshold of 80%" in body
    assert "(1,600 of 2,000)" in body


def test_names_from_the_repository_cannot_inject_markdown_or_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], golden: object
) -> None:
    names = [
        "pkg/a|b.go",
        "pkg/<script>alert(1)</script>.go",
        "pkg/`tick`.go",
        "pkg/x](https:evil.example)y.go",
        "pkg/**bold**_under_.go",
        "pkg/<img src=x onerror=alert(1)>.go",
    ]
    base = Side({"keep.go": "k\n"}, {"keep.go": {1: 1}})
    head = Side(
        {"keep.go": "k\n"} | {name: lines_of(name, 2) for name in names},
        {"keep.go": {1: 1}} | {name: {1: 1, 2: 0} for name in names},
    )
    pr = make_pull_request(tmp_path, base, head)
    result = dry_run(pr, capsys)
    golden("comment-names.md", scrubbed(pr, result.stdout))  # type: ignore[operator]
    html = html_of(result.stdout)
    assert "<script" not in html and "<img" not in html and "<strong>bold" not in html
    assert "<em>" not in html and "<code>" not in html.split("re-run")[1]
    links = [part.split('"')[0] for part in html.split('href="')[1:]]
    assert links and all(link.startswith(REPORT) for link in links)
    # Each name's row is one table row with four cells, and the names show as themselves.
    assert html.count("<tr>") == len(names) + 1
    for name in names:
        shown = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert f">{shown}</a>" in html


# -- a repository's own template ----------------------------------------------------------------
def test_repository_template_extends_the_builtin_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pr = typical(tmp_path)
    template = pr.root / ".github" / "coverage.md.j2"
    template.parent.mkdir()
    template.write_text(
        '{% extends "covtool/comment.md.j2" %}\n'
        "{% block header %}Coverage of **{{ job }}** — {{ rows | length }} files:\n"
        "{% endblock %}\n"
        "{% block details %}{% endblock %}\n"
    )
    result = dry_run(pr, capsys, "--comment-template", ".github/coverage.md.j2")
    body = result.stdout
    assert body.startswith(
        "<!-- covtool:comment job=pull-demo-coverage -->\n"
        "Coverage of **pull-demo-coverage** — 2 files:\n\nFile | Old Coverage |"
    )
    assert "pkg/util.go" not in body and "**Gate: failed**" in body


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{% if %}\n", ".github/bad.md.j2:1: template syntax error: Expected an expression"),
        ("{{ marker.__class__.__mro__ }}", "comment template bad.md.j2: "),
        ("{{ no_such_thing }}", "comment template bad.md.j2: 'no_such_thing' is undefined"),
    ],
)
def test_bad_templates_are_one_line_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    pr = typical(tmp_path)
    (pr.root / ".github").mkdir()
    (pr.root / ".github" / "bad.md.j2").write_text(text)
    result = dry_run(pr, capsys, "--comment-template", ".github/bad.md.j2")
    assert result.exit_code == ExitCode.USAGE_ERROR
    assert result.stdout == ""
    assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_a_template_too_long_by_itself_is_cut_at_a_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pr = typical(tmp_path)
    (pr.root / "long.md.j2").write_text(
        "{{ marker }}\n{% for i in range(3000) %}line {{ i }} of a template that says too much\n"
        "{% endfor %}"
    )
    body = dry_run(pr, capsys, "--comment-template", "long.md.j2").stdout
    assert 60_000 < len(body) <= 65_536
    assert body.startswith("<!-- covtool:comment job=pull-demo-coverage -->\nline 0 of")
    assert body.endswith(
        " of a template that says too much\n\n… (the rest is cut to GitHub's comment size limit)\n"
    )
