"""``covtool run`` as Prow runs it: postsubmit, two presubmit pushes, periodic.

A real repository (Go, then Python) in a temporary directory, the GCS emulator as Prow's
bucket, the GitHub-shaped server as GitHub. The figures are checked against the reference
tools' own output for the same runs: the Go profile the job left and ``go tool cover``, or
coverage.py's JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import xmltodict
from markupsafe import escape

from prow_scenario import (
    BOT,
    GO_PROJECT,
    PRESUBMIT_JOB,
    PY_PROJECT,
    JobRun,
    Project,
    Scenario,
    added_lines,
    go_cover_total,
    go_file_lines,
    go_file_percent,
    go_total_percent,
)
from support import commit, documented_fields, git

pytestmark = pytest.mark.realdata


@dataclass(frozen=True)
class Reference:
    """The reference tool's view of one job's profile."""

    percent: Callable[[str], float]  # a file's coverage, as the comment shows it
    lines: Callable[[str], tuple[set[int], set[int]]]  # executable and covered lines
    total: str  # the whole profile's coverage with one decimal
    total_percent: float  # the same, unrounded


def reference(scenario: Scenario, done: JobRun) -> Reference:
    """Go: the profile the job left, and ``go tool cover -func``; Python: coverage.py's
    own JSON report of the run."""
    if scenario.project is GO_PROJECT:
        profile = done.artifacts / "coverage_profile.txt"
        return Reference(
            lambda path: go_file_percent(profile, path),
            lambda path: go_file_lines(profile)[path],
            go_cover_total(profile, scenario.env, scenario.repo),
            go_total_percent(profile),
        )
    data = json.loads(done.text("coverage.json"))
    files = data["files"]
    return Reference(
        lambda path: files[path]["summary"]["percent_covered"],
        lambda path: (
            set(files[path]["executed_lines"]) | set(files[path]["missing_lines"]),
            set(files[path]["executed_lines"]),
        ),
        f"{data['totals']['percent_covered']:.1f}",
        data["totals"]["percent_covered"],
    )


def row(scenario: Scenario, build: str, old: float, new: float, since: float | None = None) -> str:
    """The comment's table row for the changed file: the original tool's columns, then the
    change since the last push when there was one."""
    link = f"{scenario.html_url(build)}#file0"
    cells = f"[{scenario.project.changed}]({link}) | {old:.1f}% | {new:.1f}% | {new - old:.1f}"
    return cells if since is None else f"{cells} | {since:+.1f}\n"


def since_line(previous: Reference, now: Reference, commit: str, build: str) -> str:
    """The comment's line on the change of the whole profile since the previous push."""
    return f"**Since the last push:** {now.total_percent - previous.total_percent:+.1f}% since {commit[:7]} (build {build})"


def patch_counts(scenario: Scenario, ref: Reference, head: str) -> tuple[int, int]:
    """Covered and executable lines among those the pull request added to the file."""
    path = scenario.project.changed
    added = added_lines(scenario.repo, scenario.commits.main, head, path)
    executable, covered = ref.lines(path)
    return len(added & covered), len(added & executable)


def junit_rows(done: JobRun) -> dict[str, str]:
    """TestGrid's cells: testcase name to its coverage value."""
    suite = xmltodict.parse(done.text("junit_coverage.xml"), force_list=("testcase", "property"))
    suite = suite.get("testsuites", suite)["testsuite"]
    suite = suite[0] if isinstance(suite, list) else suite
    return {
        case["@name"]: case["properties"]["property"][0]["@value"]
        for case in suite["testcase"]
        if "properties" in case
    }


