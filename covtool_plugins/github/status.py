"""The commit status on the pull request's head: success or failure of the coverage gate.

Context ``covtool/<job>`` (the ``status_context`` setting), a one-line description (GitHub
keeps at most 140 characters) and the line-by-line HTML as target URL when it has one. The
commit is Prow's ``PULL_PULL_SHA``, else the head of the change set, else the checkout's
``HEAD`` — never the pull request's head as GitHub reports it now, which may be a newer push
than the one measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from covtool import Report, Run, gate_failed, git, html_url, job_name, views
from covtool_plugins.github.client import GitHubClient
from covtool_plugins.github.pulls import PullTarget

#: GitHub refuses a longer description.
DESCRIPTION_LIMIT = 140


@dataclass(frozen=True)
class Status:
    """A commit status to set."""

    sha: str
    state: str
    context: str
    description: str
    target_url: str | None

    def describe(self) -> str:
        """One line for the log."""
        return f"commit status {self.context} on {self.sha[:7]}: {self.state} ({self.description})"


def status_of(report: Report, run: Run) -> Status | None:
    """The status a report sets; None when the commit is unknown."""
    assert report.diff is not None
    sha = head_commit(report, run)
    if sha is None:
        return None
    verdicts = report.verdicts or ()
    context = run.config.get("status_context").replace("{job}", job_name(run))
    return Status(
        sha=sha,
        state="failure" if gate_failed(verdicts) else "success",
        context=context,
        description=views.status_description(report.diff, verdicts, DESCRIPTION_LIMIT),
        target_url=html_url(run),
    )


def head_commit(report: Report, run: Run) -> str | None:
    """The commit measured: ``PULL_PULL_SHA``, the change set's head, or ``HEAD``."""
    changes = report.diff.changes if report.diff else None
    return (
        run.environ.get("PULL_PULL_SHA")
        or (changes.head if changes else None)
        or git(run.repository, "rev-parse", "HEAD")
    )


def post_status(client: GitHubClient, target: PullTarget, status: Status) -> None:
    """Set ``status`` on its commit."""
    github = client.github
    data: dict[str, Any] = {
        "state": status.state,
        "context": status.context,
        "description": status.description,
    }
    if status.target_url:
        data["target_url"] = status.target_url
    client.call(
        lambda: github.rest.repos.create_commit_status(
            target.owner, target.repo, status.sha, data=cast(Any, data)
        )
    )
