"""Plain records that hooks hand each other: what a runner produced, which baseline was
used, what a pull request changed, what the gate decided. Data only, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from covtool.model import Profile

ChangeStatus = Literal["added", "modified", "deleted", "renamed"]


@dataclass(frozen=True)
class ProfileSource:
    """A coverage file to be parsed. ``format`` is the name forced with ``--format``, or None
    to let format plugins sniff ``head()``."""

    path: Path
    format: str | None = None

    @property
    def name(self) -> str:
        """The path as the user gave it, for messages."""
        return str(self.path)

    def head(self, size: int = 4096) -> bytes:
        """The first bytes of the file, for sniffing."""
        with self.path.open("rb") as stream:
            return stream.read(size)

    def read(self) -> bytes:
        """The whole file."""
        return self.path.read_bytes()


@dataclass(frozen=True)
class RawProfile:
    """What a runner left behind: a coverage file, its format, and whether the tests passed."""

    path: Path
    format: str | None
    tests_passed: bool
    output_path: Path | None = None


@dataclass(frozen=True)
class Baseline:
    """The profile a presubmit compares with, and where it came from."""

    profile: Profile
    build_id: str
    commit: str | None
    location: str
    finished_at: float | None = None


@dataclass(frozen=True)
class ChangedFile:
    """One file a pull request touched; ``old_path`` is set for renames."""

    path: str
    status: ChangeStatus
    old_path: str | None = None


@dataclass(frozen=True)
class ChangeSet:
    """The files a pull request changed, and where that list came from (``github``, ``git``)."""

    files: tuple[ChangedFile, ...]
    source: str
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one gate rule. An informational rule is reported but never fails a job."""

    rule: str
    passed: bool
    message: str
    informational: bool = False
