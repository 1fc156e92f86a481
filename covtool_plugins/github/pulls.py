"""A pull request's changed files from GitHub's REST API, with git where GitHub falls short.

GitHub gives each file's status and, for text files of reasonable size, its patch; the
patch's hunks become the file's changed lines. Where a patch is missing (binary files,
patches GitHub finds too large) the lines come from ``git diff`` when the repository has
both commits, and are unknown otherwise. GitHub lists at most 3,000 files of a pull
request: beyond that the whole list comes from git, and a note says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from covtool import (
    ChangedFile,
    ChangeSet,
    ChangeStatus,
    Run,
    ServiceError,
    UsageError,
    diff_files,
    git,
    git_changes,
    hunks_from_patch,
    resolve_commit,
)
from covtool_plugins.github.client import GitHubClient

#: GitHub's list of a pull request's files stops here, whatever the pull request changed.
MAX_LISTED = 3000
PER_PAGE = 100

#: GitHub's file statuses in covtool's words; ``unchanged`` files are left out.
STATUSES: Mapping[str, ChangeStatus] = {
    "added": "added",
    "removed": "deleted",
    "modified": "modified",
    "changed": "modified",
    "renamed": "renamed",
    "copied": "added",  # a new file; its patch is against the copy's source, not nothing
}


@dataclass(frozen=True)
class PullTarget:
    """Which pull request: ``owner/repo#number``."""

    owner: str
    repo: str
    number: int

    def __str__(self) -> str:
        return f"{self.owner}/{self.repo}#{self.number}"


@dataclass(frozen=True)
class PullInfo:
    """What the pull request itself says: its commits and how many files it changed."""

    base: str
    head: str
    changed_files: int | None


def pull_changes(run: Run, client: GitHubClient, target: PullTarget) -> ChangeSet:
    """The files ``target`` changed, as a ``ChangeSet`` from source ``github``.

    The commits compared are Prow's ``PULL_BASE_SHA`` and ``PULL_PULL_SHA`` when set,
    else the pull request's base and head.
    """
    pull = get_pull(client, target)
    base = run.environ.get("PULL_BASE_SHA") or pull.base
    head = run.environ.get("PULL_PULL_SHA") or pull.head
    if pull.changed_files is not None and pull.changed_files > MAX_LISTED:
        return changes_from_git(run, target, pull.changed_files, base)
    entries = list_files(client, target)
    if truncated(len(entries), pull.changed_files):
        return changes_from_git(run, target, pull.changed_files, base)
    hunks = GitHunks(run.repository, base, head)
    files = (changed_file(entry, hunks) for entry in entries)
    return ChangeSet(tuple(f for f in files if f is not None), "github", base=base, head=head)


def truncated(listed: int, changed: int | None) -> bool:
    """Whether GitHub stopped listing: a full 3,000 entries, and the pull request says it
    changed more (or does not say)."""
    return listed >= MAX_LISTED and (changed is None or changed > listed)


def get_pull(client: GitHubClient, target: PullTarget) -> PullInfo:
    """``GET /repos/{owner}/{repo}/pulls/{number}``, read from its JSON (not the model,
    which is huge and which a GitHub Enterprise answer may not satisfy)."""
    response = client.call(
        lambda: client.github.rest.pulls.get(target.owner, target.repo, target.number)
    )
    data = client.json(response)
    base, head = _sha(data, "base"), _sha(data, "head")
    changed = data.get("changed_files") if isinstance(data, dict) else None
    if base is None or head is None:
        raise ServiceError(
            f"GitHub {client.what(response.raw_request)}: the answer has no base.sha or "
            "head.sha; is the endpoint GitHub's REST API?"
        )
    return PullInfo(base, head, changed if isinstance(changed, int) else None)


def _sha(data: Any, side: str) -> str | None:
    ref = data.get(side) if isinstance(data, dict) else None
    sha = ref.get("sha") if isinstance(ref, dict) else None
    return sha if isinstance(sha, str) and sha else None


def list_files(client: GitHubClient, target: PullTarget) -> list[dict[str, Any]]:
    """Every page of ``GET /repos/{owner}/{repo}/pulls/{number}/files``: the raw entries."""
    entries = client.paginate(
        client.github.rest.pulls.list_files,
        owner=target.owner,
        repo=target.repo,
        pull_number=target.number,
        per_page=PER_PAGE,
    )
    for index, entry in enumerate(entries):
        if not (isinstance(entry, dict) and isinstance(entry.get("filename"), str)):
            raise ServiceError(
                f"GitHub's files of pull request {target}: entry {index + 1} has no filename"
            )
    return entries


def changed_file(entry: Mapping[str, Any], hunks: GitHunks) -> ChangedFile | None:
    """One GitHub ``DiffEntry`` as a ``ChangedFile``; None for an ``unchanged`` entry.

    A status GitHub adds later counts as ``modified``.
    """
    status = str(entry.get("status", "modified"))
    if status == "unchanged":
        return None
    kind = STATUSES.get(status, "modified")
    path = str(entry["filename"])
    previous = entry.get("previous_filename")
    old = str(previous) if kind == "renamed" and previous else None
    patch = entry.get("patch")
    if isinstance(patch, str) and status != "copied":
        return ChangedFile(path, kind, old, hunks_from_patch(patch))
    if kind == "renamed" and entry.get("changes") == 0:
        return ChangedFile(path, kind, old, ())  # moved, not edited: no lines changed
    return hunks.file(path, kind, old)


class GitHunks:
    """The changed lines of files GitHub gave no patch for, asked of git once, lazily.

    The diff runs from the merge-base of ``base`` and ``head`` to ``head``, as GitHub's
    does. When the repository lacks either commit, every such file's lines are unknown.
    """

    def __init__(self, root: Path, base: str, head: str) -> None:
        self.root = root
        self.base = base
        self.head = head

    def file(self, path: str, status: ChangeStatus, old_path: str | None) -> ChangedFile:
        """``path`` with git's hunks (and binary flag); hunks None when git cannot tell."""
        known = self._files.get(path)
        if known is None:
            return ChangedFile(path, status, old_path, hunks=None)
        return ChangedFile(path, status, old_path, known.hunks, binary=known.binary)

    @cached_property
    def _files(self) -> dict[str, ChangedFile]:
        base = resolve_commit(self.root, self.base)
        head = resolve_commit(self.root, self.head)
        if base is None or head is None:
            return {}
        fork = git(self.root, "merge-base", base, head) or base
        try:
            return {file.path: file for file in diff_files(self.root, fork, head)}
        except UsageError:
            return {}


def changes_from_git(run: Run, target: PullTarget, changed: int | None, base: str) -> ChangeSet:
    """The change from ``base`` to ``HEAD`` from git, for a pull request GitHub cannot list.

    ``HEAD`` is what Prow checked out (the pull request merged into its base), so these are
    the lines the coverage was measured on. Git failing too is a ``UsageError`` with both
    reasons.
    """
    count = f"{changed:,}" if changed is not None else f"more than {MAX_LISTED:,}"
    limit = f"GitHub lists at most {MAX_LISTED:,} files"
    try:
        listed = git_changes(run.repository, base, "HEAD")
    except UsageError as error:
        raise UsageError(
            f"{limit} and pull request #{target.number} changed {count}; git cannot list "
            f"them either ({error}): fetch the base commit {base} into the clone"
        ) from None
    note = f"{limit}; pull request #{target.number} changed {count}, so the list comes from git"
    head = resolve_commit(run.repository, "HEAD")
    return ChangeSet(listed.files, "github", (note,), base=listed.base, head=head)