@pytest.mark.parametrize("project", [GO_PROJECT, PY_PROJECT], ids=["go", "python"])
def test_postsubmit_presubmit_pushes_and_periodic(
    scenario: Callable[[Project], Scenario], project: Project
) -> None:
    s = scenario(project)
    changed, generated = project.changed, project.generated

    # (1) postsubmit on main; Prow's sidecar uploads its artifacts.
    post = s.postsubmit("1001")
    assert post.result.exit_code == 0, post.result.stderr
    profile_name = "coverage_profile.txt" if project is GO_PROJECT else "coverage.json"
    assert {p.name for p in post.artifacts.iterdir()} == {
        "stdout.txt",
        profile_name,
        "covtool.json",
        "profile-completed",
    }
    assert "covtool: [1/2] run the tests with coverage" in post.result.stderr
    base_ref = reference(s, post)
    metadata = json.loads(post.text("covtool.json"))
    assert metadata["commit"] == s.commits.main and metadata["job"]["type"] == "postsubmit"
    assert f"{metadata['totals']['percent']:.1f}" == base_ref.total

    # (2) the first push: a function no test runs, and a generated file.
    pre = s.presubmit("2001", s.commits.push1)
    assert pre.result.exit_code == 1, pre.result.stderr
    for name in ("bot-post", "line-cov.html", "junit_coverage.xml", "coverage.md"):
        assert (pre.artifacts / name).is_file(), name
    assert (pre.artifacts / "profile-completed").is_file()  # the tests passed
    head_ref = reference(s, pre)
    old, new = base_ref.percent(changed), head_ref.percent(changed)
    assert new < 70 <= old or new < old
    [comment] = s.comments()
    body = comment["body"]
    assert comment["user"]["login"] == BOT
    assert body == pre.text("bot-post")
    assert row(s, "2001", old, new) in body
    # The first push: no earlier build of the pull request, so no column and no figure.
    assert "**Since the last push:** first run for this PR\n" in body
    assert "Since Last Push" not in body
    covered, executable = patch_counts(s, head_ref, s.commits.push1)
    assert executable > covered
    assert f"({covered} of {executable})" in body
    escaped = generated.replace("_", "\\_")  # markdown
    assert f"[{escaped}](" not in body and f"[{generated}](" not in body
    assert f"- {escaped}: .gitattributes: linguist-generated" in body
    assert 'id="file0"' in pre.text("line-cov.html")
    status = s.statuses(s.commits.push1)[0]
    assert (status["state"], status["context"]) == ("failure", f"covtool/{PRESUBMIT_JOB}")
    assert "gate failed" in pre.result.stderr
    assert f"covtool: PR comment posted: {comment['html_url']}" in pre.result.stderr

    # (3) the second push adds the test; (4) the branch is force-pushed.
    ref2 = second_push(s, comment, base_ref, head_ref)
    force_push(s, comment, base_ref, ref2)

    # (5) periodic: TestGrid's OVERALL is the postsubmit's total.
    periodic = s.periodic("3001")
    assert periodic.result.exit_code == 0, periodic.result.stderr
    assert junit_rows(periodic)["OVERALL"] == base_ref.total
    assert (periodic.artifacts / "covtool-report.json").is_file()
    assert (periodic.artifacts / "profile-completed").is_file()


def second_push(
    s: Scenario, comment: dict[str, Any], base_ref: Reference, head_ref: Reference
) -> Reference:
    """The second push adds the test: the same comment, updated; success. It also says what
    this push alone did, since build 2001 (whose job failed, for its gate only)."""
    changed = s.project.changed
    pre2 = s.presubmit("2002", s.commits.push2, "--reports=json")
    assert pre2.result.exit_code == 0, pre2.result.stderr
    [updated] = s.comments()
    assert updated["id"] == comment["id"] and updated["body"] != comment["body"]
    ref2 = reference(s, pre2)
    old, new, newer = base_ref.percent(changed), head_ref.percent(changed), ref2.percent(changed)
    assert newer > new
    assert row(s, "2002", old, newer, since=newer - new) in updated["body"]
    assert "| Delta | Since Last Push\n" in updated["body"]
    assert since_line(head_ref, ref2, s.commits.push1, "2001") + "\n" in updated["body"]
    assert "Note:" not in updated["body"]  # push 1 is an ancestor: nothing to warn of
    covered, executable = patch_counts(s, ref2, s.commits.push2)
    assert covered == executable > 0 and f"({covered} of {executable})" in updated["body"]
    assert s.statuses(s.commits.push2)[0]["state"] == "success"
    assert "PR comment updated" in pre2.result.stderr
    assert "previous build: 2001 (" in pre2.result.stderr
    previous = json.loads(pre2.text("covtool-report.json"))["previous"]
    assert set(previous) == documented_fields("previous")
    assert (previous["build"], previous["commit"]) == ("2001", s.commits.push1)
    assert previous["ancestor"] is True and previous["lines_mapped"] is True
    total_delta = ref2.total_percent - head_ref.total_percent
    assert previous["totals"]["delta"] == pytest.approx(total_delta)
    assert previous["files"][changed]["delta"] == pytest.approx(newer - new)
    assert previous["files"][changed]["change"] == "none"  # push 2 added a test only
    summary = f"{total_delta:+.1f}% since {s.commits.push1[:7]} (build 2001)"
    assert f"<dt>Since the last push</dt><dd>{summary}</dd>" in pre2.text("line-cov.html")
    return ref2


