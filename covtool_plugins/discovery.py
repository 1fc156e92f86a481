"""The search of a job's builds for the newest healthy one, shared by the baseline and the
previous-build plugins (a helper module, not a plugin).

A build is *healthy* when its completion marker (``artifacts/profile-completed``) exists and,
when it has a ``finished.json``, that says it passed. ``latest-build.txt`` is tried first;
then build ids from the listing, compared as numbers, newest first, at most
``--baseline-max-builds`` of them. A healthy build whose profile cannot be read is skipped
with a warning. The build's ``covtool.json`` names its profile and commit; for builds covtool
did not write, Prow's own records are the fallbacks. A subclass adds its own reasons to
skip a build (``reject``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from covtool import Baseline, InputError, Run, Storage, layout, parse_bytes

HEALTHY = "healthy"

#: A verdict on one build: its id, and why it was taken or skipped.
Examined = list[tuple[str, str]]


@dataclass
class Discovery:
    """One search of a job's builds (under ``directory``) for the newest healthy one."""

    run: Run
    store: Storage
    job: str
    directory: str

    def find(self) -> Baseline:
        """The newest healthy build, with every build looked at; else an ``InputError``
        that says what was looked at and why each was skipped."""
        examined: Examined = []
        found = self.search(examined)
        if found is not None:
            return found
        looked = sum(1 for _, verdict in examined if not verdict.startswith("not a build"))
        raise InputError(
            self.store.url,
            f"no healthy build of job {self.job!r}: looked at {looked} build(s) under "
            f"{self.directory} ({summary(examined)}); a healthy build has "
            f"artifacts/{self.run.config.get('marker_name')} and, if it has {layout.FINISHED}, "
            "one that says it passed",
        )

    def search(self, examined: Examined) -> Baseline | None:
        """The newest healthy build, or None; each build looked at is added to ``examined``."""
        for build in self.candidates(examined):
            verdict, found = self.examine(build)
            examined.append((build, verdict))
            if found is not None:
                return dataclasses.replace(found, examined=tuple(examined))
        return None

    def candidates(self, examined: Examined) -> list[str]:
        """``latest-build.txt`` first, then the listed build ids, newest first, bounded."""
        _, prefixes = self.store.list(self.directory)
        ids, others = layout.build_ids(prefixes, self.directory)
        examined.extend((name, "not a build id") for name in others)
        latest = self._latest()
        ordered = ([latest] if latest in ids else []) + [b for b in ids if b != latest]
        return ordered[: max(self.run.config.get("baseline_max_builds"), 1)]

    def _latest(self) -> str | None:
        try:
            text = self.store.read(self.directory + layout.LATEST_BUILD)
        except KeyError:
            return None
        return text.decode("utf-8", "replace").strip() or None

    def examine(self, build: str) -> tuple[str, Baseline | None]:
        """The verdict on one build, and the build when it is healthy and readable."""
        directory = layout.build_dir(self.directory, build)
        marker = self.run.config.get("marker_name")
        finished = self.read_json(directory + layout.FINISHED)
        if not self.store.exists(directory + layout.ARTIFACTS + marker):
            unfinished = "unfinished: " if finished is None else ""
            return f"{unfinished}no artifacts/{marker}", None
        name = self.run.config.get("metadata_name")
        metadata = self.read_json(directory + layout.ARTIFACTS + name) or {}
        started = self.read_json(directory + layout.STARTED)
        commit = metadata.get("commit") or self.commit_of(finished, started)
        rejected = self.reject(finished, metadata, commit if isinstance(commit, str) else None)
        if rejected:
            return rejected, None
        return self._read(build, directory, metadata, finished, commit)

    def reject(
        self, finished: dict[str, Any] | None, metadata: dict[str, Any], commit: str | None
    ) -> str | None:
        """Why a complete build is not wanted, or None: here, a ``finished.json`` that says
        it did not pass. Subclasses add their own reasons."""
        if finished is not None and not passed(finished):
            return f"{layout.FINISHED} says it did not pass"
        return None

    def commit_of(
        self, finished: dict[str, Any] | None, started: dict[str, Any] | None
    ) -> str | None:
        """A build's commit from Prow's own records, for builds without ``covtool.json``:
        ``finished.json``'s ``revision``, else the base of ``started.json``'s ``pull``."""
        revision = (finished or {}).get("revision")
        if isinstance(revision, str) and revision:
            return revision
        refs = pull_refs(started)
        return refs[0] if refs else None

    def _read(
        self,
        build: str,
        directory: str,
        metadata: dict[str, Any],
        finished: dict[str, Any] | None,
        commit: object,
    ) -> tuple[str, Baseline | None]:
        name = profile_name(metadata, self.run)
        location = f"{self.store.url.rstrip('/')}/{directory}"
        try:
            data = self.store.read(directory + layout.ARTIFACTS + name)
            profile = parse_bytes(self.run, data, f"{location}{layout.ARTIFACTS}{name}")
        except KeyError:
            return f"healthy, but artifacts/{name} is missing", None
        except InputError as error:
            self.run.warn(f"skipping build {build} of {self.job}: {error}")
            return f"healthy, but its profile is unreadable: {error.message}", None
        when = finished_time((finished or {}).get("timestamp") or metadata.get("finished"))
        found_commit = commit if isinstance(commit, str) and commit else None
        return HEALTHY, Baseline(profile, build, found_commit, location, when)

    def read_json(self, key: str) -> dict[str, Any] | None:
        """A JSON object of the store; None when it does not exist. A broken one reads as a
        failed build: it is no proof of anything."""
        try:
            data = json.loads(self.store.read(key))
        except KeyError:
            return None
        except ValueError:
            return {"passed": False, "covtool_unreadable": True}
        return data if isinstance(data, dict) else {"passed": False}


def passed(finished: dict[str, Any]) -> bool:
    """Whether a ``finished.json`` says the build passed (``passed``, else ``result``)."""
    if "passed" in finished:
        return finished["passed"] is True
    return finished.get("result") == "SUCCESS"


def profile_name(metadata: dict[str, Any], run: Run) -> str:
    """The profile's file name in a build's artifacts: ``covtool.json`` says, else the
    ``profile_name`` setting, else Go's ``coverage_profile.txt``."""
    profile = metadata.get("profile")
    if isinstance(profile, dict) and isinstance(profile.get("name"), str):
        return str(profile["name"])
    return str(run.config.get("profile_name") or "coverage_profile.txt")


def pull_refs(started: dict[str, Any] | None) -> list[str]:
    """The commits of ``started.json``'s ``pull`` (Prow's ``PULL_REFS``,
    ``main:abc123,5:def456``): the base's, then each pull request's."""
    pull = (started or {}).get("pull")
    if not isinstance(pull, str):
        return []
    commits = (ref.partition(":")[2] for ref in pull.split(","))
    return [commit for commit in commits if commit]


def summary(examined: Examined) -> str:
    """The first five verdicts, in one line."""
    shown = [f"{build}: {verdict}" for build, verdict in examined[:5]]
    more = f"; {len(examined) - 5} more" if len(examined) > 5 else ""
    return "; ".join(shown) + more if shown else "none found"


def finished_time(value: object) -> float | None:
    """An epoch time from a ``finished.json`` timestamp or an ISO 8601 string."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    return None
