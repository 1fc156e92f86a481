"""A pull request's changed files from GitHub: the real githubkit client against a
GitHub-shaped server on loopback, and real git repositories where git fills in."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import time
import traceback
from pathlib import Path
from typing import Any

import pytest

from covtool import ChangeSet, ExitCode, Hunk, Run, ServiceError, UsageError
from covtool.plugins import AUTOLOAD_OFF
from covtool.startup import start
from covtool_plugins.github import client as github_client
from covtool_plugins.github import plugin
from github_server import FileChange, GitHubServer, Reply, paths
from support import GIT_ENV, Covtool, commit, git

TOKEN = "ghp_S3cr3tT0kenThatMustNeverBeSeen0123456"
ADDED = "@@ -0,0 +1,2 @@\n+package pkg\n+var x = 1"
REMOVED = "@@ -1,2 +0,0 @@\n-package pkg\n-var x = 1"
MODIFIED = "@@ -3,3 +3,3 @@ func f() {\n a := 1\n-b := 2\n+b := 3\n c := 4"
# Two hunks with context, worked out by hand: old line 12 became new lines 12-13; old line
# 41 went away, and in the new file it would have followed line 41.
TWO_HUNKS = (
    "@@ -10,7 +10,8 @@ func main() {\n"
    " \ta := 1\n \tb := 2\n-\tc := 3\n+\tc := 4\n+\td := 5\n \te := 6\n \tf := 7\n \tg := 8\n"
    "@@ -40,4 +41,3 @@ func other() {\n"
    " \tx := 1\n-\ty := 2\n \tz := 3\n \tw := 4"
)


# -- helpers ---------------------------------------------------------------------------------
def make_run(root: Path, environ: dict[str, str] | None = None, **flags: Any) -> Run:
    """A run as the CLI makes it, in ``root``, with only ``environ`` as the environment."""
    startup = start([], {AUTOLOAD_OFF: "1", **(environ or {})})
    startup.flags.update({"root": str(root), **flags})
    return startup.make_run()


def pr_run(root: Path, server: GitHubServer, **flags: Any) -> Run:
    """A run that reads pull request o/r#5 from ``server``."""
    settings = {"changes": "github", "github_endpoint": server.url, "github_repo": "o/r"}
    settings["pull_number"] = 5
    return make_run(root, **(settings | flags))


def changed_files(run: Run) -> ChangeSet:
    """What the hooks answer; the GitHub plugin must be the one that answered."""
    result = run.hook.covtool_changed_files(run=run)
    assert isinstance(result, ChangeSet) and result.source == "github", result
    return result


def failure(run: Run, kind: type[Exception] = ServiceError) -> str:
    """The one-line message of the error the hook raises."""
    with pytest.raises(kind) as caught:
        run.hook.covtool_changed_files(run=run)
    message = str(caught.value)
    assert "\n" not in message
    return message


def many_files(count: int) -> list[FileChange]:
    """``count`` files, cycling through added, removed, modified, renamed and changed."""
    files = []
    for i in range(count):
        name = f"pkg/f{i:04d}.go"
        files.append(
            [
                FileChange(name, "added", ADDED),
                FileChange(name, "removed", REMOVED),
                FileChange(name, "modified", MODIFIED),
                FileChange(name, "renamed", None, previous_filename=f"old/f{i:04d}.go"),
                FileChange(name, "changed", MODIFIED),
            ][i % 5]
        )
    return files


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fast_commit(
    repo: Path,
    parent: str,
    written: dict[str, str],
    deleted: list[str],
    moved: dict[str, str],
) -> str:
    """A commit on ``parent`` made by ``git fast-import``: thousands of files go into one
    pack in a fraction of the time ``git add`` takes to write them as loose objects. The
    branch moves to it; the work tree is left as it was (only the commits matter here)."""
    commands = [
        "commit refs/heads/main",
        "committer Test <test@example.com> 1700000000 +0000",
        "data 4",
        "head",
        f"from {parent}",
        *(f"R {old} {new}" for old, new in moved.items()),
        *(f"D {path}" for path in deleted),
    ]
    for path, text in written.items():
        commands += [f"M 100644 inline {path}", f"data {len(text.encode())}", text]
    subprocess.run(
        ["git", "-C", str(repo), "fast-import", "--quiet"],
        input="\n".join(commands) + "\n",
        text=True,
        check=True,
        env=os.environ | GIT_ENV,
    )
    return git(repo, "rev-parse", "HEAD")


