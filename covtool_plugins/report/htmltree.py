"""The directory tree of the HTML index: one row per directory and file, in tree order.

A directory's row counts everything beneath it (its whole subtree), as a tree view reads;
``covtool report`` and the TestGrid XML count a directory's own files only. A directory
whose only content is one directory is shown as one row (``staging/src/k8s.io``), as code
browsers do. The tree is built without recursion, so no path is too deep for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from covtool import Totals, views
from covtool_plugins.report.htmlview import page_name


@dataclass(frozen=True)
class TreeRow:
    """One row of the index: a directory or a file, with its parent's row id (0: the top)."""

    id: int
    parent: int
    depth: int
    name: str
    path: str
    is_dir: bool
    totals: Totals
    delta: str = ""

    @property
    def label(self) -> str:
        """The name as the index shows it: a directory's ends with ``/``."""
        return self.name if not self.is_dir or self.name.endswith("/") else f"{self.name}/"

    @property
    def page(self) -> str:
        """The page of a file row."""
        return page_name(self.path)

    @property
    def percent(self) -> str:
        """The row's coverage, as every report rounds it."""
        return views.format_percent(self.totals)

    @property
    def sort_value(self) -> str:
        """The coverage for sorting, in percent; -1 with nothing to cover."""
        percent = self.totals.percent
        return "-1" if percent is None else repr(percent)

    @property
    def bar(self) -> str:
        """The width of the coverage bar, in percent of its box (floored, so that only full
        coverage fills it)."""
        totals = self.totals
        return "0" if totals.total == 0 else str(100 * totals.hit // totals.total)


#: A directory: its path's parts ("/" first for an absolute path); () is the top.
Key = tuple[str, ...]


@dataclass
class _Directory:
    totals: Totals = field(default_factory=Totals)
    directories: dict[str, Key] = field(default_factory=dict)  # name -> key
    files: list[tuple[str, str, Totals]] = field(default_factory=list)


def tree_rows(
    paths: Sequence[str], totals: Sequence[Totals], deltas: dict[str, str] | None = None
) -> list[TreeRow]:
    """The index's rows: under each directory its directories, then its files, by name."""
    directories = _directories(paths, totals)
    rows: list[TreeRow] = []
    # (directory, parent row id, depth), popped in order: a stack in reverse.
    stack: list[tuple[Key, int, int]] = [((), 0, 0)]
    while stack:
        key, parent, depth = stack.pop()
        node = directories[key]
        children: list[tuple[Key, int, int]] = []
        for name in sorted(node.directories):
            shown, child = _collapse(directories, name, node.directories[name])
            subtree = directories[child].totals
            rows.append(TreeRow(len(rows) + 1, parent, depth, shown, _path(child), True, subtree))
            children.append((child, len(rows), depth + 1))
        for name, file_path, file_totals in sorted(node.files):
            delta = (deltas or {}).get(file_path, "")
            rows.append(
                TreeRow(len(rows) + 1, parent, depth, name, file_path, False, file_totals, delta)
            )
        stack.extend(reversed(children))
    return _in_tree_order(rows)


def _directories(paths: Sequence[str], totals: Sequence[Totals]) -> dict[Key, _Directory]:
    """Every directory by key, with its subtree's totals. Empty parts (``a//b``) are
    skipped; an absolute path (one placed nowhere in the repository) starts at ``/``."""
    directories: dict[Key, _Directory] = {(): _Directory()}
    for path, file_totals in zip(paths, totals, strict=True):
        parent, _, name = path.rpartition("/")
        parts = [part for part in parent.split("/") if part]
        key: Key = ("/",) if path.startswith("/") else ()
        if key:
            directories.setdefault(key, _Directory())
            directories[()].directories["/"] = key
            directories[()].totals += file_totals
        for part in parts:
            child = (*key, part)
            directories.setdefault(child, _Directory())
            directories[key].directories[part] = child
            directories[key].totals += file_totals
            key = child
        directories[key].files.append((name, path, file_totals))
        directories[key].totals += file_totals
    return directories


def _collapse(directories: dict[Key, _Directory], name: str, key: Key) -> tuple[str, Key]:
    """A directory and its chain of only-children, as one shown name and the last key."""
    node = directories[key]
    while not node.files and len(node.directories) == 1:
        ((part, key),) = node.directories.items()
        name = f"{name.rstrip('/')}/{part}"
        node = directories[key]
    return name, key


def _path(key: Key) -> str:
    """A directory's path from its key."""
    return "/" + "/".join(key[1:]) if key[:1] == ("/",) else "/".join(key)


def _in_tree_order(rows: list[TreeRow]) -> list[TreeRow]:
    """The rows depth first: each directory followed by its subtree.

    Rows are made breadth-first per directory (its children together); this reorders them
    so that each directory's subtree follows it, without recursion.
    """
    children: dict[int, list[TreeRow]] = {}
    for row in rows:
        children.setdefault(row.parent, []).append(row)
    ordered: list[TreeRow] = []
    stack = list(reversed(children.get(0, [])))
    while stack:
        row = stack.pop()
        ordered.append(row)
        stack.extend(reversed(children.get(row.id, [])))
    return ordered
