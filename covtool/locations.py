"""Where ``covtool merge`` reads from: files, globs, and objects in a store.

An input is a path (``shard1.out``), a glob (``'shards/*/coverage_profile.txt'``, expanded
by covtool so that quoting works the same in a job's args and a shell), or a store URL
(``gs://bucket/shards/post-x/abc123/*/coverage_profile.txt``, ``file:///srv/store/...``)
whose path may hold glob patterns segment by segment. ``--expect N`` waits, bounded by
``--wait``, until the inputs match N profiles, and refuses an incomplete set, naming the
missing shards when the names say which they are (``2-of-3``).
"""

from __future__ import annotations

import fnmatch
import glob
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from covtool import engine
from covtool.errors import IncompleteError, InputError, UsageError
from covtool.model import Profile
from covtool.polling import poll
from covtool.run import Run
from covtool.storage import Storage

_MAGIC = re.compile(r"[*?\[]")
_SHARD_NAME = re.compile(r"(?<![0-9])(\d+)-of-(\d+)(?![0-9])")


@dataclass(frozen=True)
class Location:
    """One profile to read: a local file, or an object of a store."""

    name: str
    path: Path | None = None
    store: Storage | None = None
    key: str = ""

    def read(self, run: Run, forced_format: str | None) -> Profile:
        """Parse the profile it holds."""
        if self.path is not None:
            return engine.read_profile(run, self.path, forced_format)
        assert self.store is not None
        try:
            data = self.store.read(self.key)
        except KeyError:
            raise InputError(self.name, "no such object") from None
        return engine.parse_bytes(run, data, self.name, forced_format)


def expand(run: Run, specs: Sequence[str], allow_empty: bool = False) -> list[Location]:
    """Every profile the inputs name, in order; an input that matches nothing is an error
    unless ``allow_empty`` (while waiting for more)."""
    found: list[Location] = []
    for spec in specs:
        matches = _expand_one(run, spec)
        if not matches and not allow_empty:
            raise InputError(spec, "matches no file" if _MAGIC.search(spec) else "no such file")
        found += matches  # a file named twice counts twice, as Go's tools count it
    return found


def _expand_one(run: Run, spec: str) -> list[Location]:
    if spec.startswith("file://"):
        spec = spec.removeprefix("file://")
    if "://" not in spec:
        if not _MAGIC.search(spec):
            return [Location(spec, path=Path(spec))] if Path(spec).exists() else []
        return [Location(p, path=Path(p)) for p in sorted(glob.glob(spec)) if Path(p).is_file()]
    scheme, _, rest = spec.partition("://")
    bucket, _, key = rest.partition("/")
    if not bucket or not key:
        raise UsageError(f"{spec}: expected {scheme}://BUCKET/OBJECT")
    store = engine.open_store(run, f"{scheme}://{bucket}")
    keys = _glob_keys(store, key) if _MAGIC.search(key) else [key]
    base = store.url.rstrip("/")
    return [Location(f"{base}/{k}", store=store, key=k) for k in keys if store.exists(k)]


def _glob_keys(store: Storage, pattern: str) -> list[str]:
    """The store's keys that match ``pattern``, one ``/``-separated segment at a time."""
    segments = pattern.split("/")
    if "**" in segments:
        raise UsageError(f"{pattern}: '**' is not supported; use one '*' per directory level")
    candidates = [""]
    for depth, segment in enumerate(segments):
        last = depth == len(segments) - 1
        if not _MAGIC.search(segment):
            candidates = [c + segment + ("" if last else "/") for c in candidates]
            continue
        matched = []
        for prefix in candidates:
            keys, prefixes = store.list(prefix)
            for item in keys if last else prefixes:
                if fnmatch.fnmatchcase(item[len(prefix) :].rstrip("/"), segment):
                    matched.append(item)
        candidates = matched
    return sorted(candidates)


def expect(
    run: Run,
    specs: Sequence[str],
    count: int,
    wait: float,
    say: Callable[[str], None],
) -> list[Location]:
    """The inputs once they match ``count`` profiles, looking again for at most ``wait``
    seconds; an incomplete set is refused (``IncompleteError``), naming what is missing."""

    def look() -> tuple[bool, list[Location]]:
        found = expand(run, specs, allow_empty=True)
        return len(found) >= count, found

    def waiting(found: list[Location]) -> None:
        say(f"{len(found)} of {count} profiles present; waiting up to {wait:g}s")

    found = poll(look, wait, waiting)
    if len(found) < count:
        raise IncompleteError(_incomplete(found, count, wait))
    if len(found) > count:
        raise UsageError(
            f"--expect {count}, but the inputs match {len(found)} profiles: "
            f"{', '.join(f.name for f in found)}"
        )
    return found


def _incomplete(found: Sequence[Location], count: int, wait: float) -> str:
    seen = {(int(m[1]), int(m[2])) for f in found for m in _SHARD_NAME.finditer(f.name)}
    totals = {total for _, total in seen}
    missing = ""
    if len(totals) == 1 and (total := totals.pop()) == count:
        absent = [f"{i}/{total}" for i in range(1, total + 1) if (i, total) not in seen]
        missing = f"; missing shard {', '.join(absent)}"
    names = ", ".join(f.name for f in found) or "none"
    return (
        f"{len(found)} of {count} expected profiles after waiting {wait:g}s (found: {names})"
        f"{missing}. Nothing was merged"
    )
