"""Building line-based profiles: what the readers of coverage.py, Cobertura, LCOV and JaCoCo
data share.

A line-based profile has one region per executable line: a one-line span holding one
statement, its hit count, and the branch outcomes counted on that line. Readers add lines
one at a time (into compact arrays, not objects) and ``build`` sorts them and merges a line
that appears twice for one file: hits add up, branch counts keep the larger figure (the
formats do not say which branches a repeated line's counts are about).
"""

from __future__ import annotations

from array import array

import numpy as np

from covtool.model import Profile, Regions, Totals


class LineProfileBuilder:
    """Collects ``(file, line, hits, branches, branches covered)`` records for one input."""

    def __init__(self, source_format: str, name: str) -> None:
        self.source_format = source_format
        self.name = name
        #: Directories the format says its file names are relative to (Cobertura sources).
        self.roots: list[str] = []
        self._ids: dict[str, int] = {}
        self._file_ids = array("q")
        self._lines = array("q")
        self._hits = array("q")
        self._branches = array("q")
        self._covered = array("q")

    def file(self, path: str) -> int:
        """Register a file (also one without executable lines); returns its id."""
        return self._ids.setdefault(path, len(self._ids))

    def add(
        self, path: str, line: int, hits: int, branches: int = 0, branches_covered: int = 0
    ) -> None:
        """One executable line of ``path``."""
        self._file_ids.append(self._ids.setdefault(path, len(self._ids)))
        self._lines.append(line)
        self._hits.append(hits)
        self._branches.append(branches)
        self._covered.append(branches_covered)

    def add_to(self, file_id: int, line: int, hits: int, branches: int, covered: int) -> None:
        """``add`` for a file already registered with ``file``: the fast path for big inputs."""
        self._file_ids.append(file_id)
        self._lines.append(line)
        self._hits.append(hits)
        self._branches.append(branches)
        self._covered.append(covered)

    def build(self) -> Profile:
        """The profile: files sorted, lines sorted, repeated lines merged."""
        lines = np.frombuffer(self._lines, np.int64) if self._lines else np.zeros(0, np.int64)
        n = lines.shape[0]
        columns = [
            np.frombuffer(c, np.int64) if n else np.zeros(0, np.int64)
            for c in (self._hits, self._branches, self._covered)
        ]
        zeros = np.zeros(n, np.int32)
        regions = Regions.from_columns(lines, zeros, lines, zeros, np.ones(n, np.int32), *columns)
        file_ids = np.frombuffer(self._file_ids, np.int64) if n else np.zeros(0, np.int64)
        profile = Profile.build(
            list(self._ids), file_ids, regions, unit="line", source_format=self.source_format
        )
        profile.roots = tuple(self.roots)
        return profile


def header_disagreement(name: str, claimed: Totals, body: Totals) -> str | None:
    """A warning when a file's header totals differ from those recomputed from its body.

    Only the figures the header states (non-zero in ``claimed`` or equal in kind) are
    compared; the body always wins.
    """
    parts = []
    if (claimed.statements, claimed.covered) != (body.statements, body.covered):
        parts.append(
            f"{claimed.covered} of {claimed.statements} lines covered, "
            f"the body {body.covered} of {body.statements}"
        )
    if (claimed.branches, claimed.branches_covered) != (body.branches, body.branches_covered):
        parts.append(
            f"{claimed.branches_covered} of {claimed.branches} branches, "
            f"the body {body.branches_covered} of {body.branches}"
        )
    if not parts:
        return None
    return f"{name}: the header says {'; '.join(parts)}; using the body"
