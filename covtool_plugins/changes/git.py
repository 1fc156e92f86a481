"""Changed files from git: ``git diff --find-renames`` from the merge-base to the head.

The source of a local run, and of a presubmit whose ``changes`` setting names git (or
whose pull request GitHub cannot list). ``changes`` says what to compare:

* ``git`` (or empty, when no other source claims the run): from the merge-base of the base
  with ``HEAD``. The base is ``--base-branch``, else Prow's ``PULL_BASE_SHA`` or
  ``PULL_BASE_REF``, else the first of ``main``, ``master``, ``origin/main``,
  ``origin/master`` that exists. In Prow (``PULL_BASE_SHA`` set) the head is ``HEAD``, the
  commit Prow checked out; elsewhere it is the working tree, untracked files included,
  because that is what a local profile was made from.
* ``git:BASE``: from the merge-base of ``BASE`` and ``HEAD`` to the working tree.
* ``git:BASE..HEAD``: from the merge-base of the two commits to ``HEAD``.
"""

from __future__ import annotations

from covtool import ChangeSet, Run, UsageError, git_changes, hookimpl, resolve_commit

_DEFAULT_BRANCHES = ("main", "master", "origin/main", "origin/master")


@hookimpl
def covtool_changed_files(run: Run) -> ChangeSet | None:
    """The change between the merge-base and the head, when ``changes`` names git (or is
    empty and no other source claimed the run)."""
    spec: str = run.config.get("changes")
    if spec not in ("", "git") and not spec.startswith("git:"):
        return None
    base, head = _commits(run, spec)
    return git_changes(run.repository, base, head)


def _commits(run: Run, spec: str) -> tuple[str, str | None]:
    """The base and head that ``spec`` names; head None is the working tree."""
    if spec.startswith("git:"):
        base, dots, head = spec[4:].partition("..")
        if not base or (dots and not head):
            raise UsageError(f"changes {spec!r}: expected git:BASE or git:BASE..HEAD")
        return base, head or None
    if run.environ.get("PULL_BASE_SHA"):
        return run.environ["PULL_BASE_SHA"], "HEAD"
    return base_branch(run), None


def base_branch(run: Run) -> str:
    """The branch a local change is measured from."""
    configured: str = run.config.get("base_branch") or run.environ.get("PULL_BASE_REF", "")
    if configured:
        return configured
    if resolve_commit(run.repository, "HEAD") is None:
        raise UsageError(
            f"{run.repository} is not a git repository with commits; the changed files "
            "come from git (or --changes github, or --changes none)"
        )
    for branch in _DEFAULT_BRANCHES:
        if resolve_commit(run.repository, branch):
            return branch
    raise UsageError(
        f"no base branch to compare with in {run.repository}: none of "
        f"{', '.join(_DEFAULT_BRANCHES)} exists; set --base-branch or --changes git:BASE"
    )
