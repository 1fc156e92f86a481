"""``covtool profile``: run the tests with coverage and leave the artifacts a CI job needs.

The artifacts directory (``--artifacts``, default ``./artifacts/``) receives, in order:

1. ``stdout.txt``: the whole test output;
2. the profile (``coverage_profile.txt`` for Go, the native file for other runners);
3. ``covtool.json``: the build's metadata and totals;
4. ``profile-completed``: an empty marker, written last and only when the tests passed (or
   ``--allow-test-failures``), so that a half-finished or failing build never becomes the
   baseline of later pull requests.

Each name is a setting (``stdout_name``, ``profile_name``, ``metadata_name``,
``marker_name``); the defaults are the original tool's.

Every file is written to a temporary name and renamed into place: a run that is killed
leaves complete files or none, never a part.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from covtool import engine
from covtool.buildinfo import build_metadata
from covtool.errors import CovtoolError, ExitCode, UsageError
from covtool.model import Profile
from covtool.records import RawProfile
from covtool.reporting import Report, write_atomic
from covtool.run import Run


@dataclass(frozen=True)
class Measured:
    """What one test run left in the artifacts: the profile (as read, paths unplaced), the
    file it was written to, the runner's report, and the artifact names in use."""

    profile: Profile
    path: Path
    raw: RawProfile
    names: dict[str, str]

    @property
    def tests_passed(self) -> bool:
        return self.raw.tests_passed


def profile_workflow(run: Run) -> ExitCode:
    """Run the tests, write every artifact, and say how the tests went."""
    artifacts = Path(run.config.get("artifacts"))
    measured = measure(run, artifacts)
    mark_complete(run, artifacts, measured)
    return ExitCode.OK if measured.tests_passed else ExitCode.TESTS_FAILED


def measure(run: Run, artifacts: Path) -> Measured:
    """Run the tests; write the test output, the profile and ``covtool.json`` — every
    artifact but the completion marker, which ``mark_complete`` writes when all else is out."""
    names = artifact_names(run)
    artifacts.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="covtool-") as scratch:
        raw = _run_tests_logged(run, artifacts / names["stdout_name"], Path(scratch))
        profile = engine.read_profile(run, raw.path, raw.format)
        run.hook.covtool_profile_generated(profile=profile, run=run)
        name = names["profile_name"] or raw.artifact_name
        _write_profile(run, raw, profile, artifacts / name)
    return record(run, artifacts, profile, raw, name, started)


def record(
    run: Run, artifacts: Path, profile: Profile, raw: RawProfile, name: str, started: float
) -> Measured:
    """Write ``covtool.json`` for a profile already in ``artifacts`` under ``name``."""
    names = artifact_names(run)
    metadata = build_metadata(run, raw, profile, name, started, time.time())
    text = json.dumps(metadata, indent=2, sort_keys=True) + "\n"
    write_atomic(artifacts / names["metadata_name"], text)
    return Measured(profile, artifacts / name, raw, names)


def mark_complete(run: Run, artifacts: Path, measured: Measured) -> bool:
    """Write the empty completion marker, last, when the tests passed (or
    ``--allow-test-failures``); returns whether it was written."""
    if measured.tests_passed or run.config.get("allow_test_failures"):
        write_atomic(artifacts / measured.names["marker_name"], b"")
        return True
    return False


def artifact_names(run: Run) -> dict[str, str]:
    """The artifact file names the settings give, each checked to be a plain file name."""
    names = {key: str(run.config.get(key)) for key in _NAMES}
    for key, name in names.items():
        _check_file_name(key, name)
    return names


#: The settings that name artifacts; an empty profile name means the runner's own.
_NAMES = ("stdout_name", "profile_name", "metadata_name", "marker_name")


def _check_file_name(setting: str, name: str) -> None:
    """An artifact name must be a file name, so every artifact stays in the directory."""
    empty_ok = setting == "profile_name"
    if (not name and not empty_ok) or name in (".", "..") or "/" in name or "\\" in name:
        raise UsageError(f"{setting} {name!r}: expected a file name, without directories")


def _run_tests_logged(run: Run, log_path: Path, scratch: Path) -> RawProfile:
    """Run the chosen runner with its output saved to ``log_path`` (atomically).

    When the runner fails with a covtool error the log is kept (it says why); when covtool
    is interrupted or terminated it is removed, so no partial file is left.
    """
    temporary = log_path.with_name(f".{log_path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as log:
            run.test_log = log
            raw = run_tests(run, scratch)
    except CovtoolError:
        os.replace(temporary, log_path)  # the output tells why the runner failed: keep it
        raise
    else:
        os.replace(temporary, log_path)
    finally:  # interrupted or terminated: no partial log survives
        run.test_log = None
        temporary.unlink(missing_ok=True)
    return raw


def run_tests(run: Run, scratch: Path) -> RawProfile:
    """The runner named by ``--runner``, or the first that recognises the repository."""
    available = sorted({name for names in run.hook.covtool_runners() for name in names})
    forced = run.config.get("runner")
    if forced and forced not in available:
        raise UsageError(f"unknown runner {forced!r} (available: {', '.join(available)})")
    raw: RawProfile | None = run.hook.covtool_run_tests(run=run, scratch=scratch)
    if raw is None:
        raise UsageError(
            f"no runner recognises the repository in {run.root} (no go.mod, pyproject.toml, "
            f"setup.cfg, pytest.ini or tox.ini); choose one with --runner "
            f"({', '.join(available)})"
        )
    if not raw.path.is_file():
        raise UsageError(f"runner {raw.runner!r} finished without writing its profile {raw.path}")
    return raw


def _write_profile(run: Run, raw: RawProfile, profile: Profile, target: Path) -> None:
    """The profile in its own format, rendered when a plugin writes that format (a Go
    profile comes out merged and sorted), else the runner's file as it is."""
    formats = engine.report_formats(run)
    own = formats.get(profile.source_format)
    if own is not None and own.writable:
        for artifact in engine.render(run, Report(profile), [profile.source_format]):
            write_atomic(target, artifact.chunks())
    else:
        write_atomic(target, raw.path.read_bytes())
