"""Plain records that hooks hand each other: what a runner produced, which baseline was
used, what a pull request changed, what the gate decided. Data only, no behaviour."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

from covtool.model import Profile

ChangeStatus = Literal["added", "modified", "deleted", "renamed"]


class ProfileSource:
    """A coverage file to be parsed. ``format`` is the name forced with ``--input-format``, or
    None to let format plugins sniff ``head()``. The path ``-`` is standard input.

    A pipe or other stream is read once and kept, so that sniffing does not eat its start.
    """

    def __init__(self, path: Path, format: str | None = None, name: str | None = None) -> None:  # noqa: A002
        self.path = path
        self.format = format
        self._name = name
        self._data: bytes | None = None

    @property
    def name(self) -> str:
        """How messages name the file: as the user gave it, unless a name was given."""
        return self._name or str(self.path)

    def _is_stream(self) -> bool:
        return str(self.path) == "-" or not self.path.is_file()

    def head(self, size: int = 4096) -> bytes:
        """The first bytes of the file, for sniffing."""
        if self._data is None and not self._is_stream():
            with self.path.open("rb") as stream:
                return stream.read(size)
        return self.read()[:size]

    def read(self) -> bytes:
        """The whole file."""
        if self._data is None:
            if str(self.path) == "-":
                self._data = sys.stdin.buffer.read()
            elif self._is_stream():
                with self.path.open("rb") as stream:
                    self._data = stream.read()
            else:
                return self.path.read_bytes()
        return self._data


@dataclass(frozen=True)
class RawProfile:
    """What a runner left behind: a coverage file and how the tests went.

    ``path`` is the coverage file the tests wrote (in a scratch directory), ``format`` its
    format name when the runner knows it, ``artifact_name`` the file name it is kept under
    in the artifacts (``coverage_profile.txt`` for Go, the native name for others).
    """

    path: Path
    format: str | None
    tests_passed: bool
    runner: str
    artifact_name: str
    exit_status: int = 0


@dataclass(frozen=True)
class Baseline:
    """The profile a presubmit compares with, where it came from, and how it was chosen.

    ``location`` is the build's directory in its store (``gs://b/logs/job/123/``);
    ``commits_behind`` how far its commit is behind the pull request's base (None when git
    cannot tell); ``examined`` each build looked at, newest first, with the verdict on it.
    """

    profile: Profile
    build_id: str
    commit: str | None
    location: str
    finished_at: float | None = None
    commits_behind: int | None = None
    examined: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PreviousBuild:
    """What the search for a pull request's previous build found (locally: the branch's
    previous run).

    ``build`` is the newest healthy earlier build of another commit, read the way a
    baseline is (its profile, id, commit and where it is); None when there is none, and then
    ``reason`` says why. ``first`` is True when this is the first commit of the pull request
    (or branch) to be built at all. ``examined`` lists each build looked at, newest first,
    with the verdict on it.
    """

    build: Baseline | None
    reason: str = ""
    first: bool = False
    examined: tuple[tuple[str, str], ...] = ()


class Hunk(NamedTuple):
    """One run of changed lines, as a diff without context states it:
    ``@@ -old_start,old_count +new_start,new_count @@``.

    A count of 0 means nothing on that side, and then the start is the line *after which*
    the change sits (0: before the first line), as in unified diffs.
    """

    old_start: int
    old_count: int
    new_start: int
    new_count: int


@dataclass(frozen=True)
class ChangedFile:
    """One file a change touched.

    ``old_path`` is the path in the base for a rename. ``hunks`` are the changed lines in
    order; ``None`` means they are not known (a patch the source did not give), which leaves
    the file out of line-level comparison. ``binary`` files have no lines.
    """

    path: str
    status: ChangeStatus
    old_path: str | None = None
    hunks: tuple[Hunk, ...] | None = ()
    binary: bool = False

    @property
    def base_path(self) -> str:
        """The file's path in the base: the old path of a rename, else the path."""
        return self.old_path or self.path


@dataclass(frozen=True)
class ChangeSet:
    """The files a change touched, and where that list came from.

    ``source`` names it (``github``, ``git``); ``base`` and ``head`` are the commits compared
    when known (``head`` None: the working tree); ``notes`` tell the reader anything the
    source had to work around (a fallback, a truncated list).
    """

    files: tuple[ChangedFile, ...]
    source: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    base: str | None = None
    head: str | None = None


@dataclass(frozen=True)
class Verdict:
    """The outcome of one gate rule.

    ``rule`` names it (``file-threshold``); ``message`` is one sentence a PR author reads;
    ``details`` list what the sentence summarises (each file below a threshold). An
    informational verdict is reported but never fails a job.
    """

    rule: str
    passed: bool
    message: str
    informational: bool = False
    details: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        """Whether this verdict fails the job: it did not pass and is not informational."""
        return not self.passed and not self.informational
