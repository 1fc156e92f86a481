"""What renderers receive and produce, and the one place that writes report files.

Renderers build their output from a ``Report`` and return ``Artifact``s; they never write
files themselves. ``write_atomic`` writes each artifact so that a failure never leaves a
half-written file behind.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from covtool.diff import Diff
from covtool.model import Profile
from covtool.records import Verdict


@dataclass(frozen=True)
class ReportFormat:
    """A format a plugin handles: its name (``--format NAME``) and default file name.

    ``writable``: the plugin renders it (``covtool_render_report``), so ``--format`` may name
    it. ``readable``: the plugin parses it (``covtool_parse_profile``), so it is a coverage
    format that ``--input-format`` may name and ``convert`` may read. ``directory``: the
    format is a directory of files (an HTML site): ``filename`` is the directory's default
    name, ``-o`` names the directory, and its artifacts' file names are relative to it.
    """

    name: str
    description: str
    filename: str
    readable: bool = False
    writable: bool = True
    directory: bool = False


@dataclass(frozen=True)
class Report:
    """Everything a renderer may show: the profile, and the comparison when there is one.

    ``verdicts`` are the gate's, when the workflow evaluated it (None: it did not).
    ``publish`` says the workflow publishes this report beyond its files (the PR comment,
    the commit status): ``covtool comment`` sets it, ``report``, ``diff`` and a dry run do
    not. A plugin that posts somewhere posts only a report with ``publish`` set.
    """

    profile: Profile
    threshold: float | None = None
    diff: Diff | None = None
    title: str = ""
    verdicts: tuple[Verdict, ...] | None = None
    publish: bool = False


Content = str | bytes | Callable[[], Iterable[str]]


@dataclass(frozen=True)
class Artifact:
    """A rendered report: its format, a file name relative to the output directory, content.

    Large content is a function returning an iterable of text pieces, so that it is written
    piece by piece and never held whole in memory; it is called once per reader.
    """

    format: str
    filename: str
    content: Content

    def text_chunks(self) -> Iterator[str]:
        """The content as text, in pieces."""
        if isinstance(self.content, str):
            yield self.content
        elif isinstance(self.content, bytes):
            yield self.content.decode()
        else:
            yield from self.content()

    def chunks(self) -> Iterator[bytes]:
        """The content as bytes, in pieces."""
        if isinstance(self.content, bytes):
            yield self.content
        else:
            for piece in self.text_chunks():
                yield piece.encode()


def write_atomic(path: Path, content: str | bytes | Iterable[bytes]) -> None:
    """Write ``content`` to ``path`` through a temporary file renamed into place.

    Readers see the old file or the complete new one, never a part; on failure (in the
    writing or in the producing of the content) the temporary file is removed and the old
    file is left as it was. A device or a pipe (``-o /dev/null``, ``-o /dev/stdout``) is
    written through, never replaced.
    """
    pieces = [content.encode()] if isinstance(content, str) else content
    pieces = [pieces] if isinstance(pieces, bytes) else pieces
    if _is_special(path):
        # /dev/null, /dev/stdout, a pipe: write through it. Renaming a file over it would
        # replace the device itself (as root, for every program on the machine).
        with path.open("wb") as stream:
            for piece in pieces:
                stream.write(piece)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as stream:
            for piece in pieces:
                stream.write(piece)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _is_special(path: Path) -> bool:
    """Whether ``path`` exists and is a device, a pipe or a socket (symlinks followed)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)
