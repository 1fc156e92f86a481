"""What a build is: repository, commit, branch, job — from Prow's environment, else git.

Prow sets ``REPO_OWNER``/``REPO_NAME``, ``PULL_PULL_SHA``/``PULL_BASE_SHA``,
``PULL_BASE_REF``, ``JOB_NAME``, ``JOB_TYPE`` and ``BUILD_ID`` (``BUILD_NUMBER`` in old
setups); on a laptop git answers for the repository, commit and branch.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from covtool.engine import builds_store_url
from covtool.git import git
from covtool.layout import ARTIFACTS, build_dir, pr_job_dir
from covtool.model import Profile
from covtool.records import RawProfile
from covtool.run import Run
from covtool.version import __version__
from covtool.views import has_branches, totals_dict

FORMAT_VERSION = 1
_REMOTE = re.compile(r"[:/]([^/:]+)/([^/]+?)(?:\.git)?/?$")
#: Where a GCS object is shown to a signed-in browser (Prow's own links use it).
GCS_BROWSER = "https://storage.cloud.google.com/"


def job_name(run: Run) -> str:
    """This job's name: the ``job_name`` setting, else Prow's ``JOB_NAME``, else ``local``."""
    configured: str = run.config.get("job_name").strip()
    return configured or run.environ.get("JOB_NAME", "").strip() or "local"


def build_id(run: Run) -> str | None:
    """Prow's ``BUILD_ID`` (``BUILD_NUMBER`` in old setups); None outside Prow."""
    return run.environ.get("BUILD_ID") or run.environ.get("BUILD_NUMBER") or None


def build_commit(run: Run) -> str | None:
    """The commit measured: Prow's ``PULL_PULL_SHA`` (a presubmit's head), else
    ``PULL_BASE_SHA``, else git's ``HEAD``; None when nobody can tell."""
    env = run.environ
    return env.get("PULL_PULL_SHA") or env.get("PULL_BASE_SHA") or _head(run.root)


def html_url(run: Run) -> str | None:
    """Where this build's line-by-line HTML report is published, or None if unknown.

    The ``html_url`` setting, else, in a Prow presubmit whose builds are stored in a GCS
    bucket (``builds_store_url``), the report in the build's artifacts as a browser opens it:
    ``https://storage.cloud.google.com/BUCKET/pr-logs/pull/ORG_REPO/PR/JOB/BUILD/artifacts/line-cov.html``.
    """
    configured: str = run.config.get("html_url").strip()
    if configured:
        return configured
    env, store = run.environ, builds_store_url(run)
    parts = (env.get("REPO_OWNER"), env.get("REPO_NAME"), env.get("PULL_NUMBER"))
    build = build_id(run)
    if not store.startswith("gs://") or not all(parts) or build is None:
        return None
    org, repo, pr = (str(part) for part in parts)
    pattern = run.config.get("pr_path_pattern")
    directory = build_dir(pr_job_dir(pattern, org, repo, pr, job_name(run)), build)
    location = store.removeprefix("gs://").rstrip("/") + "/"
    return f"{GCS_BROWSER}{location}{directory}{ARTIFACTS}{run.config.get('html_name')}"


def build_metadata(
    run: Run, raw: RawProfile, profile: Profile, profile_name: str, started: float, finished: float
) -> dict[str, Any]:
    """The content of ``covtool.json``."""
    env = run.environ
    return {
        "format_version": FORMAT_VERSION,
        "covtool_version": __version__,
        "repository": _repository(run.root, env),
        "commit": build_commit(run),
        "branch": env.get("PULL_BASE_REF") or _head(run.root, "--abbrev-ref"),
        "job": {
            "name": env.get("JOB_NAME"),
            "type": env.get("JOB_TYPE"),
            "build_id": env.get("BUILD_ID") or env.get("BUILD_NUMBER"),
        },
        "runner": raw.runner,
        "profile": {"name": profile_name, "format": profile.source_format},
        "started": _timestamp(started),
        "finished": _timestamp(finished),
        "tests_passed": raw.tests_passed,
        "test_exit_status": raw.exit_status,
        "totals": totals_dict(profile.totals(), has_branches(profile)),
    }


def _head(root: Path, *options: str) -> str | None:
    """HEAD's commit (or, with ``--abbrev-ref``, its branch) when git can tell."""
    return git(root, "rev-parse", *options, "HEAD") or None


def _timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def _repository(root: Path, env: dict[str, str] | Any) -> str | None:
    """``owner/name`` from Prow's environment, else from git's ``origin`` remote."""
    if env.get("REPO_OWNER") and env.get("REPO_NAME"):
        return f"{env['REPO_OWNER']}/{env['REPO_NAME']}"
    match = _REMOTE.search(git(root, "remote", "get-url", "origin") or "")
    return f"{match.group(1)}/{match.group(2)}" if match else None
