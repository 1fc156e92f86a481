"""Asking git about the repository: one way to run it, and one answer when it cannot."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from covtool.errors import UsageError


class GitError(UsageError):
    """git could not be run, or failed; ``reason`` is git's last line of complaint."""

    def __init__(self, root: Path, command: str, reason: str) -> None:
        super().__init__(f"git {command} in {root}: {reason}")
        self.reason = reason


def git_output(
    root: Path,
    *args: str,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> bytes:
    """The standard output of ``git -C ROOT ARGS``, as bytes; a ``GitError`` when it fails.

    ``args`` may start with ``-c NAME=VALUE`` options; the error names the git command after
    them.
    """
    command = next((a for i, a in enumerate(args) if a != "-c" and args[i - 1] != "-c"), "")
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], input=stdin, capture_output=True, env=env, check=False
        )
    except OSError as error:
        raise GitError(root, command, f"cannot run git: {error.strerror}") from None
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        raise GitError(root, command, lines[-1] if lines else f"exit status {done.returncode}")
    return done.stdout


def git(root: Path, *args: str) -> str | None:
    """git's output for ``git -C ROOT ARGS``, stripped; None when git fails or is missing.

    Callers decide what an empty answer means; None always means "git could not tell".
    """
    try:
        return git_output(root, *args).decode("utf-8", "replace").strip()
    except GitError:
        return None


def current_branch(root: Path) -> str | None:
    """The branch checked out in the repository at ``root``; None on a detached HEAD or
    outside git."""
    return git(root, "symbolic-ref", "--quiet", "--short", "HEAD") or None
