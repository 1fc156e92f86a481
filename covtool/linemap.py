"""Where a file's lines were before a change: line numbers mapped through diff hunks.

A line outside every hunk did not change; it is the same line of the base shifted by what
the hunks before it added and removed. So each unchanged line of the head is compared with
its *own* baseline line, however far an insertion above it pushed it. Everything here works
on whole arrays of line numbers at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from covtool.records import Hunk

_INT64 = np.int64


class LineMap:
    """The head-to-base line correspondence of one file, from its hunks (in diff order)."""

    def __init__(self, hunks: Sequence[Hunk]) -> None:
        self.hunks = tuple(hunks)
        table = np.array(self.hunks, _INT64).reshape(-1, 4)
        old_start, old_count, new_start, new_count = table.T
        # The first unchanged line after each hunk, on each side: a hunk with an empty side
        # sits *after* its start line.
        self._new_after = np.where(new_count > 0, new_start + new_count, new_start + 1)
        self._old_after = np.where(old_count > 0, old_start + old_count, old_start + 1)
        self._added = _Ranges(new_start[new_count > 0], new_count[new_count > 0])
        self._removed = _Ranges(old_start[old_count > 0], old_count[old_count > 0])

    @classmethod
    def identity(cls) -> LineMap:
        """The map of a file that did not change."""
        return cls(())

    def inverse(self) -> LineMap:
        """The base-to-head map: the same hunks read the other way."""
        return LineMap(
            [Hunk(h.new_start, h.new_count, h.old_start, h.old_count) for h in self.hunks]
        )

    def changed(self, lines: np.ndarray) -> np.ndarray:
        """Which of the head's ``lines`` the change added or modified (a boolean mask)."""
        return self._added.contains(lines)

    def removed(self, lines: np.ndarray) -> np.ndarray:
        """Which of the base's ``lines`` the change removed or modified (a boolean mask)."""
        return self._removed.contains(lines)

    def to_base(self, lines: np.ndarray) -> np.ndarray:
        """The base line of each of the head's ``lines``; only meaningful for unchanged ones."""
        lines = np.asarray(lines, _INT64)
        if not self._new_after.size:
            return lines
        before = np.searchsorted(self._new_after, lines, side="right") - 1
        safe = np.maximum(before, 0)
        shifted = lines - self._new_after[safe] + self._old_after[safe]
        return np.where(before >= 0, shifted, lines)


class _Ranges:
    """Sorted, disjoint runs of lines ``[start, start + count)``."""

    def __init__(self, starts: np.ndarray, counts: np.ndarray) -> None:
        self.starts = np.asarray(starts, _INT64)
        self.ends = self.starts + np.asarray(counts, _INT64)

    def contains(self, lines: np.ndarray) -> np.ndarray:
        lines = np.asarray(lines, _INT64)
        if not self.starts.size:
            return np.zeros(lines.shape, bool)
        run = np.searchsorted(self.starts, lines, side="right") - 1
        return (run >= 0) & (lines < self.ends[np.maximum(run, 0)])


def line_ranges(lines: np.ndarray) -> tuple[tuple[int, int], ...]:
    """Sorted line numbers as inclusive runs: ``[3, 4, 5, 9]`` is ``((3, 5), (9, 9))``."""
    lines = np.asarray(lines, _INT64)
    if not lines.size:
        return ()
    breaks = np.flatnonzero(np.diff(lines) != 1)
    starts = np.concatenate(([lines[0]], lines[breaks + 1]))
    ends = np.concatenate((lines[breaks], [lines[-1]]))
    return tuple(zip(starts.tolist(), ends.tolist(), strict=True))