def write(repo: Path, name: str, text: str | bytes) -> None:
    """Write a file (and its directories) in the work tree."""
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)


def lines(prefix: str, count: int) -> str:
    """``count`` numbered lines of text."""
    return "".join(f"{prefix} line {n}\n" for n in range(1, count + 1))


# -- pages -----------------------------------------------------------------------------------
def test_every_page_is_read_by_following_links(tmp_path: Path, github: GitHubServer) -> None:
    files = many_files(250)
    files[7] = FileChange("cmd/main.go", "modified", TWO_HUNKS)
    github.add_pull("o/r", 5, files, base_sha="a" * 40, head_sha="d" * 40)

    result = changed_files(pr_run(tmp_path, github))

    assert (result.base, result.head, result.notes) == ("a" * 40, "d" * 40, ())
    assert len(result.files) == 250
    assert [f.path for f in result.files] == [f.filename for f in files]
    statuses = [f.status for f in result.files]
    assert statuses[:6] == ["added", "deleted", "modified", "renamed", "modified", "added"]
    assert statuses.count("renamed") == 50 and statuses.count("modified") == 100
    renamed = result.files[3]
    assert (renamed.path, renamed.old_path, renamed.hunks) == ("pkg/f0003.go", "old/f0003.go", ())
    assert result.files[2].hunks == (Hunk(4, 1, 4, 1),)
    assert result.files[7].hunks == (Hunk(12, 1, 12, 2), Hunk(41, 1, 41, 0))
    assert all(f.old_path is None for f in result.files if f.status != "renamed")
    repo_id = github.repositories["o/r"].id
    assert list(paths(github.requests)) == [
        "/repos/o/r/pulls/5",
        "/repos/o/r/pulls/5/files?per_page=100",
        f"/repositories/{repo_id}/pulls/5/files?per_page=100&page=2",
        f"/repositories/{repo_id}/pulls/5/files?per_page=100&page=3",
    ]
    assert {r.headers["x-github-api-version"] for r in github.requests} == {"2022-11-28"}
    assert all(r.headers["user-agent"].startswith("covtool/") for r in github.requests)


def test_hunks_of_added_and_removed_files(tmp_path: Path, github: GitHubServer) -> None:
    github.add_pull("o/r", 5, many_files(2))
    added, removed = changed_files(pr_run(tmp_path, github)).files
    assert added.hunks == (Hunk(0, 0, 1, 2),)
    assert removed.hunks == (Hunk(1, 2, 0, 0),)


def test_three_thousand_files_are_listed_by_github(tmp_path: Path, github: GitHubServer) -> None:
    github.add_pull("o/r", 5, many_files(3000))
    result = changed_files(pr_run(tmp_path, github))
    assert len(result.files) == 3000 and result.notes == ()
    assert len(github.logged("/files$")) == 30


def test_unchanged_is_left_out_and_copied_is_added(tmp_path: Path, github: GitHubServer) -> None:
    github.add_pull(
        "o/r",
        5,
        [
            FileChange("same.go", "unchanged", additions=0, deletions=0),
            FileChange("copy.go", "copied", MODIFIED, previous_filename="orig.go"),
            FileChange("edited.go", "renamed", MODIFIED, previous_filename="orig2.go"),
        ],
    )
    files = changed_files(pr_run(tmp_path, github)).files
    assert [(f.path, f.status, f.old_path) for f in files] == [
        ("copy.go", "added", None),
        ("edited.go", "renamed", "orig2.go"),
    ]
    # No git repository here: a copy's lines are unknown (its patch is against its source).
    assert (files[0].hunks, files[1].hunks) == (None, (Hunk(4, 1, 4, 1),))


