"""``covtool run``: the whole job, its steps chosen by the job's type.

========== =================================================================================
presubmit  tests → baseline → the PR's previous build → compare with the PR's files →
           comment, page, markdown, junit into the artifacts → comment and status
           published → marker → gate's exit code
postsubmit tests → profile and ``covtool.json`` (and ``--reports``) → marker, last
periodic   tests → junit (TestGrid) and json per file (and ``--reports``) → marker, last
batch      as postsubmit, but never a marker: a batch of pulls is no baseline
local      tests → the local store's newest healthy build of the base branch → the
           branch's previous run → compare with git → table on the terminal,
           ``line-cov.html`` → marker → the run recorded for its branch → gate's exit
           code; ``--save-baseline`` also records the run as a local postsubmit build
========== =================================================================================

``--shard I/N`` replaces everything after the tests with storing the shard; ``--merge-shards
N`` replaces the tests with waiting for all N shards of the commit and merging them. The
job type comes from Prow's environment (``covtool.prow``) or ``--job-type``. Failing tests
end with exit code 2 after everything else; otherwise the gate decides.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from covtool import engine, prow, shards
from covtool.buildinfo import build_commit, job_name
from covtool.comparison import changed_files, compare_profiles
from covtool.diff import Diff
from covtool.errors import CovtoolError, ExitCode, InputError, UsageError
from covtool.gate import evaluate_gate
from covtool.git import current_branch
from covtool.layout import branch_job_dir, build_ids, job_dir
from covtool.model import Profile
from covtool.presubmit import PAGE_FORMAT, comment_formats, judge
from covtool.profiling import Measured, mark_complete, measure, record
from covtool.records import Baseline, PreviousBuild, RawProfile, Verdict
from covtool.reporting import Report, write_atomic
from covtool.run import Run
from covtool.steps import Steps
from covtool.storage import Storage
from covtool.upload import Destination, upload

#: What each job type writes into the artifacts besides the profile and ``covtool.json``.
PRESUBMIT_REPORTS = ("markdown", "junit")
PERIODIC_REPORTS = ("junit", "json")


@dataclass(frozen=True)
class RunOptions:
    """What the command line of ``covtool run`` asks for, besides the settings."""

    job_type: str | None = None
    save_baseline: bool = False
    shard: shards.Shard | None = None
    merge_shards: int | None = None


@dataclass
class JobState:
    """What the steps hand on to each other."""

    job: prow.Job
    artifacts: Path
    steps: Steps
    measured: Measured | None = None
    new: Profile | None = None
    baseline: Baseline | None = None
    previous: PreviousBuild | None = None
    diff: Diff | None = None
    verdicts: tuple[Verdict, ...] = ()
    codes: list[ExitCode] = field(default_factory=list)

    @property
    def measurement(self) -> Measured:
        assert self.measured is not None, "a step needs the tests' profile before it exists"
        return self.measured


Step = tuple[str, Callable[[Run, JobState], None]]


def run_job(run: Run, options: RunOptions) -> ExitCode:
    """Run the job's steps in order, announce each, and end with a summary."""
    job = prow.read_job(run.environ, options.job_type)
    _check_options(job, options)
    plan = plan_steps(run, job, options)
    state = JobState(job, Path(run.config.get("artifacts")), Steps(run, len(plan)))
    state.steps.say(f"{job.describe()}; artifacts in {state.artifacts}")
    for title, function in plan:
        with state.steps.step(title):
            function(run, state)
    code = _exit_code(state.codes)
    _summary(run, state, code)
    return code


def _check_options(job: prow.Job, options: RunOptions) -> None:
    if options.shard is not None and options.merge_shards is not None:
        raise UsageError("--shard and --merge-shards are different jobs: give one of them")
    if options.save_baseline and job.in_prow:
        raise UsageError(
            f"--save-baseline records a local build; in a Prow {job.type} job the "
            "postsubmit's uploaded artifacts are the baseline"
        )
    if options.merge_shards is not None and options.merge_shards < 1:
        raise UsageError(f"--merge-shards {options.merge_shards}: expected a number of shards")


