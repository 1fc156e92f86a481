"""Prow's storage layout: where a job's builds, their metadata and artifacts live.

    logs/<job>/<build>/started.json, finished.json, artifacts/…   periodic and postsubmit
    logs/<job>/latest-build.txt                                    the newest build id
    pr-logs/pull/<org>_<repo>/<pr>/<job>/<build>/…                presubmit builds
    branches/<branch>/<job>/<build>/…                              local runs of a branch

The last is covtool's own: a local run records itself there, so that the next run on the
branch can say what changed since. Every store (GCS bucket, local directory) uses the
layout, so a presubmit reads what Prow's own uploader wrote for a postsubmit job. Some
deployments (kubernetes/kubernetes itself) drop ``<org>_<repo>`` for their default
repository: the presubmit pattern is a setting.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

LATEST_BUILD = "latest-build.txt"
STARTED = "started.json"
FINISHED = "finished.json"
ARTIFACTS = "artifacts/"
#: The presubmit directory of a job; ``{org}``, ``{repo}``, ``{pr}`` and ``{job}`` are filled in.
DEFAULT_PR_PATTERN = "pr-logs/pull/{org}_{repo}/{pr}/{job}"


def job_dir(job: str) -> str:
    """The directory of a periodic or postsubmit job: ``logs/<job>/``."""
    return f"logs/{job}/"


def pr_job_dir(pattern: str, org: str, repo: str, pr: int | str, job: str) -> str:
    """The directory of a presubmit job for one pull request (a ``/`` in a repo becomes ``_``)."""
    return pattern.format(org=org, repo=repo.replace("/", "_"), pr=pr, job=job).strip("/") + "/"


def branch_job_dir(branch: str, job: str) -> str:
    """The directory of a job's local runs on one branch; the branch name is percent-encoded
    (``feature/x`` becomes ``feature%2Fx``), so it is one level whatever it contains."""
    return f"branches/{quote(branch, safe='')}/{job}/"


def build_dir(job_directory: str, build: str) -> str:
    """The directory of one build of a job."""
    return f"{job_directory}{build}/"


def build_ids(prefixes: Iterable[str], job_directory: str) -> tuple[list[str], list[str]]:
    """Build ids among a listing's sub-prefixes, newest first, and the names that are not ids.

    Ids compare as numbers (snowflake-sized ones included), never as text: 10 is newer than 9.
    """
    ids: list[str] = []
    others: list[str] = []
    for prefix in prefixes:
        name = prefix[len(job_directory) :].rstrip("/")
        (ids if name.isascii() and name.isdigit() else others).append(name)
    return sorted(ids, key=int, reverse=True), sorted(others)
