"""Publishing to a pull request: the sticky comment and the commit status, through the real
githubkit client against a GitHub-shaped server on loopback, for a real pull request (a git
repository with two commits and a profile of each)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from covtool import ExitCode
from github_server import GitHubServer, Reply
from pr_scenarios import PullRequest, typical
from support import Covtool, Result

TOKEN = "ghp_PublishT0kenThatMustNeverBeSeen98765"
REPO = "acme/demo"
JOB = "pull-demo-coverage"
MARKER = f"<!-- covtool:comment job={JOB} -->"
COMMENTS = r"/issues/\d+/comments$"


@pytest.fixture
def server() -> Any:
    """A server that requires covtool-bot's token, with pull request acme/demo#5; the bot
    is a repository admin, so GitHub itself would let it edit anyone's comments."""
    with GitHubServer(token=TOKEN, admins={"covtool-bot"}) as github:
        github.add_user("ghp_alice", "alice")
        github.add_pull(REPO, 5, [])
        yield github


@pytest.fixture
def pr(tmp_path: Path) -> PullRequest:
    """The typical pull request (its gate fails: two files below the default 80 %)."""
    pull = typical(tmp_path)
    (tmp_path / "token").write_text(TOKEN + "\n")
    return pull


def publish(
    pr: PullRequest,
    server: GitHubServer,
    capsys: pytest.CaptureFixture[str],
    *flags: str,
    changes: str | None = None,
    number: int = 5,
) -> Result:
    """``covtool comment`` for ``pr`` as a Prow presubmit job would run it."""
    env = {"JOB_NAME": JOB, "PULL_PULL_SHA": pr.head_sha, "BUILD_ID": "77"}
    return Covtool(pr.root, capsys)(
        "comment",
        "--base",
        pr.base_profile,
        "--head",
        pr.head_profile,
        "--changes",
        changes or pr.changes,
        "--github-endpoint",
        server.url,
        "--github-repo",
        REPO,
        "--pull-number",
        str(number),
        "--github-token",
        pr.root.parent / "token",
        "--artifacts",
        pr.root.parent / "artifacts",
        "--html-url",
        "https://example.test/line-cov.html",
        *flags,
        env=env,
    )


def bot_post(pr: PullRequest) -> str:
    return (pr.root.parent / "artifacts" / "bot-post").read_text()


def writes(server: GitHubServer) -> list[str]:
    """The writes the server received, as ``METHOD path``."""
    return [f"{r.method} {r.path}" for r in server.requests if r.method != "GET"]


