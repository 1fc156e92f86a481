"""Asking git about the repository: one way to run it, and one answer when it cannot."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(root: Path, *args: str) -> str | None:
    """git's output for ``git -C ROOT ARGS``, stripped; None when git fails or is missing.

    Callers decide what an empty answer means; None always means "git could not tell".
    """
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None
