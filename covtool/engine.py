"""The work of each command as a sequence of hook calls.

The engine knows the order of the work and nothing about any format, store or service:
it asks the plugins through the hooks of ``covtool.hookspecs``.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Mapping, Sequence, Set
from pathlib import Path

from covtool.errors import CovtoolError, InputError, UsageError
from covtool.model import Profile
from covtool.paths import place_profile
from covtool.profileops import merge
from covtool.records import Baseline, PreviousBuild, ProfileSource
from covtool.reporting import Artifact, Report, ReportFormat, write_atomic
from covtool.run import Run
from covtool.storage import DEFAULT_STORE, Storage
from covtool.views import format_names


def read_profile(
    run: Run, path: Path, forced_format: str | None = None, name: str | None = None
) -> Profile:
    """Parse one coverage file with whichever format plugin claims it; ``name`` is what
    messages call it (default: the path)."""
    source = ProfileSource(path, forced_format, name)
    try:
        head = source.head()
    except FileNotFoundError:
        raise InputError(source.name, "no such file") from None
    except IsADirectoryError:
        raise InputError(source.name, "is a directory, not a coverage file") from None
    except OSError as error:
        raise InputError(source.name, f"cannot read: {error.strerror}") from None
    profile: Profile | None = run.hook.covtool_parse_profile(source=source, run=run)
    if profile is None:
        raise InputError(f"{source.name}:1", _unclaimed_reason(head, forced_format, run))
    return profile


def parse_bytes(run: Run, data: bytes, name: str, forced_format: str | None = None) -> Profile:
    """Parse a coverage file that is not on disk (one read from a store), named ``name``."""
    with tempfile.TemporaryDirectory(prefix="covtool-") as scratch:
        path = Path(scratch) / "profile"
        path.write_bytes(data)
        return read_profile(run, path, forced_format, name)


def store_url(run: Run) -> str:
    """Where postsubmit builds are: ``--baseline``, else ``gs://`` + ``--postsubmit-gcs-bucket``,
    else "" (the local store in the repository)."""
    url: str = run.config.get("baseline")
    bucket: str = run.config.get("postsubmit_gcs_bucket")
    if not url and bucket:
        url = bucket if bucket.startswith("gs://") else f"gs://{bucket}"
    return url


def builds_store_url(run: Run) -> str:
    """Where this job's own earlier builds are: ``--presubmit-store``, else, in Prow, the
    baseline's store (a presubmit's builds are usually in the postsubmit's bucket), else ""
    (the local store in the repository: a laptop never records its runs elsewhere unasked)."""
    url: str = run.config.get("presubmit_store")
    if url or not run.environ.get("JOB_TYPE"):
        return url
    return store_url(run)


def open_store(run: Run, url: str) -> Storage:
    """The store at ``url``; an empty URL is the local store in the repository."""
    url = url or str(run.repository / DEFAULT_STORE)
    store: Storage | None = run.hook.covtool_make_storage(url=url, config=run.config)
    if store is None:
        raise UsageError(f"no storage backend claims {url!r} (a path, file://PATH or gs://BUCKET)")
    return store


def load_baseline(run: Run) -> Baseline:
    """The baseline with repository paths, announced with ``covtool_baseline_loaded``."""
    baseline: Baseline | None = run.hook.covtool_load_baseline(run=run)
    if baseline is None:
        raise UsageError("no plugin finds baselines (is the baseline plugin blocked?)")
    placed = place_paths(run, baseline.profile, baseline.location)
    baseline = dataclasses.replace(baseline, profile=placed)
    run.hook.covtool_baseline_loaded(baseline=baseline, run=run)
    return baseline


def find_previous(run: Run) -> PreviousBuild | None:
    """The pull request's previous build (``covtool_find_previous_build``) with repository
    paths, or why there is none; None when no plugin looks for one.

    Never fails the run: an error on the way (the store cannot be read) becomes the reason.
    """
    try:
        found: PreviousBuild | None = run.hook.covtool_find_previous_build(run=run)
        if found is None or found.build is None:
            return found
        profile = place_paths(run, found.build.profile, found.build.location)
    except CovtoolError as error:
        return PreviousBuild(None, f"the previous build could not be looked up: {error}")
    return dataclasses.replace(found, build=dataclasses.replace(found.build, profile=profile))


def place_paths(run: Run, profile: Profile, name: str) -> Profile:
    """``profile`` with repository-relative paths; paths that cannot be placed are warned of.

    Reports and comparisons need repository paths; profile transforms (merge, filter,
    aggregate) do not place, so that a Go profile keeps the import paths Go's tools expect.
    """
    placed, unplaced = place_profile(profile, run.path_rules)
    if unplaced:
        shown = format_names(unplaced, 5)
        run.warn(
            f"{name}: {len(unplaced)} of {len(profile)} paths are not in the repository at "
            f"{run.repository} (outside it, or under no Go module of it) and are kept as "
            f"they are: {shown}; --path-map FROM=TO can place them"
        )
    return placed


def _unclaimed_reason(head: bytes, forced_format: str | None, run: Run) -> str:
    known = ", ".join(sorted(profile_formats(run)))
    if forced_format is not None:
        return f"no plugin reads format {forced_format!r} (known: {known})"
    if not head.strip():
        return "empty file, not a coverage profile"
    if b"\0" in head:
        return "binary data, not a coverage profile"
    return f"not a coverage profile in a known format ({known}); --format forces one"


def profile_formats(run: Run) -> list[str]:
    """Names of the coverage formats that the loaded plugins read."""
    return sorted(name for name, fmt in report_formats(run).items() if fmt.readable)


def read_profiles(
    run: Run, paths: Sequence[Path], forced_format: str | None = None
) -> tuple[list[Profile], list[str]]:
    """Parse several coverage files; returns the profiles and their names."""
    return [read_profile(run, path, forced_format) for path in paths], [str(p) for p in paths]


def read_placed(run: Run, paths: Sequence[Path], forced_format: str | None = None) -> Profile:
    """Parse, place every path in the repository, and merge: the input of reports."""
    profiles, names = read_profiles(run, paths, forced_format)
    placed = [place_paths(run, p, n) for p, n in zip(profiles, names, strict=True)]
    return merge(placed, names)


def report_formats(run: Run) -> dict[str, ReportFormat]:
    """Every format the loaded plugins handle (read, write or both), by name."""
    offered: dict[str, ReportFormat] = {}
    for formats in run.hook.covtool_report_formats():
        for fmt in formats:
            if fmt.name in offered:
                raise UsageError(f"two plugins offer the report format {fmt.name!r}")
            offered[fmt.name] = fmt
    return offered


def render(run: Run, report: Report, formats: Sequence[str]) -> list[Artifact]:
    """Render ``report`` in each of ``formats``; an unknown or unrendered format is an error."""
    offered = {name: fmt for name, fmt in report_formats(run).items() if fmt.writable}
    for name in formats:
        if name not in offered:
            known = ", ".join(sorted(offered))
            raise UsageError(f"unknown report format {name!r} (available: {known})")
    artifacts = [
        artifact
        for produced in run.hook.covtool_render_report(
            report=report, formats=list(formats), run=run
        )
        for artifact in produced
    ]
    missing = set(formats) - {artifact.format for artifact in artifacts}
    if missing:
        raise UsageError(f"no plugin rendered the report format {sorted(missing)[0]!r}")
    return artifacts


def emit(run: Run, artifact: Artifact, output: Path | None) -> None:
    """Write one artifact to ``output`` (atomically) or, without one, to standard output."""
    if output is not None:
        write_atomic(output, artifact.chunks())
        return
    for piece in artifact.text_chunks():
        run.stdout.write(piece)
    run.stdout.flush()


def publish(run: Run, report: Report, fmt: str, output: Path | None) -> None:
    """Render ``report`` in one format, write it, then announce it (``covtool_report_ready``).

    A file format goes to ``output`` or standard output; a directory format (an HTML site)
    into the directory ``output``, by default its own name in the working directory.
    """
    artifacts = render(run, report, [fmt])
    offered = report_formats(run)[fmt]
    if offered.directory:
        write_artifacts(run, artifacts, {fmt: output or Path(offered.filename)}, {fmt})
    else:
        for artifact in artifacts:
            emit(run, artifact, output)
    run.hook.covtool_report_ready(report=report, artifacts=artifacts, run=run)


def publish_files(run: Run, report: Report, formats: Sequence[str], directory: Path) -> list[Path]:
    """Render ``report`` in each of ``formats`` into ``directory`` (each artifact under its
    own file name; a directory format's under its directory), then announce them all
    (``covtool_report_ready``).

    Every file is written (and said so on stderr) before any plugin publishes, so a failure
    to publish (GitHub unreachable) never loses the report. Returns the paths written.
    """
    artifacts = render(run, report, formats)
    offered = report_formats(run)
    sites = {name for name in formats if offered[name].directory}
    places = {
        name: directory / offered[name].filename if name in sites else directory for name in formats
    }
    written = write_artifacts(run, artifacts, places, sites)
    run.hook.covtool_report_ready(report=report, artifacts=artifacts, run=run)
    return written


def write_artifacts(
    run: Run, artifacts: Sequence[Artifact], places: Mapping[str, Path], sites: Set[str]
) -> list[Path]:
    """Write each artifact, atomically and in order, under the directory ``places`` gives
    its format, and say so on stderr: each file, but a directory format (``sites``) once,
    with its number of files. Returns the paths written."""
    written: list[Path] = []
    for artifact in artifacts:
        path = places[artifact.format] / artifact.filename
        try:
            write_atomic(path, artifact.chunks())
        except OSError as error:
            raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
        written.append(path)
        if artifact.format not in sites:
            run.outcome(f"wrote {path}")
    for name in sorted(sites):
        count = sum(1 for artifact in artifacts if artifact.format == name)
        run.outcome(f"wrote {places[name]}/ ({count:,} files)")
    return written
