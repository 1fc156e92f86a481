"""Reading source files for the HTML report, from the repository checkout only.

A profile names its files, and a profile is input: it may name ``../../etc/passwd``, an
absolute path, or a path inside the repository that is a symlink to somewhere else. The
report shows a file's source only when the file is a regular file inside the repository
root after every symlink is resolved; any other file is refused, never opened, and named
in a warning. Its coverage is still reported, without the source.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from markupsafe import escape

from covtool import views

#: Why a file's source is not shown; ``OUTSIDE`` is a refusal, the others are facts.
OUTSIDE = "outside the repository"
MISSING = "not in the checkout"
NOT_A_FILE = "not a regular file"
_DRIVE = re.compile(r"^[A-Za-z]:[/\\]")


@dataclass(frozen=True)
class Located:
    """Where a profile's file is: its resolved path, or why its source cannot be shown."""

    path: Path | None
    reason: str = ""


class SourceTree:
    """The repository checkout that sources are read from."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._directories: dict[str, Path | None] = {}

    def locate(self, name: str) -> Located:
        """Resolve a profile's file name to a file inside the root, without reading it.

        Each directory is resolved once (a report names thousands of files in hundreds of
        directories); the file itself is looked at with ``lstat``, and resolved only when
        it is a symlink.
        """
        if _escapes(name):
            return Located(None, OUTSIDE)
        parent, _, base = name.replace("\\", "/").rpartition("/")
        directory = self._directory(parent)
        if directory is None:
            return Located(None, MISSING)
        if not directory.is_relative_to(self.root):
            return Located(None, OUTSIDE)
        return _located_file(directory / base, self.root)

    def _directory(self, parent: str) -> Path | None:
        """The resolved directory ``parent`` of the root (None: it does not exist)."""
        if parent not in self._directories:
            try:
                resolved: Path | None = (self.root / parent).resolve(strict=True)
            except (OSError, RuntimeError):  # missing, a symlink loop, a name too long
                resolved = None
            self._directories[parent] = resolved
        return self._directories[parent]


def _located_file(path: Path, root: Path) -> Located:
    """``path`` (in a resolved directory inside ``root``) as a located file, or why not."""
    try:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            path = path.resolve(strict=True)
            mode = path.stat().st_mode
    except (OSError, RuntimeError):
        return Located(None, MISSING)
    if not path.is_relative_to(root):
        return Located(None, OUTSIDE)
    if not stat.S_ISREG(mode):
        return Located(None, NOT_A_FILE)
    return Located(path)


def _escapes(name: str) -> bool:
    """Whether a name leaves the root before any symlink: absolute, a drive, or ``..``."""
    posix = name.replace("\\", "/")
    return (
        PurePosixPath(posix).is_absolute()
        or bool(_DRIVE.match(name))
        or ".." in PurePosixPath(posix).parts
    )


def read_html_lines(path: Path) -> tuple[list[str], str]:
    """The lines of a located file, escaped for HTML, and a sentence for the reader about
    them ("" when there is nothing to say).

    Lines end at ``\\n`` alone, as compilers and coverage tools count them (a form feed or
    a U+2028 inside a line does not start a new one); a ``\\r`` before it is dropped. Bytes
    that are not UTF-8 show as U+FFFD, and the note says so. The whole text is escaped at
    once (``markupsafe``, as jinja2's autoescaping escapes), not line by line: a report of
    millions of lines spends its time here.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        return [], f"The source cannot be read: {error.strerror or error}."
    text = data.decode("utf-8", errors="replace")
    valid = "\ufffd" not in text or "\ufffd".encode() in data
    note = "" if valid else "The source is not valid UTF-8; invalid bytes show as \ufffd."
    text = str(escape(text.removeprefix("\ufeff")))
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines], note


def refusal_warning(refused: list[str]) -> str:
    """One line naming the files whose source was refused (the first five, and a count)."""
    return (
        f"html: {len(refused)} file(s) of the profile lie outside the repository; their "
        f"source is not read or shown: {views.format_names(refused, 5)}"
    )