def force_push(s: Scenario, comment: dict[str, Any], base_ref: Reference, ref2: Reference) -> None:
    """The branch is force-pushed: one commit on main, Refund's lines moved down by one and
    its test dropped. Push 2 is no ancestor of it, and the comment says so; the file is
    still compared with build 2002, line by line through git's diff of the two commits."""
    changed = s.project.changed
    pre3 = s.presubmit("2003", s.commits.push3, "--reports=json")
    assert pre3.result.exit_code == 1, pre3.result.stderr  # pay below 70% again: the gate
    [rewritten] = s.comments()
    assert rewritten["id"] == comment["id"]
    ref3 = reference(s, pre3)
    old, newer, weaker = base_ref.percent(changed), ref2.percent(changed), ref3.percent(changed)
    assert weaker < newer
    assert row(s, "2003", old, weaker, since=weaker - newer) in rewritten["body"]
    short = s.commits.push2[:7]
    caveat = (
        f"{short} is not an ancestor of this commit: the branch's history was rewritten (a "
        "force-push) since that build"
    )
    line = since_line(ref2, ref3, s.commits.push2, "2002")
    assert f"{line}. Note: {caveat}.\n" in rewritten["body"]
    assert f'<p class="note">{escape(caveat)}</p>' in pre3.text("line-cov.html")
    previous = json.loads(pre3.text("covtool-report.json"))["previous"]
    assert previous["ancestor"] is False and previous["lines_mapped"] is True
    # Every line moved down by one: what ran at push 2 and not now is lost, not new.
    _, covered2 = ref2.lines(changed)
    executable3, covered3 = ref3.lines(changed)
    lost = sorted({line + 1 for line in covered2} & (executable3 - covered3))
    assert lost
    ranges = previous["files"][changed]["lost_lines"]
    assert [n for first, last in ranges for n in range(first, last + 1)] == lost


def test_an_unreachable_store_of_presubmit_builds_changes_nothing_else(
    scenario: Callable[[Project], Scenario],
) -> None:
    s = scenario(GO_PROJECT)
    assert s.postsubmit("1001").result.exit_code == 0
    assert s.presubmit("2001", s.commits.push1).result.exit_code == 1
    missing = f"gs://no-such-bucket-{s.bucket.name}"
    pre2 = s.presubmit("2002", s.commits.push2, f"--presubmit-store={missing}")
    assert pre2.result.exit_code == 0, pre2.result.stderr  # the gate passes, as before
    [comment] = s.comments()
    body = comment["body"]
    line = next(line for line in body.splitlines() if line.startswith("**Since the last push:**"))
    assert line.startswith(
        "**Since the last push:** not known: the previous build could not be looked up: "
        + missing.replace("_", "\\_")
    ), line
    assert "Since Last Push" not in body
    assert "| 66.7% | 83.3% | 16.7\n" in body  # the comparison with main, untouched
    assert "**Gate: passed**" in body


def test_the_end_of_a_run_says_what_was_written_where(
    scenario: Callable[[Project], Scenario],
) -> None:
    s = scenario(GO_PROJECT)
    assert s.postsubmit("1001").result.exit_code == 0
    pre = s.presubmit("2001", s.commits.push1, "--verbose")
    summary = pre.result.stderr.split("presubmit done in", 1)[1]
    assert "exit 1 (gate failed)" in summary
    for name in (
        "stdout.txt",
        "coverage_profile.txt",
        "covtool.json",
        "bot-post",
        "line-cov.html",
        "junit_coverage.xml",
        "profile-completed",
    ):
        assert str(pre.artifacts / name) in summary, name
    assert "PR comment posted: http" in summary
    assert f"commit status covtool/{PRESUBMIT_JOB} on {s.commits.push1[:7]}: failure" in summary
    # --verbose: every hook call, with the plugins that answer it.
    assert "covtool: hook covtool_load_baseline [baseline]" in pre.result.stderr
    assert re.search(r"covtool: hook covtool_report_ready \[[^]]*github[^]]*\]", pre.result.stderr)


def test_a_failing_test_still_reports_and_leaves_no_marker(
    scenario: Callable[[Project], Scenario],
) -> None:
    s = scenario(GO_PROJECT)
    assert s.postsubmit("1001").result.exit_code == 0
    git(s.repo, "checkout", "-q", s.commits.push1)
    broken = s.repo / "pkg/pay/pay_test.go"
    broken.write_text(broken.read_text().replace("Charge(5) != 5", "Charge(5) != 6"))
    failing = commit(s.repo, "a broken test")
    pre = s.presubmit("2001", failing)
    assert pre.result.exit_code == 2, pre.result.stderr
    assert (pre.artifacts / "bot-post").is_file() and len(s.comments()) == 1
    assert not (pre.artifacts / "profile-completed").exists()
