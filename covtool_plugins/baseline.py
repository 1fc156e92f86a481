"""Baseline discovery: the newest healthy build of the postsubmit job, in Prow's layout.

Where: the store named by ``--baseline`` (a path, ``file://`` or ``gs://bucket/prefix``), or
``gs://BUCKET`` from the original tool's ``--postsubmit-gcs-bucket``, else the local store
``.covtool/store`` in the repository. Which job: ``--postsubmit-job-name``, by default the
presubmit's name (``job_name``, else ``JOB_NAME``) with ``pull-`` turned into ``post-``
(``local`` outside Prow).

Which build: the newest healthy one, found as ``covtool_plugins.discovery`` describes (the
completion marker, a ``finished.json`` that says it passed, a readable profile). A build
whose ``covtool.json`` records another branch than the base (``--base-branch``, else
``PULL_BASE_REF``, else main or master) is skipped, so a postsubmit job that also runs on
release branches, or a local build saved from a feature branch, is never the baseline of a
change to main. How many commits the baseline is behind the pull
request's base is asked of git; ``--baseline-max-behind`` makes a staler baseline an error.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from covtool import (
    Baseline,
    Parser,
    Run,
    UsageError,
    git,
    hookimpl,
    job_name,
    layout,
    open_store,
    store_url,
)
from covtool_plugins.discovery import Discovery


@hookimpl
def covtool_addoption(parser: Parser) -> None:
    """Declare where baselines are found and how they are chosen."""
    parser.addoption(
        "postsubmit_job_name",
        default="",
        help="Job whose builds are baselines (default: JOB_NAME with pull- made post-; "
        "local outside Prow).",
    )
    parser.addoption(
        "baseline_max_builds",
        type="int",
        default=50,
        help="How many of the newest builds to look at for a healthy one.",
    )
    parser.addoption(
        "baseline_max_behind",
        type="int",
        default=0,
        help="Refuse a baseline more commits than this behind the base (0: any).",
    )
    parser.addoption(
        "base_branch",
        default="",
        help="Branch a local change is compared with (default: PULL_BASE_REF, else main).",
    )


@hookimpl
def covtool_load_baseline(run: Run) -> Baseline:
    """The newest healthy build of the postsubmit job, with its profile."""
    store = open_store(run, store_url(run))
    job = postsubmit_job(run)
    directory = layout.job_dir(job)
    baseline = BaselineDiscovery(run, store, job, directory, expected_branch(run)).find()
    behind = commits_behind(run, baseline.commit)
    limit = run.config.get("baseline_max_behind")
    if limit and behind is not None and behind > limit:
        raise UsageError(
            f"the baseline, build {baseline.build_id} of {job} (commit {baseline.commit}), is "
            f"{behind} commits behind the base; baseline_max_behind is {limit}"
        )
    return dataclasses.replace(baseline, commits_behind=behind)


def postsubmit_job(run: Run) -> str:
    """The configured job, or the presubmit's own name turned into the postsubmit's."""
    job: str = run.config.get("postsubmit_job_name")
    if job:
        return job
    presubmit = job_name(run)
    if presubmit.startswith("pull-"):
        return "post-" + presubmit.removeprefix("pull-")
    return presubmit


@dataclass
class BaselineDiscovery(Discovery):
    """The search for a baseline: builds of other branches are skipped too."""

    #: The branch a baseline must have been built from, when known.
    branch: str | None = None

    def reject(
        self, finished: dict[str, Any] | None, metadata: dict[str, Any], commit: str | None
    ) -> str | None:
        """A failed build, or one of another branch than the base."""
        return super().reject(finished, metadata, commit) or self._elsewhere(metadata)

    def _elsewhere(self, metadata: dict[str, Any]) -> str | None:
        """Why a build is not of the base branch, or None when it is (or nobody can tell).

        A recorded branch must be the base branch; a build made on a detached HEAD must
        have its commit in the base branch's history, when git knows that commit.
        """
        recorded, commit = metadata.get("branch"), metadata.get("commit")
        if not self.branch or not isinstance(recorded, str) or not recorded:
            return None
        base = self.branch.removeprefix("origin/")
        if recorded != "HEAD":
            recorded = recorded.removeprefix("origin/")
            return None if recorded == base else f"built from branch {recorded}, not {base}"
        root = self.run.root
        if not isinstance(commit, str) or not git(root, "cat-file", "-t", commit):
            return None
        if not git(root, "rev-parse", "--verify", "--quiet", self.branch):
            return None
        on_base = git(root, "merge-base", "--is-ancestor", commit, self.branch) is not None
        return None if on_base else f"commit {commit[:12]} is not on branch {base}"


def expected_branch(run: Run) -> str | None:
    """The branch a baseline must come from: ``--base-branch``, else Prow's
    ``PULL_BASE_REF``, else, outside Prow, the first of main and master that exists."""
    configured: str = run.config.get("base_branch") or run.environ.get("PULL_BASE_REF", "")
    if configured or run.environ.get("JOB_TYPE"):
        return configured or None
    for branch in ("main", "master"):
        if git(run.root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"):
            return branch
    return None


def commits_behind(run: Run, commit: str | None) -> int | None:
    """How many commits ``commit`` is behind the base (``PULL_BASE_SHA``, else the
    merge-base of HEAD with the base branch); None when git cannot tell."""
    if not commit:
        return None
    base = run.environ.get("PULL_BASE_SHA") or _merge_base(run)
    if not base:
        return None
    count = git(run.root, "rev-list", "--count", f"{commit}..{base}")
    return int(count) if count and count.isdigit() else None


def _merge_base(run: Run) -> str | None:
    branch = run.config.get("base_branch") or run.environ.get("PULL_BASE_REF") or "main"
    return git(run.root, "merge-base", "HEAD", branch)
