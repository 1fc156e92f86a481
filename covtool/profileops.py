"""Profile algebra: merge, filter and aggregate, with gopherage's semantics."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from covtool.errors import InputError
from covtool.model import Profile


def merge(profiles: Sequence[Profile], names: Sequence[str]) -> Profile:
    """One profile holding every block of ``profiles``; the same block's counts add up.

    Profiles must agree on their mode (``set`` counts are ORed); different blocks of a file
    that overlap are an error naming the file and both spans. ``names`` name the inputs in
    messages.
    """
    if len(profiles) == 1:
        return profiles[0]
    first = profiles[0]
    for profile, name in zip(profiles, names, strict=True):
        if profile.mode != first.mode or profile.unit != first.unit:
            raise InputError(
                name,
                f"mode {profile.mode or profile.unit!r} differs from "
                f"{first.mode or first.unit!r} in {names[0]}; profiles must agree on mode",
            )
    if all(_same_layout(first, profile) for profile in profiles[1:]):
        return _add_counts(profiles, first.mode)
    return _union(profiles, names, first.mode)


def _same_layout(a: Profile, b: Profile) -> bool:
    """Whether two profiles hold exactly the same blocks (spans and statements) per file.

    Shards of one test suite and ``-coverpkg`` binaries usually do; their merge is then a
    sum of the count columns, with nothing to sort or check.
    """
    if a.paths != b.paths or not np.array_equal(a.offsets, b.offsets):
        return False
    columns = ("start_line", "start_col", "end_line", "end_col", "statements")
    return all(np.array_equal(getattr(a.regions, c), getattr(b.regions, c)) for c in columns)


def _add_counts(profiles: Sequence[Profile], mode: str | None) -> Profile:
    first = profiles[0]
    hits = np.zeros(first.block_count, np.int64)
    for profile in profiles:
        hits += profile.regions.hits
    if mode == "set":
        hits = (hits > 0).astype(np.int64)
    branches_covered = np.max([p.regions.branches_covered for p in profiles], axis=0)
    return first.with_regions(first.regions._replace(hits=hits, branches_covered=branches_covered))


def _union(profiles: Sequence[Profile], names: Sequence[str], mode: str | None) -> Profile:
    paths = sorted(set().union(*(p.paths for p in profiles)))
    position = {path: i for i, path in enumerate(paths)}
    file_ids = []
    for profile in profiles:
        remap = np.array([position[path] for path in profile.paths], np.int64)
        file_ids.append(np.repeat(remap, np.diff(profile.offsets)))
    starts = np.cumsum([0] + [p.block_count for p in profiles])

    def origin(row: int) -> str:
        return names[int(np.searchsorted(starts, row, side="right")) - 1]

    regions = type(profiles[0].regions).concat([p.regions for p in profiles])
    return Profile.build(
        paths,
        np.concatenate(file_ids),
        regions,
        unit=profiles[0].unit,
        mode=mode,
        source_format=profiles[0].source_format,
        origin=origin,
        reject_overlaps=True,
    )


def select_files(profile: Profile, keep: Sequence[bool]) -> Profile:
    """The profile restricted to the files whose ``keep`` flag is true."""
    keep_files = np.asarray(keep, bool)
    rows = np.repeat(keep_files, np.diff(profile.offsets))
    sizes = np.diff(profile.offsets)[keep_files]
    return profile.with_regions(
        profile.regions.take(rows),
        paths=[path for path, kept in zip(profile.paths, keep, strict=True) if kept],
        offsets=np.concatenate(([0], np.cumsum(sizes))),
    )


def filter_paths(
    profile: Profile, include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> Profile:
    """Files matching any ``include`` regex (all, if none), minus those matching ``exclude``.

    Regexes are unanchored (``re.search``), as in gopherage.
    """
    includes = [re.compile(pattern) for pattern in include]
    excludes = [re.compile(pattern) for pattern in exclude]
    keep = [
        (not includes or any(r.search(path) for r in includes))
        and not any(r.search(path) for r in excludes)
        for path in profile.paths
    ]
    return select_files(profile, keep)


def aggregate(profiles: Sequence[Profile], names: Sequence[str]) -> Profile:
    """How many profiles covered each block: counts become 0/1, then add up (mode count)."""
    flattened = [
        p.with_regions(
            p.regions._replace(hits=(p.regions.hits > 0).astype(np.int64)),
            mode="count" if p.mode else None,
        )
        for p in profiles
    ]
    if len(flattened) == 1:
        return flattened[0]
    for profile, name in zip(flattened, names, strict=True):
        if profile.unit != flattened[0].unit:
            raise InputError(name, f"holds {profile.unit}s, {names[0]} holds {flattened[0].unit}s")
    return _union(flattened, names, flattened[0].mode)
