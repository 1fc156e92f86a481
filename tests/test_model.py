"""The coverage model: totals, building (sort and merge), the line view, roll-ups."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from covtool import COVERED, MISSED, PARTIAL, InputError, Profile, Regions, Totals


def build(
    rows: list[tuple[str, int, int, int, int, int, int]], mode: str = "count", **kw: object
) -> Profile:
    paths = sorted({r[0] for r in rows})
    ids = np.array([paths.index(r[0]) for r in rows])
    columns = list(zip(*(r[1:] for r in rows), strict=True)) if rows else [[]] * 6
    return Profile.build(paths, ids, Regions.from_columns(*columns), mode=mode, **kw)  # type: ignore[arg-type]


def test_totals_ratio_and_percent_are_exact() -> None:
    t = Totals(statements=3, covered=1)
    assert t.ratio == Fraction(1, 3)
    assert t.percent == 100 / 3
    assert Totals().ratio is None and Totals().percent is None
    combined = Totals(statements=1831, covered=1823, branches=692, branches_covered=687)
    assert combined.ratio == Fraction(1823 + 687, 1831 + 692)  # coverage.py's combination
    assert (t + combined).statements == 1834


def test_build_sorts_files_and_blocks() -> None:
    profile = build(
        [
            ("b.go", 5, 1, 6, 1, 1, 0),
            ("a.go", 9, 1, 9, 5, 2, 1),
            ("a.go", 1, 1, 2, 1, 3, 0),
            ("a.go", 1, 1, 1, 9, 1, 4),
        ]
    )
    assert list(profile) == ["a.go", "b.go"]
    a = profile["a.go"].regions
    assert list(
        zip(a.start_line.tolist(), a.end_line.tolist(), a.end_col.tolist(), strict=True)
    ) == [(1, 1, 9), (1, 2, 1), (9, 9, 5)]
    assert profile["a.go"].totals == Totals(statements=6, covered=3)
    assert profile.file_totals() == [Totals(6, 3), Totals(1, 0)]
    assert profile.totals() == Totals(7, 3)


def test_build_merges_same_span_by_mode() -> None:
    rows = [("a.go", 1, 1, 2, 1, 2, 3), ("a.go", 1, 1, 2, 1, 2, 0), ("a.go", 1, 1, 2, 1, 2, 4)]
    assert build(rows, "count")["a.go"].regions.hits.tolist() == [7]
    assert build(rows, "set")["a.go"].regions.hits.tolist() == [1]
    assert build(rows, "set")["a.go"].totals == Totals(2, 2)


def test_overlapping_blocks_are_rejected_when_asked() -> None:
    rows = [("a.go", 1, 1, 3, 1, 2, 1), ("a.go", 2, 5, 4, 1, 1, 0)]
    assert build(rows).block_count == 2  # a single profile is taken as it is
    with pytest.raises(
        InputError, match=r"blocks overlap but differ in a.go: 1.1,3.1 .* and 2.5,4.1"
    ):
        build(rows, reject_overlaps=True)
    touching = [("a.go", 1, 1, 3, 4, 2, 1), ("a.go", 3, 4, 4, 1, 1, 0)]
    assert build(touching, reject_overlaps=True).block_count == 2


def test_directory_totals_are_exact_not_prefixes() -> None:
    profile = build(
        [
            ("pkg/a/x.go", 1, 1, 1, 2, 2, 1),
            ("pkg/ab/y.go", 1, 1, 1, 2, 3, 0),
            ("pkg/a/b/z.go", 1, 1, 1, 2, 5, 1),
            ("main.go", 1, 1, 1, 2, 1, 1),
        ]
    )
    assert profile.directory_totals() == {
        ".": Totals(1, 1),
        "pkg/a": Totals(2, 2),
        "pkg/a/b": Totals(5, 5),
        "pkg/ab": Totals(3, 0),
    }


def test_files_without_regions_sum_to_zero() -> None:
    regions = Regions.from_columns([1], [0], [1], [0], [1], [1])
    profile = Profile(["empty.py", "one.py"], np.array([0, 0, 1]), regions, unit="line")
    assert profile.file_totals() == [Totals(), Totals(1, 1)]
    assert profile["empty.py"].totals.percent is None


def test_line_view_of_blocks() -> None:
    profile = build(
        [
            ("a.go", 1, 10, 3, 2, 2, 5),  # lines 1-3 ran
            ("a.go", 3, 2, 4, 7, 1, 0),  # lines 3-4 did not: line 3 is partly covered
            ("a.go", 8, 1, 8, 9, 1, 2),
        ]
    )
    view = profile["a.go"].lines()
    assert view.line.tolist() == [1, 2, 3, 4, 8]
    assert view.hits.tolist() == [5, 5, 5, 0, 2]
    assert view.state.tolist() == [COVERED, COVERED, PARTIAL, MISSED, COVERED]


def test_line_view_of_lines_with_branches() -> None:
    regions = Regions.from_columns(
        [1, 2, 3], [0] * 3, [1, 2, 3], [0] * 3, [1] * 3, [4, 1, 0], [0, 2, 0], [0, 1, 0]
    )
    profile = Profile(["a.py"], np.array([0, 3]), regions, unit="line")
    view = profile["a.py"].lines()
    assert view.state.tolist() == [COVERED, PARTIAL, MISSED]
    assert view.branches.tolist() == [0, 2, 0]


def test_empty_profile() -> None:
    profile = Profile.empty()
    assert len(profile) == 0 and profile.totals() == Totals()
    assert build([]).block_count == 0