# -- the sticky comment -------------------------------------------------------------------------
def test_first_run_posts_one_comment_and_a_failing_status(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = publish(pr, server, capsys)
    assert result.exit_code == ExitCode.GATE_FAILED, result.stderr
    (comment,) = server.comments(REPO, 5)
    assert comment["user"]["login"] == "covtool-bot"
    assert comment["body"] == bot_post(pr)
    assert comment["body"].startswith(MARKER + "\nThe following is the coverage report")
    (status,) = server.statuses(REPO, pr.head_sha)
    assert status["state"] == "failure"
    assert status["context"] == f"covtool/{JOB}"
    assert status["target_url"] == "https://example.test/line-cov.html"
    assert status["description"] == (
        "coverage 41.7% (-34.5), patch 4/9 (44.4%); gate failed: file-threshold"
    )
    assert f"covtool: PR comment posted: {comment['html_url']}" in result.stderr
    assert result.stderr.index("PR comment posted") < result.stderr.index("gate failed")


def test_later_runs_update_the_same_comment(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(pr, server, capsys)
    (first,) = server.comments(REPO, 5)
    before = len(writes(server))
    unchanged = publish(pr, server, capsys)
    assert "PR comment unchanged" in unchanged.stderr
    assert writes(server)[before:] == [f"POST /repos/{REPO}/statuses/{pr.head_sha}"]
    passing = publish(pr, server, capsys, "--coverage-threshold=40")
    assert passing.exit_code == ExitCode.OK
    (updated,) = server.comments(REPO, 5)
    assert updated["id"] == first["id"] and updated["updated_at"] > first["updated_at"]
    assert "**Gate: passed**" in updated["body"] and updated["body"] == bot_post(pr)
    assert writes(server)[-2] == f"PATCH /repos/{REPO}/issues/comments/{first['id']}"
    assert server.statuses(REPO, pr.head_sha)[0]["state"] == "success"


def test_nothing_to_report_updates_the_comment_to_say_so(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(pr, server, capsys)
    (first,) = server.comments(REPO, 5)
    result = publish(pr, server, capsys, changes=f"git:{pr.head_sha}..{pr.head_sha}")
    assert result.exit_code == ExitCode.OK
    (comment,) = server.comments(REPO, 5)
    assert comment["id"] == first["id"]
    assert comment["body"].startswith(MARKER + "\nNothing to report on coverage at ")
    # No table of changed files (what moved elsewhere is still told, folded away).
    assert "[pkg/" not in comment["body"] and "Patch coverage" not in comment["body"]
    assert (
        "<details><summary>Coverage moved in 2 files this change did not touch" in (comment["body"])
    )
    status = server.statuses(REPO, pr.head_sha)[0]
    assert status["state"] == "success"
    assert status["description"].startswith("no covered file changed; coverage 41.7%")


def test_nothing_to_report_posts_nothing_new(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = publish(pr, server, capsys, changes=f"git:{pr.head_sha}..{pr.head_sha}")
    assert result.exit_code == ExitCode.OK
    assert server.comments(REPO, 5) == []
    assert "PR comment skipped" in result.stderr
    assert server.statuses(REPO, pr.head_sha)[0]["state"] == "success"
    assert bot_post(pr).startswith(MARKER + "\nNothing to report")


def test_new_mode_replaces_the_comment(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(pr, server, capsys)
    (first,) = server.comments(REPO, 5)
    result = publish(pr, server, capsys, "--comment-mode", "new")
    (second,) = server.comments(REPO, 5)
    assert second["id"] != first["id"] and second["body"] == first["body"]
    assert f"DELETE /repos/{REPO}/issues/comments/{first['id']}" in writes(server)
    assert "PR comment posted" in result.stderr and "(1 older deleted)" in result.stderr


def test_once_mode_posts_once_and_never_edits(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(pr, server, capsys, "--comment-mode", "once")
    (first,) = server.comments(REPO, 5)
    result = publish(pr, server, capsys, "--comment-mode", "once", "--coverage-threshold=40")
    assert server.comments(REPO, 5) == [first]
    assert "PR comment kept" in result.stderr
    assert server.statuses(REPO, pr.head_sha)[0]["state"] == "success"


def test_off_mode_sets_only_the_status(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = publish(pr, server, capsys, "--comment-mode", "off")
    assert result.exit_code == ExitCode.GATE_FAILED
    assert server.comments(REPO, 5) == [] and len(server.statuses(REPO, pr.head_sha)) == 1
    assert bot_post(pr).startswith(MARKER)  # the artifact is written all the same


@pytest.mark.parametrize("mode", ["update", "new"])
def test_comments_by_other_users_are_never_touched(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    quoted = server.add_comment(REPO, 5, f"Why does it say this?\n> {MARKER}\n", user="alice")
    plain = server.add_comment(REPO, 5, "LGTM", user="alice")
    ours = server.add_comment(REPO, 5, f"{MARKER}\nan old table")
    other_job = server.add_comment(REPO, 5, "<!-- covtool:comment job=pull-other -->\nx")
    publish(pr, server, capsys, "--comment-mode", mode)
    after = {c["id"]: c for c in server.comments(REPO, 5)}
    for untouched in (quoted, plain, other_job):
        assert after[untouched["id"]] == untouched
    if mode == "update":
        assert after[ours["id"]]["body"] == bot_post(pr)
    else:
        assert ours["id"] not in after and len(after) == 4
    touched = [w for w in writes(server) if "/issues/comments/" in w]
    assert all(w.endswith(f"/{ours['id']}") for w in touched), touched


def test_duplicates_are_cleaned_up_and_every_page_is_searched(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.add_comment(REPO, 5, f"{MARKER}\nolder")
    for n in range(230):
        server.add_comment(REPO, 5, f"chatter {n}", user="alice")
    newest = server.add_comment(REPO, 5, f"{MARKER}\nnewest")  # on the third page
    publish(pr, server, capsys)
    ours = [c for c in server.comments(REPO, 5) if c["user"]["login"] == "covtool-bot"]
    assert [c["id"] for c in ours] == [newest["id"]]
    assert ours[0]["body"] == bot_post(pr) and len(server.comments(REPO, 5)) == 231
    assert len(server.logged(COMMENTS)) == 3  # 100 per page


# -- faults ---------------------------------------------------------------------------------------
def test_a_502_is_retried(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(Reply.server_error(502), path=COMMENTS)
    result = publish(pr, server, capsys)
    assert result.exit_code == ExitCode.GATE_FAILED, result.stderr
    assert len(server.comments(REPO, 5)) == 1
    assert [r.method for r in server.logged(COMMENTS)] == ["GET", "GET", "POST"]


def test_a_rate_limit_is_waited_out_within_the_bound(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(Reply.rate_limited(reset_in=1), path=COMMENTS)
    started = time.monotonic()
    result = publish(pr, server, capsys, "--github-max-wait", "10")
    took = time.monotonic() - started
    assert result.exit_code == ExitCode.GATE_FAILED, result.stderr
    assert len(server.comments(REPO, 5)) == 1
    assert 0.4 < took < 8, took


def test_a_rate_limit_beyond_the_bound_fails_after_the_artifacts(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(Reply.rate_limited(reset_in=600), path=COMMENTS)
    started = time.monotonic()
    result = publish(pr, server, capsys, "--github-max-wait", "5")
    assert time.monotonic() - started < 5
    assert result.exit_code == ExitCode.SERVICE_ERROR
    assert "longer than github_max_wait allows (5 s)" in result.stderr
    assert bot_post(pr).startswith(MARKER)


def test_an_unknown_pull_request_is_a_clear_error_after_the_artifacts(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = publish(pr, server, capsys, number=6)
    assert result.exit_code == ExitCode.SERVICE_ERROR
    error = result.stderr.splitlines()[-1]
    assert error.startswith(
        f"covtool: error: GitHub GET /repos/{REPO}/issues/6/comments?per_page=100: 404 Not Found"
    ), error
    assert "check the repository and pull request number" in error
    assert bot_post(pr).startswith(MARKER)
    assert f"wrote {pr.root.parent / 'artifacts' / 'bot-post'}" in result.stderr


def test_the_token_never_appears(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(Reply.error(401, "Bad credentials"), path=COMMENTS)
    result = publish(pr, server, capsys)
    assert result.exit_code == ExitCode.SERVICE_ERROR
    everything = result.stdout + result.stderr
    everything += "".join(p.read_text() for p in (pr.root.parent / "artifacts").iterdir())
    assert TOKEN not in everything and "ghp_" not in everything


# -- who covtool is -------------------------------------------------------------------------------
def test_a_github_app_token_needs_the_username(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    refusal = Reply.error(403, "Resource not accessible by integration")
    server.enqueue(refusal, path="^/user$")
    result = publish(pr, server, capsys)
    assert result.exit_code == ExitCode.USAGE_ERROR
    assert "set covbot_username" in result.stderr
    server.enqueue(refusal, path="^/user$")
    named = publish(pr, server, capsys, "--covbot-username", "covtool-bot")
    assert named.exit_code == ExitCode.GATE_FAILED and len(server.comments(REPO, 5)) == 1


def test_a_username_that_is_not_the_tokens_is_refused(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.add_comment(REPO, 5, f"{MARKER}\nalice's", user="alice")
    result = publish(pr, server, capsys, "--covbot-username", "alice")
    assert result.exit_code == ExitCode.USAGE_ERROR
    assert "covbot_username is 'alice', but the GitHub token belongs to 'covtool-bot'" in (
        result.stderr
    )
    assert [c["body"] for c in server.comments(REPO, 5)] == [f"{MARKER}\nalice's"]


def test_publishing_needs_a_token_and_a_pull_request(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    anonymous = publish(pr, server, capsys, "--github-token", "")
    assert anonymous.exit_code == ExitCode.USAGE_ERROR
    assert "publishing to GitHub needs a token: set github_token_path" in anonymous.stderr
    no_pull = publish(pr, server, capsys, "--github-repo", "")
    assert no_pull.exit_code == ExitCode.USAGE_ERROR
    assert "publishing to GitHub needs a pull request: set github_repo" in no_pull.stderr


def test_a_dry_run_talks_to_nobody(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = publish(pr, server, capsys, "--dry-run")
    assert result.exit_code == ExitCode.GATE_FAILED
    assert result.stdout.startswith(MARKER)
    assert server.requests == []
    assert not (pr.root.parent / "artifacts").exists()


def test_an_artifacts_directory_that_cannot_be_written_is_one_line(
    pr: PullRequest, server: GitHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    (pr.root.parent / "artifacts").write_text("a file where the directory should be")
    result = publish(pr, server, capsys)
    assert result.exit_code == ExitCode.USAGE_ERROR
    assert result.stderr.startswith(f"covtool: error: cannot write {pr.root.parent}/artifacts/")
    assert result.stderr.count("\n") == 1
    assert server.requests == []  # nothing is published without its artifact
