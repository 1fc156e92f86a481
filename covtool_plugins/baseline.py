"""Baseline discovery: the newest healthy build of the postsubmit job, in Prow's layout.

Where: the store named by ``--baseline`` (a path, ``file://`` or ``gs://bucket/prefix``), or
``gs://BUCKET`` from the original tool's ``--postsubmit-gcs-bucket``, else the local store
``.covtool/store`` in the repository. Which job: ``--postsubmit-job-name``, by default the
presubmit's name (``job_name``, else ``JOB_NAME``) with ``pull-`` turned into ``post-``
(``local`` outside Prow).

A build is *healthy* when its completion marker (``artifacts/profile-completed``) exists and,
when it has a ``finished.json``, that says it passed. ``latest-build.txt`` is tried first;
then build ids from the listing, compared as numbers, newest first, at most
``--baseline-max-builds`` of them. A healthy build whose profile cannot be read is skipped
with a warning. A build whose ``covtool.json`` records another branch than the base
(``--base-branch``, else ``PULL_BASE_REF``, else main or master) is skipped, so a postsubmit
job that also runs on release branches, or a local build saved from a feature branch, is
never the baseline of a change to main. The build's ``covtool.json`` names its profile and
commit (``finished.json``'s ``revision`` and ``started.json``'s ``pull`` are the fallbacks
for builds covtool did not write). How many commits the baseline is behind the pull
request's base is asked of git; ``--baseline-max-behind`` makes a staler baseline an error.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from covtool import (
    Baseline,
    InputError,
    Parser,
    Run,
    Storage,
    UsageError,
    git,
    hookimpl,
    job_name,
    layout,
    open_store,
    parse_bytes,
    store_url,
)

HEALTHY = "healthy"


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
    baseline = Discovery(run, store, job, expected_branch(run)).find()
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
class Discovery:
    """One search of a job's builds for the newest healthy one."""

    run: Run
    store: Storage
    job: str
    #: The branch a baseline must have been built from, when known.
    branch: str | None = None

    def find(self) -> Baseline:
        examined: list[tuple[str, str]] = []
        for build in self.candidates(examined):
            verdict, baseline = self.examine(build)
            examined.append((build, verdict))
            if baseline is not None:
                return dataclasses.replace(baseline, examined=tuple(examined))
        looked = sum(1 for _, verdict in examined if not verdict.startswith("not a build"))
        raise InputError(
            self.store.url,
            f"no healthy build of job {self.job!r}: looked at {looked} build(s) under "
            f"{layout.job_dir(self.job)} ({_summary(examined)}); a healthy build has "
            f"artifacts/{self.run.config.get('marker_name')} and, if it has {layout.FINISHED}, "
            "one that says it passed",
        )

    def candidates(self, examined: list[tuple[str, str]]) -> list[str]:
        """``latest-build.txt`` first, then the listed build ids, newest first, bounded."""
        directory = layout.job_dir(self.job)
        _, prefixes = self.store.list(directory)
        ids, others = layout.build_ids(prefixes, directory)
        examined.extend((name, "not a build id") for name in others)
        latest = self._latest()
        ordered = ([latest] if latest in ids else []) + [b for b in ids if b != latest]
        return ordered[: max(self.run.config.get("baseline_max_builds"), 1)]

    def _latest(self) -> str | None:
        try:
            text = self.store.read(layout.job_dir(self.job) + layout.LATEST_BUILD).decode(
                "utf-8", "replace"
            )
        except KeyError:
            return None
        return text.strip() or None

    def examine(self, build: str) -> tuple[str, Baseline | None]:
        """The verdict on one build, and the baseline when it is healthy and readable."""
        directory = layout.build_dir(layout.job_dir(self.job), build)
        marker = self.run.config.get("marker_name")
        if not self.store.exists(directory + layout.ARTIFACTS + marker):
            return f"no artifacts/{marker}", None
        finished = self._json(directory + layout.FINISHED)
        if finished is not None and not _passed(finished):
            return f"{layout.FINISHED} says it did not pass", None
        metadata = (
            self._json(directory + layout.ARTIFACTS + self.run.config.get("metadata_name")) or {}
        )
        elsewhere = self._elsewhere(metadata)
        if elsewhere:
            return elsewhere, None
        name = _profile_name(metadata, self.run)
        location = f"{self.store.url.rstrip('/')}/{directory}"
        try:
            data = self.store.read(directory + layout.ARTIFACTS + name)
            profile = parse_bytes(self.run, data, f"{location}{layout.ARTIFACTS}{name}")
        except KeyError:
            return f"healthy, but artifacts/{name} is missing", None
        except InputError as error:
            self.run.warn(f"skipping build {build} of {self.job}: {error}")
            return f"healthy, but its profile is unreadable: {error.message}", None
        commit = metadata.get("commit") or _commit(finished, self._json(directory + layout.STARTED))
        when = finished_time((finished or {}).get("timestamp") or metadata.get("finished"))
        return HEALTHY, Baseline(profile, build, commit, location, when)

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

    def _json(self, key: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self.store.read(key))
        except KeyError:
            return None
        except ValueError:
            return {"passed": False, "covtool_unreadable": True}  # a broken record is no proof
        return data if isinstance(data, dict) else {"passed": False}


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


def _passed(finished: dict[str, Any]) -> bool:
    if "passed" in finished:
        return finished["passed"] is True
    return finished.get("result") == "SUCCESS"


def _profile_name(metadata: dict[str, Any], run: Run) -> str:
    profile = metadata.get("profile")
    if isinstance(profile, dict) and isinstance(profile.get("name"), str):
        return str(profile["name"])
    return str(run.config.get("profile_name") or "coverage_profile.txt")


def _commit(finished: dict[str, Any] | None, started: dict[str, Any] | None) -> str | None:
    """A build's commit from Prow's own records: ``revision``, or the base of ``pull``."""
    revision = (finished or {}).get("revision")
    if isinstance(revision, str) and revision:
        return revision
    pull = (started or {}).get("pull")  # PULL_REFS: "main:abc123,5:def456"
    if isinstance(pull, str) and ":" in pull.split(",")[0]:
        return pull.split(",")[0].split(":", 1)[1] or None
    return None


def _summary(examined: list[tuple[str, str]]) -> str:
    shown = [f"{build}: {verdict}" for build, verdict in examined[:5]]
    more = f"; {len(examined) - 5} more" if len(examined) > 5 else ""
    return "; ".join(shown) + more if shown else "none found"


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


def finished_time(value: object) -> float | None:
    """An epoch time from a ``finished.json`` timestamp or an ISO 8601 string."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    return None
