"""The pull request's previous build: what a presubmit also compares with, so that an
author sees what their latest push alone did to coverage.

In a Prow presubmit the builds of this job for this pull request are searched, in Prow's
layout (``pr-logs/pull/<org>_<repo>/<pr>/<job>/``, the ``pr_path_pattern`` setting) in the
store of the job's builds (``--presubmit-store``, else the baseline's store). Outside Prow
the local runs recorded for the current branch are (``branches/<branch>/<job>/`` in
``.covtool/store``, or ``--presubmit-store``); ``covtool run`` records each local run there.

The health rules are the baseline's (``covtool_plugins.discovery``), with three more: this
build itself is skipped, and so is every build of this same commit (a re-test is no earlier
push). And a presubmit's job fails when its gate fails, which Prow's ``finished.json`` then
reports; a build whose ``covtool.json`` says its tests passed, and which wrote its completion
marker, holds a whole profile all the same, so its failure does not disqualify it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from covtool import (
    PreviousBuild,
    Run,
    build_commit,
    build_id,
    builds_store_url,
    current_branch,
    hookimpl,
    job_name,
    layout,
    open_store,
)
from covtool_plugins.discovery import Discovery, Examined, passed, pull_refs, summary

#: What the search says when the pull request has no earlier build at all.
FIRST_RUN = "first run for this PR"
FIRST_LOCAL_RUN = "first recorded run on branch {branch}"
THIS_BUILD = "this build"
DETACHED = "no branch is checked out (a detached HEAD), and local runs are recorded per branch"


@hookimpl
def covtool_find_previous_build(run: Run) -> PreviousBuild | None:
    """The newest healthy earlier build of this job for this pull request (locally: of
    this branch), or why there is none; None outside a presubmit or local run."""
    where = _where(run)
    if where is None:
        return None
    directory, first_run = where
    if not directory:
        return PreviousBuild(None, first_run)
    store = open_store(run, builds_store_url(run))
    search = PreviousDiscovery(
        run, store, job_name(run), directory, build_commit(run), build_id(run)
    )
    return search.lookup(first_run)


def _where(run: Run) -> tuple[str, str] | None:
    """The directory of this job's earlier builds, and how a first run is described; no
    directory, and the reason, on a detached HEAD."""
    env = run.environ
    job_type = env.get("JOB_TYPE")
    if job_type == "presubmit":
        org, repo, pr = env.get("REPO_OWNER"), env.get("REPO_NAME"), env.get("PULL_NUMBER")
        if not (org and repo and pr):
            return None
        pattern = run.config.get("pr_path_pattern")
        return layout.pr_job_dir(pattern, org, repo, pr, job_name(run)), FIRST_RUN
    if job_type:
        return None
    branch = current_branch(run.root)
    if branch is None:
        return "", DETACHED
    directory = layout.branch_job_dir(branch, job_name(run))
    return directory, FIRST_LOCAL_RUN.format(branch=branch)


@dataclass
class PreviousDiscovery(Discovery):
    """The search for the previous build: this build and builds of this commit are skipped,
    and a failure after the tests passed (the gate) is no failure of the profile."""

    head: str | None = None
    own_build: str | None = None

    def lookup(self, first_run: str) -> PreviousBuild:
        """The previous build, or why there is none."""
        examined: Examined = []
        found = self.search(examined)
        if found is not None:
            return PreviousBuild(found, examined=found.examined)
        return PreviousBuild(None, *self._why_none(examined, first_run), tuple(examined))

    def _why_none(self, examined: Examined, first_run: str) -> tuple[str, bool]:
        """The reason there is no previous build, and whether this is the first run."""
        others = [(b, v) for b, v in examined if v not in (THIS_BUILD, "not a build id")]
        if not others:
            return first_run, True
        if all(v.startswith("the same commit") for _, v in others):
            builds = ", ".join(b for b, _ in others)
            return (
                f"{first_run}: no earlier commit was built (build {builds} tested this one)",
                True,
            )
        return f"no healthy earlier build ({summary(others)})", False

    def candidates(self, examined: Examined) -> list[str]:
        """The job's builds, newest first, but not this build."""
        found = super().candidates(examined)
        if self.own_build in found:
            examined.append((self.own_build, THIS_BUILD))
        return [build for build in found if build != self.own_build]

    def reject(
        self, finished: dict[str, Any] | None, metadata: dict[str, Any], commit: str | None
    ) -> str | None:
        """A build of this commit, or one whose tests failed."""
        if commit and self.head and commit == self.head:
            return f"the same commit as this build ({commit[:12]})"
        if (
            finished is not None
            and not passed(finished)
            and metadata.get("tests_passed") is not True
        ):
            return f"{layout.FINISHED} says it did not pass"
        return None

    def commit_of(
        self, finished: dict[str, Any] | None, started: dict[str, Any] | None
    ) -> str | None:
        """A presubmit build's commit from Prow's records: the pull request's head in
        ``started.json``'s ``pull`` (``main:abc,7:def``), else ``finished.json``'s."""
        refs = pull_refs(started)
        if len(refs) > 1:
            return refs[-1]
        return super().commit_of(finished, started)
