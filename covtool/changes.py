"""What a change touched, read from git: files, renames and the changed lines of each.

``git diff -U0 --find-renames`` is read once for all files. Paths come from the extended
headers (``rename to``, ``+++ b/``, ``--- a/``), unquoted the way git quotes them, so names
with spaces, tabs, quotes or non-ASCII characters come back as they are on disk. Hunks come
from the ``@@`` lines only; the changed lines themselves are skipped, never interpreted.

``hunks_from_patch`` reads one file's patch *with* context (GitHub's ``patch`` field) into the
same context-free hunks, so every source of changes feeds one line mapping.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from covtool.git import git, git_output
from covtool.records import ChangedFile, ChangeSet, ChangeStatus, Hunk

#: Options that make ``git diff`` output the same whatever the user's git configuration.
_DIFF_OPTIONS = (
    "-c",
    "core.quotePath=true",
    "diff",
    "-U0",
    "--find-renames",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-relative",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)

_LINE = re.compile(
    rb"^(?:(?P<section>diff --git .*)"
    rb"|@@ -(?P<os>\d+)(?:,(?P<oc>\d+))? \+(?P<ns>\d+)(?:,(?P<nc>\d+))? @@.*"
    rb"|(?P<header>(?:rename from|rename to|new file mode|deleted file mode|--- |\+\+\+ "
    rb"|Binary files |GIT binary patch).*))$",
    re.M,
)
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def git_changes(root: Path, base: str, head: str | None = None) -> ChangeSet:
    """The change from the merge-base of ``base`` and ``head`` to ``head``.

    ``head`` None compares with the working tree, and then files git does not track yet
    (and does not ignore) count too: a local run's profile was made from them. Raises
    ``GitError`` (a ``UsageError``) when git cannot resolve the commits.
    """
    merge_base = _git(root, "merge-base", base, head or "HEAD").strip()
    if head is not None:
        files = diff_files(root, merge_base, head)
    else:
        files = _working_tree_files(root, merge_base)
    return ChangeSet(tuple(files), "git", base=merge_base, head=head)


def diff_files(root: Path, old: str, new: str | None = None) -> list[ChangedFile]:
    """The files and hunks of ``git diff OLD [NEW]`` (no merge-base is taken)."""
    return parse_diff(git_output(root, *_DIFF_OPTIONS, old, *([new] if new else []), "--"))


def diff_since(root: Path, old: str, head: str | None) -> list[ChangedFile]:
    """The files and hunks from commit ``old`` to ``head``, or to the working tree (untracked
    files included) when ``head`` is None; no merge-base is taken."""
    return diff_files(root, old, head) if head else _working_tree_files(root, old)


def _working_tree_files(root: Path, base: str) -> list[ChangedFile]:
    """``git diff BASE`` against the working tree, untracked files included.

    Untracked files are added "with intent to add" to a *copy* of the index, so that git
    diffs them like any other file (a new file that is a moved old one is a rename) while
    the repository's own index is never touched.
    """
    index = Path(root, _git(root, "rev-parse", "--git-path", "index").strip())
    with tempfile.TemporaryDirectory(prefix="covtool-index-") as scratch:
        copy = Path(scratch) / "index"
        if index.is_file():
            shutil.copyfile(index, copy)
        env = {**os.environ, "GIT_INDEX_FILE": str(copy)}
        git_output(root, "add", "--intent-to-add", "--", ":/", env=env)
        return parse_diff(git_output(root, *_DIFF_OPTIONS, base, "--", env=env))


def resolve_commit(root: Path, ref: str) -> str | None:
    """The commit ``ref`` names, or None when this repository does not have it."""
    return git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") or None


@dataclass
class _Section:
    """One file's part of a diff, while it is read."""

    header: bytes
    paths: dict[str, str] = field(default_factory=dict)
    status: ChangeStatus = "modified"
    binary: bool = False
    hunks: list[Hunk] = field(default_factory=list)

    def finish(self) -> ChangedFile:
        new = self.paths.get("rename to") or self.paths.get("+++") or self.paths.get("---")
        old = self.paths.get("rename from") or self.paths.get("---") or new
        if new is None:
            new = old = _header_path(self.header)
        if self.status == "deleted":
            new = old
        renamed = self.status != "deleted" and old is not None and old != new
        return ChangedFile(
            path=new or "",
            status="renamed" if renamed and self.status == "modified" else self.status,
            old_path=old if renamed else None,
            hunks=tuple(self.hunks),
            binary=self.binary,
        )


def parse_diff(data: bytes) -> list[ChangedFile]:
    """The files of a ``git diff -U0`` output, in its order; one entry per path."""
    sections: list[_Section] = []
    for match in _LINE.finditer(data):
        if match["section"] is not None:
            sections.append(_Section(match["section"]))
        elif not sections:
            continue
        elif match["os"] is not None:
            sections[-1].hunks.append(_hunk(match))
        elif not sections[-1].hunks:  # extended headers come before the first hunk
            _read_header(sections[-1], match["header"])
    return _join_type_changes([section.finish() for section in sections])