# -- where GitHub gives no patch, git does -----------------------------------------------------
@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, str]:
    """A git repository with a base and a head commit: an edited large file, an edited
    binary file, a copy and a pure rename. Returns the repository, base and head."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, "big.go", lines("big", 30))
    write(root, "logo.png", b"\x89PNG\r\n\x1a\n\x00\x01\x02binary")
    write(root, "orig.go", lines("orig", 5))
    write(root, "moved_from.go", lines("moved", 12))
    base = commit(root, "base")
    write(root, "big.go", lines("big", 30).replace("big line 7\n", "seven\nand more\n"))
    write(root, "logo.png", b"\x89PNG\r\n\x1a\n\x00\x03\x04binary")
    write(root, "copy.go", lines("orig", 5))
    git(root, "mv", "moved_from.go", "moved_to.go")
    head = commit(root, "head")
    return root, base, head


def missing_patches() -> list[FileChange]:
    return [
        FileChange("big.go", "modified", None, additions=2, deletions=1),  # "too large"
        FileChange("logo.png", "modified", None, additions=0, deletions=0),
        FileChange("copy.go", "copied", None, previous_filename="orig.go"),
        FileChange("moved_to.go", "renamed", None, previous_filename="moved_from.go"),
    ]


def test_git_gives_the_lines_github_leaves_out(
    repo: tuple[Path, str, str], github: GitHubServer
) -> None:
    root, base, head = repo
    github.add_pull("o/r", 5, missing_patches(), base_sha=base, head_sha=head)

    result = changed_files(pr_run(root, github))

    big, logo, copy, moved = result.files
    assert (result.base, result.head) == (base, head)
    assert (big.hunks, big.binary) == ((Hunk(7, 1, 7, 2),), False)
    assert (logo.status, logo.hunks, logo.binary) == ("modified", (), True)
    assert (copy.status, copy.hunks) == ("added", (Hunk(0, 0, 1, 5),))
    assert (moved.old_path, moved.hunks) == ("moved_from.go", ())


def test_prow_commits_are_preferred_and_unknown_commits_leave_lines_unknown(
    repo: tuple[Path, str, str], github: GitHubServer
) -> None:
    root, base, head = repo
    github.add_pull("o/r", 5, missing_patches(), base_sha=base, head_sha=head)
    unknown = {"PULL_BASE_SHA": "e" * 40, "PULL_PULL_SHA": head}
    run = make_run(
        root,
        unknown,
        changes="github",
        github_endpoint=github.url,
        github_repo="o/r",
        pull_number=5,
    )

    result = changed_files(run)

    assert (result.base, result.head) == ("e" * 40, head)
    big, logo, copy, moved = result.files
    assert (big.hunks, logo.hunks, logo.binary, copy.hunks) == (None, None, False, None)
    assert moved.hunks == ()  # a rename with no changes needs no git


# -- beyond 3,000 files ------------------------------------------------------------------------
def test_more_than_three_thousand_files_come_from_git(tmp_path: Path, github: GitHubServer) -> None:
    root = tmp_path / "big"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for name in ("mod0.go", "mod1.go", "del0.go", "del1.go", "old.go"):
        write(root, name, lines(name, 20))
    base = commit(root, "base")
    written = {f"gen/f{i:04d}.txt": f"generated file {i}\n" for i in range(3000)}
    written |= {"mod0.go": lines("mod0.go", 21), "mod1.go": lines("mod1.go", 19)}
    head = fast_commit(
        root, base, written, deleted=["del0.go", "del1.go"], moved={"old.go": "new.go"}
    )
    listed = [FileChange(f"gen/f{i:04d}.txt", "added", "@@ -0,0 +1 @@\n+x") for i in range(3000)]
    listed += [FileChange(f"mod{i}.go", "modified", MODIFIED) for i in range(2)]
    listed += [FileChange(f"del{i}.go", "removed", REMOVED) for i in range(2)]
    listed.append(FileChange("new.go", "renamed", previous_filename="old.go"))
    github.add_pull("o/r", 5, listed, base_sha=base, head_sha=head)
    prow = {"PULL_BASE_SHA": base, "PULL_PULL_SHA": head}
    run = make_run(root, prow, github_endpoint=github.url, github_repo="o/r", pull_number=5)

    result = changed_files(run)

    assert result.notes == (
        "GitHub lists at most 3,000 files; pull request #5 changed 3,005, so the list comes "
        "from git",
    )
    assert (result.source, result.base, result.head) == ("github", base, head)
    found = {(f.path, f.status, f.old_path) for f in result.files}
    expected = {(f.filename, f.status, f.previous_filename) for f in listed}
    expected = {(p, {"removed": "deleted"}.get(s, s), old) for p, s, old in expected}
    assert len(result.files) == 3005 and found == expected
    by_path = {f.path: f for f in result.files}
    assert by_path["mod0.go"].hunks == (Hunk(20, 0, 21, 1),)
    assert by_path["gen/f0042.txt"].hunks == (Hunk(0, 0, 1, 1),)
    assert list(paths(github.requests)) == ["/repos/o/r/pulls/5"]  # the list was not read


def test_more_than_three_thousand_files_without_git_names_both_reasons(
    tmp_path: Path, github: GitHubServer
) -> None:
    github.add_pull("o/r", 5, many_files(10), changed_files=3412, base_sha="f" * 40)
    message = failure(pr_run(tmp_path, github), UsageError)
    assert message.startswith(
        "GitHub lists at most 3,000 files and pull request #5 changed 3,412; git cannot "
        "list them either (git merge-base in "
    )
    assert message.endswith(f"): fetch the base commit {'f' * 40} into the clone")


# -- the token -----------------------------------------------------------------------------------
def test_token_is_read_from_a_file_sent_and_never_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token_file = tmp_path / "oauth"
    token_file.write_text(f"  {TOKEN}\n\n")
    with GitHubServer(token=TOKEN) as server:
        server.add_pull("o/r", 5, many_files(40))
        server.enqueue(Reply.server_error(502), path="/files")  # a retry logs a warning
        result = changed_files(pr_run(tmp_path, server, github_token_path=str(token_file)))
        sent = {r.headers.get("authorization") for r in server.requests}

        token_file.write_text("ghp_wrongButAlsoSecret\n")
        with pytest.raises(ServiceError) as caught:
            changed_files(pr_run(tmp_path, server, github_token_path=str(token_file)))

    assert len(result.files) == 40
    assert sent == {f"token {TOKEN}"}
    assert str(caught.value) == (
        "GitHub GET /repos/o/r/pulls/5: 401 Unauthorized (Bad credentials); GitHub refused "
        f"the token in {token_file}: is it valid and unexpired?"
    )
    shown = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    out, err = capsys.readouterr()
    for secret in (TOKEN, "ghp_wrongButAlsoSecret"):
        assert secret not in shown + out + err + caplog.text


def test_cli_takes_the_original_flag_name(covtool: Covtool) -> None:
    result = covtool("config", "--github-token", "/etc/github/oauth")
    assert "github_token_path = /etc/github/oauth  (flag --github-token-path" in result.stdout


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read the token file {}: No such file or directory"),
        ("\n", "the token file {} is empty"),
    ],
)
def test_token_file_problems_are_usage_errors(
    tmp_path: Path, github: GitHubServer, content: str | None, problem: str
) -> None:
    token_file = tmp_path / "token"
    if content is not None:
        token_file.write_text(content)
    github.add_pull("o/r", 5, many_files(1))
    run = pr_run(tmp_path, github, github_token_path=str(token_file))
    assert failure(run, UsageError) == "github_token_path: " + problem.format(token_file)
    assert github.requests == []


def test_a_required_token_that_is_missing_says_how_to_give_one(tmp_path: Path) -> None:
    with GitHubServer(token=TOKEN) as server:
        server.add_pull("o/r", 5, many_files(1))
        message = failure(pr_run(tmp_path, server))
    assert message == (
        "GitHub GET /repos/o/r/pulls/5: 401 Unauthorized (Requires authentication); this "
        "needs a token: set github_token_path (--github-token) to its file"
    )


# -- retries and rate limits ---------------------------------------------------------------------
def test_a_server_error_is_retried_after_a_pause(tmp_path: Path, github: GitHubServer) -> None:
    github.add_pull("o/r", 5, many_files(3))
    github.enqueue(Reply.server_error(502))
    assert len(changed_files(pr_run(tmp_path, github)).files) == 3
    first, second = github.logged("/pulls/5$")
    assert second.time - first.time >= github_client.BACKOFF


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Server errors retried after 10 ms instead of half a second, doubling all the same."""
    monkeypatch.setattr(github_client, "BACKOFF", 0.01)


