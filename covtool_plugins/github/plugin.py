"""The GitHub plugin: a pull request's changed files, its comment and its commit status.

It claims ``covtool_changed_files`` when the ``changes`` setting is ``github``, or when it is
empty (automatic) and a pull request is known: ``github_repo`` and ``pull_number``, or
Prow's ``REPO_OWNER``, ``REPO_NAME`` and ``PULL_NUMBER``. Otherwise it steps aside for git.

When a workflow publishes a comparison (``covtool comment``; a report with ``publish``
set), ``covtool_report_ready`` posts the rendered ``comment`` artifact as the pull request's
sticky comment and sets the commit status.

How GitHub is reached (endpoint, token file, retries, errors) is ``client.py``; the files
are read in ``pulls.py``, the comment kept in ``comments.py``, the status set in
``status.py``.
"""

from __future__ import annotations

import re

from covtool import Artifact, ChangeSet, Parser, Report, Run, UsageError, hookimpl, job_name, views
from covtool_plugins.github.client import DEFAULT_ENDPOINT, GitHubClient
from covtool_plugins.github.comments import MODES, StickyComment, authenticated_login
from covtool_plugins.github.pulls import PullTarget, pull_changes
from covtool_plugins.github.status import post_status, status_of

#: The format whose artifact is the comment's body.
COMMENT_FORMAT = "comment"

_REPO = re.compile(r"([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)")


@hookimpl
def covtool_addoption(parser: Parser) -> None:
    """Declare where GitHub is, how to authenticate, and which pull request to read."""
    parser.addoption(
        "github_endpoint",
        default=DEFAULT_ENDPOINT,
        help="GitHub's REST API: api.github.com, a ghproxy, or GitHub Enterprise "
        "(https://HOST/api/v3).",
    )
    parser.addoption(
        "github_token_path",
        type="path",
        default="",
        help="File holding the GitHub token (Prow mounts secrets as files); "
        "none: anonymous requests.",
        aliases=("github-token",),
    )
    parser.addoption(
        "github_max_wait",
        type="float",
        default=60.0,
        help="Seconds a run may spend waiting out GitHub rate limits before it fails.",
    )
    parser.addoption(
        "github_repo",
        default="",
        help="The pull request's repository, OWNER/REPO (default: Prow's REPO_OWNER/REPO_NAME).",
    )
    parser.addoption(
        "pull_number",
        type="int",
        default=0,
        help="The pull request's number (default: Prow's PULL_NUMBER).",
    )
    parser.addoption(
        "comment_mode",
        default="update",
        choices=MODES,
        help="How the PR comment is kept: update it in place, post a new one (deleting the "
        "old), post it once, or off.",
    )
    parser.addoption(
        "covbot_username",
        default="",
        help="The login covtool comments as; needed only when the token may not tell "
        "(a GitHub App: my-app[bot]), else it must be the token's own.",
    )
    parser.addoption(
        "commit_status",
        type="bool",
        default=True,
        help="Set a commit status on the pull request's head (success, or failure when the "
        "gate fails).",
    )
    parser.addoption(
        "status_context",
        default="covtool/{job}",
        help="The commit status's context; {job} is the job's name.",
    )


@hookimpl(tryfirst=True)
def covtool_changed_files(run: Run) -> ChangeSet | None:
    """The pull request's files from GitHub, when ``changes`` is ``github`` or automatic
    with a pull request known; None otherwise (git answers then)."""
    mode = run.config.get("changes")
    if mode not in ("", "github"):
        return None
    target = pull_target(run)
    if target is None:
        if mode == "github":
            raise UsageError(f"changes=github needs a pull request: {missing(run)}")
        return None
    with GitHubClient.from_run(run) as client:
        return pull_changes(run, client, target)


def pull_target(run: Run) -> PullTarget | None:
    """The pull request the settings or Prow's environment name; None if either part is
    missing."""
    repo, number = repository(run), pull_number(run)
    if not repo or not number:
        return None
    match = _REPO.fullmatch(repo)
    if match is None:
        where = "github_repo" if run.config.get("github_repo") else "REPO_OWNER/REPO_NAME"
        raise UsageError(f"{where}: expected OWNER/REPO, got {repo!r}")
    return PullTarget(match[1], match[2], number)


def repository(run: Run) -> str:
    """``github_repo``, else Prow's ``REPO_OWNER/REPO_NAME``; empty when neither is set."""
    configured: str = run.config.get("github_repo").strip()
    if configured:
        return configured
    owner, name = run.environ.get("REPO_OWNER", ""), run.environ.get("REPO_NAME", "")
    return f"{owner}/{name}" if owner and name else ""


def pull_number(run: Run) -> int:
    """``pull_number``, else Prow's ``PULL_NUMBER``; 0 when neither is set."""
    configured: int = run.config.get("pull_number")
    if configured < 0:
        raise UsageError(f"pull_number: expected a pull request number, got {configured}")
    if configured:
        return configured
    text = run.environ.get("PULL_NUMBER", "").strip()
    if not text:
        return 0
    if not text.isdigit():
        raise UsageError(
            f"environment variable PULL_NUMBER: expected a pull request number, got {text!r}"
        )
    return int(text)


def missing(run: Run) -> str:
    """What to set so that a pull request is known, in one clause."""
    needed = []
    if not repository(run):
        needed.append("github_repo (OWNER/REPO; in Prow: REPO_OWNER and REPO_NAME)")
    if not pull_number(run):
        needed.append("pull_number (in Prow: PULL_NUMBER)")
    return "set " + " and ".join(needed)


@hookimpl
def covtool_report_ready(report: Report, artifacts: list[Artifact], run: Run) -> None:
    """Post the comment and set the commit status of a published comparison."""
    if not report.publish or report.diff is None:
        return
    comment = next((a for a in artifacts if a.format == COMMENT_FORMAT), None)
    mode = run.config.get("comment_mode") if comment is not None else "off"
    status = status_of(report, run) if run.config.get("commit_status") else None
    if run.config.get("commit_status") and status is None:
        run.warn("no commit status: the commit measured is unknown (set PULL_PULL_SHA)")
    if mode == "off" and status is None:
        return
    target = pull_target(run)
    if target is None:
        raise UsageError(f"publishing to GitHub needs a pull request: {missing(run)}")
    with GitHubClient.from_run(run) as client:
        if not client.authenticated:
            raise UsageError(
                "publishing to GitHub needs a token: set github_token_path (--github-token) "
                "to the file that holds it"
            )
        if comment is not None and mode != "off":
            login = authenticated_login(client, run.config.get("covbot_username"))
            sticky = StickyComment(client, target, views.comment_marker(job_name(run)), login)
            body = "".join(comment.text_chunks())
            nothing = views.nothing_to_report(report.diff, report.verdicts)
            run.outcome(sticky.publish(body, mode, nothing).describe())
        if status is not None:
            post_status(client, target, status)
            run.outcome(status.describe())
