"""``covtool upload``: write a build into a store the way Prow's uploader does.

For CI systems without Prow, and for the local store: the artifacts directory goes to
``<build>/artifacts/``, then ``started.json`` and ``finished.json`` are written, then
``latest-build.txt`` is moved forward, and the completion marker comes last — so a build is
never seen as healthy before everything else of it is in place.

``finished.json`` says the build passed when ``covtool.json`` says its tests passed (or,
without one, when the marker is there). ``latest-build.txt`` is only ever moved to a newer
build: it is read with its generation and written on condition that nobody else wrote it
since, retried a few times when somebody did.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from covtool import layout
from covtool.engine import open_store
from covtool.errors import UsageError
from covtool.run import Run
from covtool.storage import PreconditionFailed, Storage
from covtool.version import __version__

#: Conditional writes of latest-build.txt tried before giving up (each lost race re-reads).
LATEST_ATTEMPTS = 5


@dataclass(frozen=True)
class Destination:
    """Where a build goes: a postsubmit/periodic job, one pull request's presubmit job, or
    the local runs of one branch."""

    job: str
    build: str
    pr: int | None = None
    repository: str = ""  # org/repo, for presubmits
    branch: str | None = None  # a local run's branch

    def job_directory(self, pattern: str) -> str:
        if self.branch is not None:
            return layout.branch_job_dir(self.branch, self.job)
        if self.pr is None:
            return layout.job_dir(self.job)
        org, _, repo = self.repository.partition("/")
        if not org or not repo:
            raise UsageError(f"--repo {self.repository!r}: expected ORG/REPO for a presubmit build")
        return layout.pr_job_dir(pattern, org, repo, self.pr, self.job)


def upload(run: Run, artifacts: Path, destination: Destination, url: str) -> list[str]:
    """Write the build; returns the keys written, in order (the marker last)."""
    if not artifacts.is_dir():
        raise UsageError(f"{artifacts}: not a directory of artifacts")
    if not destination.build.isascii() or not destination.build.isdigit():
        raise UsageError(f"--build {destination.build!r}: Prow build ids are numbers")
    store = open_store(run, url)
    job_directory = destination.job_directory(run.config.get("pr_path_pattern"))
    directory = layout.build_dir(job_directory, destination.build)
    marker = run.config.get("marker_name")
    files = sorted(p for p in artifacts.rglob("*") if p.is_file())
    written = []
    for path in files:
        name = path.relative_to(artifacts).as_posix()
        if name != marker:
            written.append(_put(store, directory + layout.ARTIFACTS + name, path.read_bytes()))
    metadata = _metadata(artifacts / run.config.get("metadata_name"))
    passed = bool(metadata.get("tests_passed", (artifacts / marker).is_file()))
    written.append(_put(store, directory + layout.STARTED, _json(_started(metadata, run))))
    written.append(_put(store, directory + layout.FINISHED, _json(_finished(metadata, passed))))
    if _advance_latest(store, job_directory + layout.LATEST_BUILD, destination.build):
        written.append(job_directory + layout.LATEST_BUILD)
    if (artifacts / marker).is_file():
        written.append(_put(store, directory + layout.ARTIFACTS + marker, b""))
    return written


def _put(store: Storage, key: str, data: bytes) -> str:
    store.write(key, data)
    return key


def _json(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


def _metadata(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _epoch(iso: object) -> int:
    try:
        return int(datetime.fromisoformat(str(iso)).timestamp())
    except ValueError:
        return int(time.time())


def _started(metadata: dict[str, Any], run: Run) -> dict[str, Any]:
    """Prow's ``started.json``: when, and the refs (``PULL_REFS``) when Prow gave them."""
    started: dict[str, Any] = {"timestamp": _epoch(metadata.get("started"))}
    if run.environ.get("PULL_REFS"):
        started["pull"] = run.environ["PULL_REFS"]
    if metadata.get("commit"):
        started["repo-commit"] = metadata["commit"]
    return started


def _finished(metadata: dict[str, Any], passed: bool) -> dict[str, Any]:
    """Prow's ``finished.json``: when, whether it passed, and the revision."""
    finished: dict[str, Any] = {
        "timestamp": _epoch(metadata.get("finished")),
        "passed": passed,
        "result": "SUCCESS" if passed else "FAILURE",
        "metadata": {"uploader": f"covtool {__version__}"},
    }
    if metadata.get("commit"):
        finished["revision"] = metadata["commit"]
    return finished


def _advance_latest(store: Storage, key: str, build: str) -> bool:
    """Point ``latest-build.txt`` at ``build`` unless it names a newer one already.

    Read with its generation, write on that condition; a lost race re-reads. Returns
    whether it was written.
    """
    for _ in range(LATEST_ATTEMPTS):
        generation = store.read_generation(key)
        current = ""
        if generation:
            try:
                current = store.read(key).decode("utf-8", "replace").strip()
            except KeyError:
                continue  # deleted between the two reads: look again
        if current.isdigit() and int(current) >= int(build):
            return False
        try:
            store.write(key, f"{build}\n".encode(), if_generation=generation)
        except PreconditionFailed:
            continue
        return True
    raise PreconditionFailed(f"{store.url}: {key} kept changing while covtool tried to update it")
