"""What renderers receive and produce, and the one place that writes report files.

Renderers build their output from a ``Report`` and return ``Artifact``s; they never write
files themselves. ``write_atomic`` writes each artifact so that a failure never leaves a
half-written file behind.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from covtool.diff import Diff
from covtool.model import Profile


@dataclass(frozen=True)
class ReportFormat:
    """A report format a plugin offers: its name (``--format NAME``) and default file name."""

    name: str
    description: str
    filename: str


@dataclass(frozen=True)
class Report:
    """Everything a renderer may show: the profile, and the comparison when there is one."""

    profile: Profile
    threshold: float | None = None
    diff: Diff | None = None
    title: str = ""


@dataclass(frozen=True)
class Artifact:
    """A rendered report: its format, a file name relative to the output directory, content."""

    format: str
    filename: str
    content: str | bytes


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file renamed into place.

    Readers see the old file or the complete new one, never a part; on failure the
    temporary file is removed and the old file is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = content.encode() if isinstance(content, str) else content
    try:
        with temporary.open("wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
