"""Sharded runs: tests split across several jobs, their profiles merged before reporting.

Each shard job (``covtool run --shard I/N``) runs its part of the tests and stores what it
measured in the store, under the commit it measured::

    shards/<group>/<commit>/<I>-of-<N>/<profile>, covtool.json, then the marker, last

The merge job (``covtool run --merge-shards N``) looks there until all ``N`` markers of
its commit are present — waiting at most ``--shard-wait`` seconds — merges the profiles
and goes on as an unsharded run of its job type would. A set that is still incomplete is
refused, naming the missing shards: nothing is reported and no baseline is written from
it. ``<group>`` is ``--shard-group``, by default the job's name without a trailing
``-shard-I`` (``post-x-coverage-shard-2`` stores for ``post-x-coverage``), so the shard
jobs and the merge job meet without further configuration.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from covtool import engine
from covtool.errors import IncompleteError, UsageError
from covtool.model import Profile
from covtool.polling import poll
from covtool.profileops import merge
from covtool.run import Run
from covtool.storage import Storage, check_key

SHARDS = "shards/"
_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
_SHARD_SUFFIX = re.compile(r"-shard-?\d+$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (from 1) of ``total``."""

    index: int
    total: int

    @property
    def name(self) -> str:
        """Its directory name: ``2-of-3``."""
        return f"{self.index}-of-{self.total}"

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def parse_shard(text: str) -> Shard:
    """``I/N`` as a ``Shard``; anything else is a usage error."""
    match = _SHARD.fullmatch(text)
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        raise UsageError(f"--shard {text!r}: expected I/N with 1 <= I <= N, such as 2/3")
    return Shard(int(match[1]), int(match[2]))


def shard_group(run: Run, job_name: str) -> str:
    """The name shard jobs and the merge job share: ``--shard-group``, else the job's
    name without a trailing ``-shard-I``."""
    configured: str = run.config.get("shard_group").strip()
    return configured or _SHARD_SUFFIX.sub("", job_name)


def set_directory(group: str, commit: str) -> str:
    """Where the shards of one commit are stored."""
    return check_key(f"{SHARDS}{group}/{commit}/", prefix=True)


@dataclass(frozen=True)
class StoredShard:
    """One shard of a set, read back: its profile and what its ``covtool.json`` says."""

    shard: Shard
    profile: Profile
    metadata: dict[str, Any]

    @property
    def tests_passed(self) -> bool:
        return self.metadata.get("tests_passed") is True


def store_shard(
    run: Run, store: Storage, directory: str, shard: Shard, files: Sequence[Path]
) -> str:
    """Write a shard's files into the set's directory, the completion marker last;
    returns the shard's directory in the store."""
    place = f"{directory}{shard.name}/"
    for path in files:
        store.write(place + path.name, path.read_bytes())
    store.write(place + run.config.get("marker_name"), b"")
    return place


def wait_for_shards(
    run: Run,
    store: Storage,
    directory: str,
    total: int,
    say: Callable[[str], None],
) -> list[Shard]:
    """Look until every shard of the set has its marker, at most ``--shard-wait`` seconds;
    returns them, or refuses (``IncompleteError``) naming the ones still missing."""
    wait: float = run.config.get("shard_wait")
    marker = run.config.get("marker_name")
    shards = [Shard(index, total) for index in range(1, total + 1)]

    def look() -> tuple[bool, list[Shard]]:
        missing = [s for s in shards if not store.exists(f"{directory}{s.name}/{marker}")]
        return not missing, missing

    def waiting(missing: list[Shard]) -> None:
        say(f"waiting up to {wait:g}s for shard {_names(missing)} in {store.url}/{directory}")

    missing = poll(look, wait, waiting)
    if missing:
        raise IncompleteError(_incomplete(store, directory, total, missing, wait))
    return shards


def _incomplete(
    store: Storage, directory: str, total: int, missing: Sequence[Shard], wait: float
) -> str:
    present = total - len(missing)
    return (
        f"{store.url.rstrip('/')}/{directory}: {present} of {total} shards are complete after "
        f"waiting {wait:g}s; missing shard {_names(missing)}. Nothing is reported and no "
        "baseline is written from an incomplete set"
    )


def _names(shards: Sequence[Shard]) -> str:
    return ", ".join(str(shard) for shard in shards)


def read_shards(
    run: Run, store: Storage, directory: str, shards: Sequence[Shard]
) -> list[StoredShard]:
    """Each shard's profile and metadata, read from the store."""
    stored = []
    for shard in shards:
        place = f"{directory}{shard.name}/"
        metadata = _json(store, place + run.config.get("metadata_name"))
        name = (metadata.get("profile") or {}).get("name") or run.config.get("profile_name")
        if not isinstance(name, str) or not name:
            raise UsageError(f"{store.url}/{place}: covtool.json names no profile")
        try:
            data = store.read(place + name)
        except KeyError:
            missing = f"{store.url}/{place}{name}: the shard's profile is missing"
            raise IncompleteError(missing) from None
        location = f"{store.url.rstrip('/')}/{place}{name}"
        stored.append(StoredShard(shard, engine.parse_bytes(run, data, location), metadata))
    return stored


def merged(stored: Sequence[StoredShard]) -> Profile:
    """The shards' profiles merged: the same block's counts add up."""
    return merge([s.profile for s in stored], [str(s.shard) for s in stored])


def _json(store: Storage, key: str) -> dict[str, Any]:
    try:
        data = json.loads(store.read(key))
    except KeyError:
        return {}
    except ValueError:
        raise UsageError(f"{store.url}/{key}: not JSON") from None
    return data if isinstance(data, dict) else {}