@pytest.mark.usefixtures("quick_retries")
def test_server_errors_that_persist_fail_after_four_tries(
    tmp_path: Path, github: GitHubServer
) -> None:
    github.add_pull("o/r", 5, many_files(3))
    github.enqueue(*[Reply.server_error(503)] * 4)
    with pytest.raises(ServiceError) as caught:
        changed_files(pr_run(tmp_path, github))
    assert str(caught.value) == (
        "GitHub GET /repos/o/r/pulls/5: 503 Service Unavailable (Server Error) after 4 tries"
    )
    assert caught.value.exit_code == ExitCode.SERVICE_ERROR == 5
    assert len(github.requests) == 4


@pytest.mark.usefixtures("quick_retries")
def test_an_endpoint_that_does_not_answer(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    run = make_run(
        tmp_path, changes="github", github_endpoint=endpoint, github_repo="o/r", pull_number=5
    )
    message = failure(run)
    assert re.fullmatch(
        rf"GitHub GET /repos/o/r/pulls/5: cannot reach {endpoint} \(.*refused.*\) after 4 tries",
        message,
    ), message


@pytest.mark.parametrize(
    "limit",
    [Reply.rate_limited, lambda: Reply.rate_limited(status=429), Reply.secondary_rate_limited],
    ids=["primary-403", "primary-429", "secondary"],
)
def test_a_rate_limit_is_waited_out(tmp_path: Path, github: GitHubServer, limit: Any) -> None:
    github.add_pull("o/r", 5, many_files(3))
    reply: Reply = limit()
    github.enqueue(reply)
    started = time.time()
    assert len(changed_files(pr_run(tmp_path, github)).files) == 3
    first, second = github.logged("/pulls/5$")
    if "Retry-After" in reply.headers:
        assert second.time - first.time >= 1.0
    else:
        assert second.time >= int(reply.headers["X-RateLimit-Reset"]) - 0.05
    assert time.time() - started < 5


def test_a_rate_limit_beyond_the_bound_fails_at_once(tmp_path: Path, github: GitHubServer) -> None:
    github.add_pull("o/r", 5, many_files(3))
    github.enqueue(Reply.rate_limited(reset_in=3600))
    started = time.time()
    message = failure(pr_run(tmp_path, github))
    assert time.time() - started < 1
    assert re.fullmatch(
        r"GitHub GET /repos/o/r/pulls/5: 403 Forbidden \(API rate limit exceeded for user ID "
        r"1\.\); the rate limit resets at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, in 3[56]\d\d s, "
        r"longer than github_max_wait allows \(60 s\)",
        message,
    ), message
    assert len(github.requests) == 1


def test_rate_limit_waits_add_up_to_the_bound(tmp_path: Path, github: GitHubServer) -> None:
    github.add_pull("o/r", 5, many_files(150))
    github.enqueue(Reply.secondary_rate_limited(1), path="/pulls/5$")
    github.enqueue(Reply.secondary_rate_limited(1), path="/files$")
    message = failure(pr_run(tmp_path, github, github_max_wait=1.5))
    assert message.endswith("longer than github_max_wait allows (1.5 s, 1 s of it already spent)")
    assert message.startswith(
        "GitHub GET /repos/o/r/pulls/5/files?per_page=100: 403 Forbidden (You have exceeded a "
        "secondary rate limit. Please wait a few minutes before you try again.); the rate "
        "limit resets at "
    )


# -- errors and endpoints ------------------------------------------------------------------------
def test_an_unknown_pull_request_is_one_clear_line(tmp_path: Path, github: GitHubServer) -> None:
    github.add_pull("o/r", 5, many_files(3))
    with pytest.raises(ServiceError) as caught:
        changed_files(pr_run(tmp_path, github, pull_number=99))
    assert caught.value.exit_code == 5
    assert str(caught.value) == (
        "GitHub GET /repos/o/r/pulls/99: 404 Not Found; check the repository and pull request "
        f"number, the endpoint ({github.url}), and give a token (github_token_path) for a "
        "private repository"
    )


def test_an_answer_that_is_not_json(tmp_path: Path, github: GitHubServer) -> None:
    """A proxy's HTML page where the API's JSON should be."""
    github.add_pull("o/r", 5, many_files(3))
    github.enqueue(Reply(200, b"<html>sign in</html>", {"Content-Type": "text/html"}))
    assert failure(pr_run(tmp_path, github)) == (
        "GitHub GET /repos/o/r/pulls/5: the answer is not JSON (text/html)"
    )


def test_github_enterprise_path_prefix(tmp_path: Path) -> None:
    with GitHubServer(prefix="/api/v3") as server:
        server.add_pull("o/r", 5, many_files(150))
        assert server.url.endswith("/api/v3")
        result = changed_files(pr_run(tmp_path, server))
    assert len(result.files) == 150
    repo_id = server.repositories["o/r"].id
    assert list(paths(server.requests)) == [
        "/api/v3/repos/o/r/pulls/5",
        "/api/v3/repos/o/r/pulls/5/files?per_page=100",
        f"/api/v3/repositories/{repo_id}/pulls/5/files?per_page=100&page=2",
    ]


def test_links_to_another_host_are_followed_on_the_endpoint(tmp_path: Path) -> None:
    """Behind ghproxy, GitHub's links name GitHub itself; the token stays with the proxy."""
    elsewhere = f"http://127.0.0.1:{closed_port()}"
    with GitHubServer(link_base=elsewhere) as server:
        server.add_pull("o/r", 5, many_files(250))
        result = changed_files(pr_run(tmp_path, server))
    assert len(result.files) == 250
    assert len(server.logged("/files$")) == 3


@pytest.mark.parametrize(
    ("link", "endpoint", "followed"),
    [
        # ghproxy relays GitHub's own links: they go to the proxy instead
        (
            "https://api.github.com/repositories/1/pulls/5/files?page=2",
            "http://ghproxy:8888",
            "http://ghproxy:8888/repositories/1/pulls/5/files?page=2",
        ),
        # GitHub Enterprise links on its own host are followed as they are
        (
            "https://ghe.example/api/v3/repositories/1/issues?page=3",
            "https://ghe.example/api/v3",
            "https://ghe.example/api/v3/repositories/1/issues?page=3",
        ),
        # a proxy in front of GitHub Enterprise keeps the /api/v3 prefix once
        (
            "https://ghe.example/api/v3/repositories/1/issues?page=3",
            "http://ghproxy/api/v3",
            "http://ghproxy/api/v3/repositories/1/issues?page=3",
        ),
        (
            "https://api.github.com/repositories/1/issues?page=3",
            "http://ghproxy/api/v3",
            "http://ghproxy/api/v3/repositories/1/issues?page=3",
        ),
    ],
)
def test_links_are_rebased_onto_the_endpoint(link: str, endpoint: str, followed: str) -> None:
    header = f'<{link}>; rel="next", <{link}>; rel="last"'
    assert github_client.rebase_links(header, endpoint) == (
        f'<{followed}>; rel="next", <{followed}>; rel="last"'
    )


def test_a_bad_endpoint_is_a_usage_error(tmp_path: Path) -> None:
    run = make_run(
        tmp_path,
        changes="github",
        github_endpoint="api.github.com",
        github_repo="o/r",
        pull_number=5,
    )
    assert failure(run, UsageError) == (
        "github_endpoint: expected an http(s) URL such as https://api.github.com or "
        "https://ghe.example/api/v3, got 'api.github.com'"
    )


# -- when the plugin claims the call ---------------------------------------------------------------
PROW = {
    "JOB_TYPE": "presubmit",
    "REPO_OWNER": "o",
    "REPO_NAME": "r",
    "PULL_NUMBER": "5",
    "PULL_BASE_REF": "main",
}


def test_automatic_in_a_prow_presubmit(tmp_path: Path, github: GitHubServer) -> None:
    github.add_pull("o/r", 5, many_files(3))
    run = make_run(tmp_path, PROW, github_endpoint=github.url)
    assert run.config.get("changes") == ""
    assert len(changed_files(run).files) == 3


def test_automatic_with_settings_instead_of_prow(tmp_path: Path, github: GitHubServer) -> None:
    github.add_pull("o/r", 7, many_files(2))
    run = make_run(tmp_path, github_endpoint=github.url, github_repo="o/r", pull_number=7)
    assert len(changed_files(run).files) == 2


@pytest.mark.parametrize(
    ("environ", "flags"),
    [
        ({k: v for k, v in PROW.items() if k != "PULL_NUMBER"} | {"JOB_TYPE": "postsubmit"}, {}),
        ({}, {"github_repo": "o/r"}),
        ({}, {"pull_number": 5}),
        (PROW, {"changes": "git"}),
        (PROW, {"changes": "none"}),
    ],
    ids=["postsubmit", "no-number", "no-repo", "changes-git", "changes-none"],
)
def test_steps_aside_without_a_pull_request_or_for_another_source(
    tmp_path: Path, github: GitHubServer, environ: dict[str, str], flags: dict[str, Any]
) -> None:
    run = make_run(tmp_path, environ, github_endpoint=github.url, **flags)
    assert plugin.covtool_changed_files(run) is None
    assert github.requests == []


@pytest.mark.parametrize(
    ("environ", "flags", "message"),
    [
        (
            {},
            {"changes": "github"},
            "changes=github needs a pull request: set github_repo (OWNER/REPO; in Prow: "
            "REPO_OWNER and REPO_NAME) and pull_number (in Prow: PULL_NUMBER)",
        ),
        (
            {"REPO_OWNER": "o", "REPO_NAME": "r"},
            {"changes": "github"},
            "changes=github needs a pull request: set pull_number (in Prow: PULL_NUMBER)",
        ),
        (
            {},
            {"github_repo": "just-a-name", "pull_number": 5},
            "github_repo: expected OWNER/REPO, got 'just-a-name'",
        ),
        (
            PROW | {"PULL_NUMBER": "five"},
            {},
            "environment variable PULL_NUMBER: expected a pull request number, got 'five'",
        ),
    ],
    ids=["nothing", "no-number", "bad-repo", "bad-prow-number"],
)
def test_what_to_set_is_a_usage_error(
    tmp_path: Path, environ: dict[str, str], flags: dict[str, Any], message: str
) -> None:
    run = make_run(tmp_path, environ, **flags)
    assert failure(run, UsageError) == message