def _read_header(section: _Section, line: bytes) -> None:
    if line.startswith((b"Binary files ", b"GIT binary patch")):
        section.binary = True
    elif line.startswith(b"new file mode"):
        section.status = "added"
    elif line.startswith(b"deleted file mode"):
        section.status = "deleted"
    elif line.startswith((b"rename from ", b"rename to ")):
        key = "rename from" if line.startswith(b"rename from ") else "rename to"
        section.paths[key] = unquote(line[len(key) + 1 :])
    elif line.startswith((b"--- a/", b'--- "a/', b"+++ b/", b'+++ "b/')):
        section.paths[line[:3].decode()] = _strip_prefix(unquote(_drop_tab(line[4:])))


def _join_type_changes(files: list[ChangedFile]) -> list[ChangedFile]:
    """A file that became a symlink (or back) is two sections in a diff; keep one entry."""
    seen: dict[str, int] = {}
    joined: list[ChangedFile] = []
    for file in files:
        if file.path in seen:
            earlier = joined[seen[file.path]]
            joined[seen[file.path]] = ChangedFile(
                file.path, "modified", None, (*(earlier.hunks or ()), *(file.hunks or ()))
            )
            continue
        seen[file.path] = len(joined)
        joined.append(file)
    return joined


def _hunk(match: re.Match[bytes]) -> Hunk:
    old_count, new_count = match["oc"], match["nc"]
    return Hunk(
        int(match["os"]),
        1 if old_count is None else int(old_count),
        int(match["ns"]),
        1 if new_count is None else int(new_count),
    )


def hunks_from_patch(patch: str) -> tuple[Hunk, ...]:
    """Context-free hunks from one file's unified patch with context (GitHub's ``patch``).

    Each run of ``-`` and ``+`` lines between context lines becomes one hunk, as
    ``git diff -U0`` would state it.
    """
    hunks: list[Hunk] = []
    old = new = 0
    run: list[int] | None = None  # [old_start, old_count, new_start, new_count]
    for line in patch.splitlines():
        header = _HUNK.match(line)
        if header:
            # ``old`` and ``new`` are the next line on each side; a side with a count of 0
            # names the line *before* the change instead (``@@ -0,0 +1,2 @@``).
            old = int(header[1]) + (header[2] == "0")
            new = int(header[3]) + (header[4] == "0")
            continue
        kind = line[:1]
        if kind in ("-", "+"):
            if run is None:
                run = [old, 0, new, 0]
            if kind == "-":
                run[1] += 1
                old += 1
            else:
                run[3] += 1
                new += 1
            continue
        if run is not None:
            hunks.append(_context_free(run))
            run = None
        if kind == " ":
            old, new = old + 1, new + 1
    if run is not None:
        hunks.append(_context_free(run))
    return tuple(hunks)


def _context_free(run: list[int]) -> Hunk:
    """A hunk whose empty side starts at the line before the change, as ``-U0`` writes."""
    old_start, old_count, new_start, new_count = run
    return Hunk(
        old_start if old_count else old_start - 1,
        old_count,
        new_start if new_count else new_start - 1,
        new_count,
    )


# -- paths as git writes them ------------------------------------------------------------------
def unquote(raw: bytes) -> str:
    """A path as git prints it, C-quoted (``"a/\\303\\251.go"``) when it has special bytes."""
    if not raw.startswith(b'"'):
        return _decode(raw)
    body, out, i = raw[1:], bytearray(), 0
    while i < len(body) and body[i : i + 1] != b'"':
        if body[i : i + 1] != b"\\":
            out += body[i : i + 1]
            i += 1
        elif body[i + 1 : i + 2].isdigit():
            out.append(int(body[i + 1 : i + 4], 8))
            i += 4
        else:
            out.append(_ESCAPES.get(body[i + 1 : i + 2].decode(), body[i + 1]))
            i += 2
    return _decode(bytes(out))


def _drop_tab(raw: bytes) -> bytes:
    """git ends a ---/+++ name that contains a space with a tab (for GNU patch)."""
    return raw[:-1] if raw.endswith(b"\t") else raw


def _strip_prefix(path: str) -> str:
    return path[2:] if path.startswith(("a/", "b/")) else path


def _header_path(header: bytes) -> str:
    """The path of ``diff --git a/P b/P`` when no other header names it (same P twice)."""
    rest = header[len(b"diff --git ") :]
    if rest.startswith(b'"'):
        end = rest.index(b'" ', 1) + 1 if b'" ' in rest else len(rest)
        return _strip_prefix(unquote(rest[:end]))
    return _strip_prefix(_decode(rest[: (len(rest) - 1) // 2]))


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


# -- running git ----------------------------------------------------------------------------------
def _git(root: Path, *args: str) -> str:
    return git_output(root, *args).decode("utf-8", "replace")
