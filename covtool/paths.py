"""Turn the paths a coverage file states into repository-relative POSIX paths.

Coverage files name sources in many ways: Go import paths (``k8s.io/kubernetes/pkg/x.go``),
absolute paths from the machine that ran the tests, paths relative to a ``<source>`` root
(Cobertura) or to a package directory (JaCoCo), Windows separators. Every path goes through
the same steps, in order:

1. ``\\`` becomes ``/``;
2. the first ``--path-map FROM=TO`` rule whose FROM is a prefix of the path rewrites it;
3. a Go import path under the module path of a ``go.mod`` in the repository becomes that
   module's directory plus the rest (nested modules and ``/vN`` module paths included: the
   longest module path wins);
4. an absolute path inside the repository becomes relative to its root;
5. a relative path is tried under each root the format declared, then as it is: the first
   candidate that exists in the repository wins; when none exists, the path under an
   absolute root inside the repository (strong evidence), else the path as it is — a
   relative root can be junk (``<source>--source</source>`` happens).

A path that cannot be placed in the repository (absolute elsewhere, ``../``, or a Go import
path of no module here) is kept as it is and named in one warning: never dropped silently.
"""

from __future__ import annotations

import itertools
import os
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from covtool.errors import UsageError
from covtool.git import git
from covtool.model import Profile

_ABSOLUTE = re.compile(r"^(/|[A-Za-z]:/)")
_MODULE = re.compile(rb"^\s*module\s+\"?([^\"\s]+)\"?", re.M)
_SKIPPED_DIRS = {"vendor", "testdata", "node_modules"}


@dataclass(frozen=True)
class PathRules:
    """How paths are placed in one repository."""

    root: str  # absolute POSIX path of the repository root, without a trailing slash
    path_map: tuple[tuple[str, str], ...] = ()
    modules: tuple[tuple[str, str], ...] = ()  # (Go module path, its directory), longest first

    @classmethod
    def for_repository(cls, root: Path, path_map: Sequence[str]) -> PathRules:
        """Rules for the repository at ``root``: its go.mod modules and the given map."""
        return cls(
            Path(root).resolve().as_posix().rstrip("/") or "/",
            tuple(_parse_rule(rule) for rule in path_map),
            tuple(sorted(go_modules(Path(root)), key=lambda m: -len(m[0]))),
        )

    def place(self, path: str, roots: Sequence[str] = ()) -> str | None:
        """The repository-relative path, or None when it cannot be placed in the repository."""
        path = path.replace("\\", "/")
        for source, target in self.path_map:
            if path.startswith(source):
                path = target + path[len(source) :]
                break
        for module, directory in self.modules:
            if path.startswith(module + "/"):
                return _clean(posixpath.join(directory, path[len(module) + 1 :]))
        if _ABSOLUTE.match(path):
            return self._inside(path)
        return self._under_roots(path, roots)

    def _inside(self, absolute: str) -> str | None:
        """``absolute`` relative to the root, or None when it lies outside."""
        absolute = posixpath.normpath(absolute)
        if absolute == self.root:
            return None
        if absolute.startswith(self.root + "/") or self.root == "/":
            return absolute[len(self.root) :].lstrip("/")
        return None

    def _under_roots(self, path: str, roots: Sequence[str]) -> str | None:
        plain = _clean(path)
        anchored, relative = [], []
        for root in (r.replace("\\", "/") for r in roots if r.strip()):
            joined = posixpath.join(root, path)
            if _ABSOLUTE.match(joined):
                anchored.append(self._inside(joined))
            else:
                relative.append(_clean(joined))
        candidates = [c for c in (*anchored, *relative, plain) if c is not None]
        if len(candidates) > 1:
            for candidate in candidates:
                if os.path.exists(posixpath.join(self.root, candidate)):
                    return candidate
        fallback = [c for c in (*anchored, plain) if c is not None]
        return fallback[0] if fallback else None


def _clean(path: str) -> str | None:
    """A normalised relative path, or None when it climbs out of the repository."""
    cleaned = posixpath.normpath(path)
    if cleaned == ".." or cleaned.startswith("../"):
        return None
    return cleaned


def _parse_rule(rule: str) -> tuple[str, str]:
    source, equals, target = rule.partition("=")
    if not equals or not source:
        raise UsageError(f"path_map rule {rule!r}: expected FROM=TO, such as /build/src/=")
    return source.replace("\\", "/"), target.replace("\\", "/")


def go_modules(root: Path) -> list[tuple[str, str]]:
    """(module path, directory relative to ``root``) of every go.mod in the repository.

    Uses ``git ls-files`` where the root is a git checkout (fast on large trees), else a walk
    that skips ``vendor``, ``testdata``, ``node_modules`` and hidden directories, as Go does.
    """
    found = []
    for relative in _go_mod_files(root):
        try:
            match = _MODULE.search((root / relative).read_bytes())
        except OSError:
            continue
        if match:
            directory = posixpath.dirname(relative) or "."
            found.append((match.group(1).decode("utf-8", "replace"), directory))
    return found


def _go_mod_files(root: Path) -> list[str]:
    listed = git(
        root,
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
        "--",
        "go.mod",
        "**/go.mod",
    )
    if listed is not None:
        files = [p for p in listed.split("\0") if p]
        return [p for p in files if not _SKIPPED_DIRS & set(p.split("/")[:-1])]
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [
            d for d in subdirectories if d not in _SKIPPED_DIRS and not d.startswith(".")
        ]
        if "go.mod" in files:
            found.append(Path(directory, "go.mod").relative_to(root).as_posix())
    return found


def repository_root(start: Path) -> Path:
    """The git work tree containing ``start``, or ``start`` itself outside git."""
    top = git(start, "rev-parse", "--show-toplevel")
    return Path(top) if top else start


def place_profile(profile: Profile, rules: PathRules) -> tuple[Profile, list[str]]:
    """The profile with repository-relative paths, and the paths that could not be placed.

    When placing keeps the paths sorted and distinct (the usual case: one prefix replaced)
    only the path list changes; otherwise the rows are re-sorted, and two paths that land on
    one file are merged like duplicate blocks.
    """
    placed, unplaced = [], []
    for path in profile.paths:
        new = rules.place(path, profile.roots)
        if new is None:
            unplaced.append(path)
            new = path
        placed.append(new)
    go_unmatched = _unmatched_go_paths(profile, rules, placed)
    if placed == list(profile.paths):
        return profile, unplaced + go_unmatched
    if all(a < b for a, b in itertools.pairwise(placed)):
        return profile.with_regions(profile.regions, paths=placed), unplaced + go_unmatched
    distinct = sorted(set(placed))
    index = {path: i for i, path in enumerate(distinct)}
    file_ids = np.repeat(np.array([index[p] for p in placed], np.int64), np.diff(profile.offsets))
    rebuilt = Profile.build(
        distinct,
        file_ids,
        profile.regions,
        unit=profile.unit,
        mode=profile.mode,
        source_format=profile.source_format,
    )
    return rebuilt, unplaced + go_unmatched


def _unmatched_go_paths(profile: Profile, rules: PathRules, placed: list[str]) -> list[str]:
    """Go import paths that no module of the repository claims (when it has modules)."""
    if profile.source_format != "go" or not rules.modules:
        return []
    return [
        original
        for original, new in zip(profile.paths, placed, strict=True)
        if original == new and not any(original.startswith(m + "/") for m, _ in rules.modules)
    ]