def plan_steps(run: Run, job: prow.Job, options: RunOptions) -> list[Step]:
    """The steps of this job, in order."""
    if options.merge_shards is not None:
        first: Step = (f"merge {options.merge_shards} shards", merge_shards_step(options))
    else:
        first = ("run the tests with coverage", profile_step)
    if options.shard is not None:
        return [first, (f"store shard {options.shard}", store_shard_step(options.shard))]
    if job.type == prow.PRESUBMIT:
        return [
            first,
            ("find the baseline", baseline_step),
            ("find the PR's previous build", previous_step),
            ("compare with the baseline", compare_step),
            ("write the reports and tell the pull request", presubmit_report_step),
            ("mark the build complete", marker_step),
            ("judge", gate_step),
        ]
    if job.type == prow.LOCAL:
        plan = [
            first,
            ("find the local baseline", local_baseline_step),
            ("find the branch's previous run", previous_step),
            ("compare with the baseline", compare_step),
            ("report", local_report_step),
            ("mark the build complete", marker_step),
        ]
        branch = current_branch(run.root)
        if branch and run.config.get("record_local_runs"):
            plan += [(f"record the run for branch {branch}", record_run_step(branch))]
        plan += [("save as a local baseline", save_baseline_step)] if options.save_baseline else []
        return [*plan, ("judge", gate_step)]
    own = PERIODIC_REPORTS if job.type == prow.PERIODIC else ()
    formats = list(dict.fromkeys([*own, *run.config.get("reports")]))
    plan = [first] + ([("write the reports", reports_step(formats))] if formats else [])
    if job.type != prow.BATCH:
        plan.append(("mark the build complete", marker_step))
    return plan


# -- getting a profile -----------------------------------------------------------------------
def profile_step(run: Run, state: JobState) -> None:
    """Run the tests; the profile, the test output and ``covtool.json`` go to the artifacts."""
    state.measured = measure(run, state.artifacts)
    _say_measured(run, state.measured, with_log=True)
    if not state.measured.tests_passed:
        state.codes.append(ExitCode.TESTS_FAILED)
        state.steps.say(
            "the tests failed; coverage is still reported, and exit code 2 ends the run"
        )


def _say_measured(run: Run, measured: Measured, with_log: bool) -> None:
    """One line for the files the tests (or the merge) left in the artifacts."""
    names = [measured.names["stdout_name"]] if with_log else []
    names += [measured.path.name, measured.names["metadata_name"]]
    run.outcome(f"wrote {', '.join(str(measured.path.parent / name) for name in names)}")


def store_shard_step(shard: shards.Shard) -> Callable[[Run, JobState], None]:
    """Store this shard's profile and metadata under its commit, the marker last."""

    def step(run: Run, state: JobState) -> None:
        measured = state.measurement
        store = engine.open_store(run, engine.store_url(run))
        directory = _shard_directory(run, state)
        files = [measured.path, state.artifacts / measured.names["metadata_name"]]
        place = shards.store_shard(run, store, directory, shard, files)
        run.outcome(f"stored shard {shard} in {store.url.rstrip('/')}/{place}")

    return step


def merge_shards_step(options: RunOptions) -> Callable[[Run, JobState], None]:
    """Wait for every shard of the commit, merge them, and write the merged profile and
    its ``covtool.json`` into the artifacts as a test run would."""
    total = options.merge_shards or 0

    def step(run: Run, state: JobState) -> None:
        started = time.time()
        store = engine.open_store(run, engine.store_url(run))
        directory = _shard_directory(run, state)
        found = shards.wait_for_shards(run, store, directory, total, state.steps.say)
        stored = shards.read_shards(run, store, directory, found)
        state.measured = _write_merged(run, state.artifacts, stored, started)
        _say_measured(run, state.measured, with_log=False)
        if not state.measured.tests_passed:
            failed = [str(s.shard) for s in stored if not s.tests_passed]
            state.codes.append(ExitCode.TESTS_FAILED)
            state.steps.say(f"the tests of shard {', '.join(failed)} failed")

    return step


def _shard_directory(run: Run, state: JobState) -> str:
    commit = build_commit(run)
    if not commit:
        raise UsageError(
            "a sharded run is keyed by its commit: set Prow's PULL_BASE_SHA (or "
            "PULL_PULL_SHA), or run in a git checkout"
        )
    group = shards.shard_group(run, state.job.name or job_name(run))
    return shards.set_directory(group, commit)


