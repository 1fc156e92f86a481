"""The diff step of a workflow: ask for the changed files, compare, announce the result.

``covtool.analysis`` does the arithmetic; this module asks the plugins what changed
(``covtool_changed_files``) and what to leave out (``covtool_ignore_files``), maps lines
through the main branch's own changes when the baseline is older than the change's base,
and fires ``covtool_diff_computed``.
"""

from __future__ import annotations

import dataclasses

from covtool.analysis import analyse
from covtool.changes import diff_files, resolve_commit
from covtool.diff import Diff
from covtool.errors import UsageError
from covtool.model import Profile
from covtool.records import Baseline, ChangedFile, ChangeSet
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
) -> Diff:
    """The comparison of ``base`` with ``head``, announced with ``covtool_diff_computed``."""
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
    run.hook.covtool_diff_computed(diff=diff, run=run)
    return diff


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
