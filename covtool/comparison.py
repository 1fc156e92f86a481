"""The diff step of a workflow: ask for the changed files, compare, announce the result.

``covtool.analysis`` does the arithmetic; this module asks the plugins what changed
(``covtool_changed_files``) and what to leave out (``covtool_ignore_files``), maps lines
through the main branch's own changes when the baseline is older than the change's base,
compares the pull request's files with its previous build too when one was looked for,
and fires ``covtool_diff_computed``.
"""

from __future__ import annotations

import dataclasses

from covtool.analysis import analyse, analyse_since
from covtool.changes import diff_files, diff_since, resolve_commit
from covtool.diff import Diff, PreviousDiff
from covtool.errors import UsageError
from covtool.git import GitError, git
from covtool.model import Profile
from covtool.records import Baseline, ChangedFile, ChangeSet, PreviousBuild
from covtool.run import Run


def changed_files(run: Run) -> ChangeSet | None:
    """The change set the ``changes`` setting asks for; None for ``none``."""
    spec: str = run.config.get("changes")
    if spec == "none":
        return None
    found: ChangeSet | None = run.hook.covtool_changed_files(run=run)
    if found is None:
        raise UsageError(
            f"no plugin provides the changed files for changes={spec!r} "
            "(github, git, git:BASE, git:BASE..HEAD or none)"
        )
    return found


def ignored_files(run: Run, paths: list[str]) -> dict[str, str]:
    """Every plugin's answer to ``covtool_ignore_files``: path to the first reason given."""
    ignored: dict[str, str] = {}
    for answer in run.hook.covtool_ignore_files(paths=paths, run=run):
        for path, reason in answer.items():
            ignored.setdefault(path, reason)
    return ignored


def compare_profiles(
    run: Run,
    base: Profile,
    head: Profile,
    changes: ChangeSet | None,
    baseline: Baseline | None = None,
    previous: PreviousBuild | None = None,
) -> Diff:
    """The comparison of ``base`` with ``head``, announced with ``covtool_diff_computed``;
    with ``previous`` (the answer of the search for the pull request's previous build), the
    comparison with that build too."""
    drift, notes = main_branch_drift(run, changes, baseline.commit if baseline else None)
    diff = analyse(
        base,
        head,
        changes,
        drift=drift,
        ignore=lambda paths: ignored_files(run, paths),
        test_file_map=run.config.get("test_file_map"),
        sensitivity=run.config.get("sensitivity"),
    )
    notes = (*(changes.notes if changes else ()), *notes)
    diff = dataclasses.replace(diff, notes=notes, baseline=baseline)
    if previous is not None:
        diff = dataclasses.replace(diff, previous=since_previous(run, diff, head, previous))
    run.hook.covtool_diff_computed(diff=diff, run=run)
    return diff


def since_previous(run: Run, diff: Diff, head: Profile, found: PreviousBuild) -> PreviousDiff:
    """How the files of ``diff`` (the pull request's) moved since its previous build.

    Lines are mapped through ``git diff PREVIOUS HEAD`` when git has both commits (a
    force-pushed previous commit too: the diff of two commits needs no common history);
    otherwise only each file's totals are compared.
    """
    build = found.build
    if build is None:
        return PreviousDiff(found)
    head_ref = diff.changes.head if diff.changes else None  # None: the working tree
    known = resolve_commit(run.repository, build.commit) if build.commit else None
    try:
        push = diff_since(run.repository, known, head_ref) if known else None
    except GitError:
        push = None  # compared by the files' totals, as when git lacks the commit
    paths = [f.path for f in diff.files]
    files = analyse_since(build.profile, head, paths, push, run.config.get("sensitivity"))
    ancestor = is_ancestor(run, build.commit, known, head_ref or "HEAD")
    return PreviousDiff(
        found, files, build.profile.totals(), head.totals(), ancestor, push is not None
    )


def is_ancestor(run: Run, commit: str | None, known: str | None, head: str) -> bool | None:
    """Whether ``commit`` is in the history of ``head``; None when git cannot tell.

    A commit this clone does not have is not in the history of its ``HEAD`` unless the clone
    is shallow (then nobody can tell).
    """
    if known is not None:
        return git(run.repository, "merge-base", "--is-ancestor", known, head) is not None
    if not commit or git(run.repository, "rev-parse", "--is-shallow-repository") != "false":
        return None
    return False


def main_branch_drift(
    run: Run, changes: ChangeSet | None, baseline_commit: str | None
) -> tuple[list[ChangedFile], tuple[str, ...]]:
    """What the main branch changed between the baseline's commit and the change's base.

    Lines of those files are mapped through it, so an unchanged line is still compared with
    its own baseline line. Nothing when either commit is unknown or they are the same.
    """
    if changes is None or not changes.base or not baseline_commit:
        return [], ()
    resolved = resolve_commit(run.repository, baseline_commit)
    if resolved is None:
        return [], (
            f"the baseline's commit {baseline_commit[:12]} is not in this clone, so lines of "
            "files the main branch changed since are compared as they are",
        )
    if resolved == resolve_commit(run.repository, changes.base):
        return [], ()
    return diff_files(run.repository, resolved, changes.base), ()