def _write_merged(
    run: Run, artifacts: Path, stored: list[shards.StoredShard], started: float
) -> Measured:
    profile = shards.merged(stored)
    offered = engine.report_formats(run)
    fmt = profile.source_format
    if fmt not in offered or not offered[fmt].writable:
        fmt = "covtool"  # covtool's own JSON: lossless, and read back by every command
    name = run.config.get("profile_name") or offered[fmt].filename
    artifacts.mkdir(parents=True, exist_ok=True)
    for artifact in engine.render(run, Report(profile), [fmt]):
        write_atomic(artifacts / name, artifact.chunks())
    statuses = [s.metadata.get("test_exit_status") or 0 for s in stored]
    raw = RawProfile(
        artifacts / name,
        fmt,
        all(s.tests_passed for s in stored),
        f"{len(stored)} shards",
        name,
        next((status for status in statuses if status), 0),
    )
    return record(run, artifacts, profile, raw, name, started)


# -- comparing -------------------------------------------------------------------------------
def baseline_step(run: Run, state: JobState) -> None:
    """The newest healthy build of the postsubmit job."""
    state.baseline = engine.load_baseline(run)
    _say_baseline(state)


def local_baseline_step(run: Run, state: JobState) -> None:
    """The local store's newest healthy build; none yet is no error on a laptop."""
    try:
        state.baseline = engine.load_baseline(run)
    except InputError:
        state.steps.say(
            "no local baseline yet (`covtool baseline` says why); `covtool run "
            "--save-baseline` on the base branch records one"
        )
        return
    _say_baseline(state)


def _say_baseline(state: JobState) -> None:
    found = state.baseline
    assert found is not None
    behind = "" if found.commits_behind is None else f", {found.commits_behind} commits behind"
    commit = (found.commit or "unknown commit")[:12]
    state.steps.say(f"baseline: build {found.build_id} ({commit}{behind}) at {found.location}")


def previous_step(run: Run, state: JobState) -> None:
    """The pull request's previous build (locally: the branch's previous run), or why
    there is none; never an error. Without a baseline nothing is compared, so nothing is
    looked up."""
    if state.baseline is None:
        state.steps.say("no baseline, so no comparison with a previous run either")
        return
    state.previous = engine.find_previous(run)
    found = state.previous
    if found is None:
        state.steps.say("no plugin looks for previous builds")
    elif found.build is None:
        state.steps.say(f"no comparison with a previous build: {found.reason}")
    else:
        commit = (found.build.commit or "unknown commit")[:12]
        state.steps.say(
            f"previous build: {found.build.build_id} ({commit}) at {found.build.location}"
        )


def compare_step(run: Run, state: JobState) -> None:
    """Per file old, new and delta over the change's files, also since the previous build;
    the gate's verdicts."""
    measured = state.measurement
    state.new = engine.place_paths(run, measured.profile, str(measured.path))
    if state.baseline is None:
        return
    changes = changed_files(run)
    base = state.baseline
    state.diff = compare_profiles(run, base.profile, state.new, changes, base, state.previous)
    state.verdicts = evaluate_gate(run, state.diff)


def _report(run: Run, state: JobState, publish: bool) -> Report:
    assert state.new is not None
    threshold = run.config.get("coverage_threshold")
    return Report(
        state.new, threshold=threshold, diff=state.diff, verdicts=state.verdicts, publish=publish
    )


# -- reporting -------------------------------------------------------------------------------
def presubmit_report_step(run: Run, state: JobState) -> None:
    """The comment, its page, markdown and junit into the artifacts; then the plugins
    publish (the sticky comment, the commit status)."""
    extra = [*PRESUBMIT_REPORTS, *run.config.get("reports")]
    formats = comment_formats(run, _offered(run, extra, state.measurement))
    engine.publish_files(run, _report(run, state, publish=True), formats, state.artifacts)


def local_report_step(run: Run, state: JobState) -> None:
    """The table on the terminal; the page (and ``--reports``) into the artifacts."""
    report = _report(run, state, publish=False)
    engine.publish(run, report, "text", None)
    formats = _offered(run, [PAGE_FORMAT, *run.config.get("reports")], state.measurement)
    if formats:
        engine.publish_files(run, report, formats, state.artifacts)


def reports_step(formats: list[str]) -> Callable[[Run, JobState], None]:
    """Reports of the profile (the job type's own, then ``--reports``) into the artifacts."""

    def step(run: Run, state: JobState) -> None:
        measured = state.measurement
        state.new = engine.place_paths(run, measured.profile, str(measured.path))
        report = _report(run, state, publish=False)
        engine.publish_files(run, report, _offered(run, formats, measured), state.artifacts)

    return step


def _offered(run: Run, formats: list[str], measured: Measured) -> list[str]:
    """``formats`` whose plugin is active (a blocked one is skipped with a word), each
    checked not to be written over an artifact of the test run."""
    offered = engine.report_formats(run)
    taken = {measured.path.name, *measured.names.values()}
    for name in formats:
        if name not in offered:
            run.warn(f"no active plugin writes the {name!r} report; it is skipped")
        elif offered[name].filename in taken:
            raise UsageError(
                f"the {name!r} report would be written over the artifact "
                f"{offered[name].filename}; rename the artifact (profile_name, stdout_name, "
                "metadata_name, marker_name)"
            )
    return [name for name in dict.fromkeys(formats) if name in offered]


# -- ending ----------------------------------------------------------------------------------
def marker_step(run: Run, state: JobState) -> None:
    """The completion marker, the last file, when the tests passed."""
    measured = state.measurement
    if mark_complete(run, state.artifacts, measured):
        run.outcome(f"wrote {state.artifacts / measured.names['marker_name']} (last)")
    else:
        state.steps.say("no completion marker: the tests failed, so this build is no baseline")


def save_baseline_step(run: Run, state: JobState) -> None:
    """Record the artifacts as the next build of the local postsubmit job."""
    store = engine.open_store(run, engine.store_url(run))
    job = job_name(run)
    build = _next_build(store, job_dir(job))
    destination = Destination(job, build)
    keys = upload(run, state.artifacts, destination, store.url)
    run.outcome(f"saved build {build} of {job} in {store.url} ({len(keys)} objects)")


def record_run_step(branch: str) -> Callable[[Run, JobState], None]:
    """Record the run's profile, ``covtool.json`` and marker as the next local run of the
    branch, so that the next run on it can say what changed since; a store that cannot be
    written is a warning."""

    def step(run: Run, state: JobState) -> None:
        measured = state.measurement
        names = [measured.path.name, measured.names["metadata_name"], measured.names["marker_name"]]
        job = job_name(run)
        try:
            store = engine.open_store(run, engine.builds_store_url(run))
            build = _next_build(store, branch_job_dir(branch, job))
            with tempfile.TemporaryDirectory(prefix="covtool-run-") as scratch:
                for name in names:
                    if (state.artifacts / name).is_file():
                        shutil.copy2(state.artifacts / name, Path(scratch) / name)
                upload(run, Path(scratch), Destination(job, build, branch=branch), store.url)
        except CovtoolError as error:
            # A convenience for the next run: its failure must not fail this one.
            run.warn(f"this run was not recorded for branch {branch}: {error}")
            return
        run.outcome(f"recorded run {build} of branch {branch} in {store.url}")

    return step


def _next_build(store: Storage, directory: str) -> str:
    """The build id after the newest under ``directory`` (1 for the first)."""
    _, prefixes = store.list(directory)
    ids, _ = build_ids(prefixes, directory)
    return str(int(ids[0]) + 1 if ids else 1)


def gate_step(run: Run, state: JobState) -> None:
    """The gate's verdicts become the exit code (after everything is out)."""
    state.codes.append(judge(run, state.verdicts))


def _exit_code(codes: list[ExitCode]) -> ExitCode:
    """Failing tests outrank a failing gate: they say the numbers themselves are partial."""
    if ExitCode.TESTS_FAILED in codes:
        return ExitCode.TESTS_FAILED
    return max(codes, default=ExitCode.OK)


def _summary(run: Run, state: JobState, code: ExitCode) -> None:
    meaning = "ok" if code == ExitCode.OK else code.name.lower().replace("_", " ")
    state.steps.say(
        f"{state.job.type} done in {state.steps.elapsed():.1f}s: exit {int(code)} ({meaning})"
    )
    for line in run.outcomes:
        state.steps.say(f"  {line}")
