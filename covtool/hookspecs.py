"""The plugin contract: every hook covtool calls, grouped by the phase that calls it.

Three kinds of hook:

* **notification** hooks are past-tense events (``covtool_diff_computed``); every
  implementation is called and return values are ignored;
* **provider** hooks are ``firstresult``: implementations are called in turn until one
  returns something other than None, which *claims* the input (a storage backend its URL
  scheme, a format plugin its file); the rest are not called;
* **collection** hooks return a list from every implementation; covtool concatenates them.

Implementations may accept fewer parameters than a spec lists, so a spec can grow without
breaking plugins. An implementation is a function named like its hook, in a module or class
registered as a plugin; marking it with ``covtool.hookimpl`` is recommended (and needed for
options such as ``tryfirst``). A ``covtool_*`` function that matches no hook is an error at
start-up, so a misspelt hook never goes silently uncalled. Any hook may raise a
``covtool.CovtoolError`` to end the run with that error's one-line message and exit code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    from covtool.config import Config, Parser
    from covtool.diff import Diff
    from covtool.errors import ExitCode
    from covtool.model import Profile
    from covtool.records import (
        Baseline,
        ChangeSet,
        PreviousBuild,
        ProfileSource,
        RawProfile,
        Verdict,
    )
    from covtool.reporting import Artifact, Report, ReportFormat
    from covtool.run import Run
    from covtool.storage import Storage

hookspec = pluggy.HookspecMarker("covtool")


# ---------------------------------------------------------------------------------------
# start-up
# ---------------------------------------------------------------------------------------
@hookspec
def covtool_addoption(parser: Parser) -> None:
    """Declare this plugin's settings.

    Called once for each registered plugin, after every plugin is registered and before the
    configuration is read; the settings declared here are what ``covtool.toml``,
    ``COVTOOL_*`` environment variables and command-line flags may set.

    :param parser: call ``parser.addoption(name, type=..., default=..., help=...)`` for each
        setting. Names are lower-case words joined by underscores; two plugins declaring the
        same name is an error naming both.

    Return value: ignored.
    """


@hookspec(historic=True)
def covtool_configure(config: Config) -> None:
    """The configuration is complete; set up plugin state.

    Called once, after every configuration layer is applied, and also for plugins
    registered later (historic). A stateful plugin builds its object here and registers it
    with ``config.pluginmanager.register``.

    :param config: the final settings; ``config.get(name)`` reads one.

    Return value: ignored.
    """


# ---------------------------------------------------------------------------------------
# profile: tests run with coverage, and coverage files become profiles
# ---------------------------------------------------------------------------------------
@hookspec
def covtool_runners() -> list[str]:
    """Name the test runners this plugin provides.

    Called before tests run, to check ``--runner NAME`` and to list the choices when the
    name is unknown or no runner recognises the repository.

    Return value (collected): the names of all plugins, concatenated.
    """
    return []


@hookspec(firstresult=True)
def covtool_run_tests(run: Run, scratch: Path) -> RawProfile | None:
    """Run the repository's tests with coverage.

    Called by workflows that make their own profile (``covtool profile``). A runner claims
    the repository when ``run.config.get("runner")`` names it, or, when no runner is named,
    when it recognises the repository (``go.mod``: go; ``pyproject.toml`` and the like:
    pytest); others return None. Commands go through ``covtool.run_command`` so that their
    output is streamed, saved and cleaned up. Failing tests are not an error: the runner
    says so in ``tests_passed``; a command that cannot run at all raises ``UsageError``.

    :param run: the current run: settings, the repository (``run.root``), the test log.
    :param scratch: an empty directory for coverage files, removed after the run.

    Return value (firstresult): the first ``RawProfile`` returned wins.
    """


@hookspec(firstresult=True)
def covtool_parse_profile(source: ProfileSource, run: Run) -> Profile | None:
    """Parse a coverage file into a profile.

    Called once per coverage file read. A format plugin sniffs ``source.head()`` (or checks
    ``source.format``, the name forced with ``--format``) and claims the file by returning a
    ``Profile``; a file it does not recognise gets None. A claimed file that is malformed
    raises ``covtool.InputError`` naming the file and line.

    :param source: the file, and the format forced by the user if any.
    :param run: the current run.

    Return value (firstresult): the first ``Profile`` returned wins.
    """


@hookspec
def covtool_profile_generated(profile: Profile, run: Run) -> None:
    """The tests ran and their coverage profile is parsed.

    Called once per workflow that ran tests, before any comparison.

    :param profile: the new profile, merged over all coverage files of the run.
    :param run: the current run.

    Return value: ignored.
    """


# ---------------------------------------------------------------------------------------
# baseline: the main branch's coverage to compare with
# ---------------------------------------------------------------------------------------
@hookspec(firstresult=True)
def covtool_make_storage(url: str, config: Config) -> Storage | None:
    """Open the store that ``url`` names.

    Called whenever covtool needs a store (the baseline location, the artifacts upload). A
    backend claims the URL's scheme (``gs://``, ``file://`` or a plain path) by returning a
    ``Storage``; other backends return None.

    :param url: the location as configured.
    :param config: the settings (credentials, retry bounds).

    Return value (firstresult): the first ``Storage`` returned wins.
    """


@hookspec(firstresult=True)
def covtool_load_baseline(run: Run) -> Baseline | None:
    """Find and load the profile of the newest healthy build of the main branch.

    Called by the presubmit workflow after the new profile is made.

    :param run: the current run.

    Return value (firstresult): the first ``Baseline`` returned wins; None from every plugin
    means there is no baseline.
    """


@hookspec
def covtool_baseline_loaded(baseline: Baseline, run: Run) -> None:
    """A baseline was found and parsed.

    Called once, right after ``covtool_load_baseline`` returned a baseline.

    :param baseline: the profile, and the build and commit it came from.
    :param run: the current run.

    Return value: ignored.
    """


@hookspec(firstresult=True)
def covtool_find_previous_build(run: Run) -> PreviousBuild | None:
    """Find the pull request's previous build: the newest healthy earlier build of this job
    for the same pull request whose commit is not this one (locally: the branch's previous
    recorded run), so that a presubmit can say what the latest push alone changed.

    Called by the presubmit and local workflows after the baseline is loaded. The build's
    profile is read with repository paths placed by covtool afterwards, as a baseline's is.

    :param run: the current run.

    Return value (firstresult): the first ``PreviousBuild`` returned wins: the build found,
    or the reason there is none (``first run for this PR``). None from every plugin means
    no comparison with a previous build is made. A ``CovtoolError`` raised here (storage
    unreachable) becomes the reason; it never fails the run.
    """


# ---------------------------------------------------------------------------------------
# diff: what the change touched, and how coverage moved
# ---------------------------------------------------------------------------------------
@hookspec(firstresult=True)
def covtool_changed_files(run: Run) -> ChangeSet | None:
    """List the files the pull request (or the local branch) changed.

    Called by the presubmit and local workflows, and by ``covtool diff --changes``. The
    ``changes`` setting names the source (``github``, ``git``, ``git:BASE..HEAD``, ``none``)
    or is empty for the default (GitHub in a Prow presubmit, git elsewhere); a source claims
    the call when it is the one named, and returns None otherwise. A source that cannot
    answer raises a ``CovtoolError``, or falls back to another and says so in ``notes``.

    :param run: the current run.

    Return value (firstresult): the first ``ChangeSet`` returned wins.
    """


@hookspec
def covtool_ignore_files(paths: list[str], run: Run) -> dict[str, str]:
    """Say which files to leave out of the comparison, and why.

    Called once per comparison with every file that would be reported: the changed files,
    the files their tests stand for, and the files whose coverage moved without a change.
    All paths come in one call so that a plugin can answer them together (one
    ``git check-attr`` for every path, not one per path).

    :param paths: repository-relative POSIX paths.
    :param run: the current run.

    Return value (collected): each plugin returns ``{path: reason}`` for the paths it leaves
    out (the reason is shown to the reader: ``linguist-generated``, ``exclude: gen/*``); a
    path any plugin names is left out.
    """
    return {}


@hookspec
def covtool_diff_computed(diff: Diff, run: Run) -> None:
    """The comparison of the new profile with the baseline is complete.

    Called once per comparison, before the gate and the reports.

    :param diff: per-file old and new totals and deltas, patch coverage, lost and gained
        lines, files whose coverage moved without a change, and what was left out; in a
        presubmit, also the comparison with the pull request's previous build
        (``diff.previous``).
    :param run: the current run.

    Return value: ignored.
    """


# ---------------------------------------------------------------------------------------
# gate: whether coverage is good enough
# ---------------------------------------------------------------------------------------
@hookspec
def covtool_evaluate_gate(diff: Diff, run: Run) -> list[Verdict]:
    """Judge the comparison against the configured thresholds.

    Called once per comparison that a workflow judges (``covtool comment``), after
    ``covtool_diff_computed`` and before the reports, which show the verdicts. Each rule
    plugin returns the verdicts of its rules (an empty list when it has none configured).
    The job fails when a verdict that is not informational did not pass; the exit code is
    set only after every report is published.

    :param diff: the comparison.
    :param run: the current run.

    Return value (collected): the lists of all plugins, concatenated.
    """
    return []


# ---------------------------------------------------------------------------------------
# report: render, then publish
# ---------------------------------------------------------------------------------------
@hookspec
def covtool_report_formats() -> list[ReportFormat]:
    """Declare the formats this plugin handles: those it renders, and those it reads.

    Called when covtool needs the list of formats: to check ``--format`` (formats with
    ``writable``), to name the known coverage formats in messages (``readable``), and for
    ``covtool plugins``. A format plugin that only reads declares ``writable=False``.

    Return value (collected): the lists of all plugins, concatenated; two plugins offering
    the same name is an error.
    """
    return []


@hookspec
def covtool_render_report(report: Report, formats: list[str], run: Run) -> list[Artifact]:
    """Render the report in each requested format this plugin offers.

    Called once per report. A renderer returns one ``Artifact`` per requested format it owns
    (and an empty list when none is requested); covtool writes the files. A format declared
    with ``directory=True`` (an HTML site) returns one artifact per file, named relative to
    its directory; covtool writes them in the order given, so the entry page goes last.

    :param report: the profile, and the comparison when there is one.
    :param formats: the format names requested.
    :param run: the current run.

    Return value (collected): the artifacts of all plugins, concatenated.
    """
    return []


@hookspec
def covtool_report_ready(report: Report, artifacts: list[Artifact], run: Run) -> None:
    """The reports are rendered and written; publish them (comment, upload, terminal).

    Called once per report, after every artifact is written. A plugin that publishes
    beyond the run's own files (a PR comment, a commit status) does so only for a report
    whose ``publish`` is set: ``covtool comment`` sets it; ``report``, ``diff`` and a dry
    run do not. A failure to publish raises ``ServiceError``; the files are already written.

    :param report: what was rendered.
    :param artifacts: every rendered artifact.
    :param run: the current run.

    Return value: ignored.
    """


# ---------------------------------------------------------------------------------------
# end
# ---------------------------------------------------------------------------------------
@hookspec
def covtool_run_finished(run: Run, exit_code: ExitCode) -> None:
    """The run is over and will end with ``exit_code``.

    Called last, also when the run failed with a covtool error. Writing the completion
    marker of a build belongs here, so that it is always the last object written.

    :param run: the current run.
    :param exit_code: the code the command is about to exit with.

    Return value: ignored.
    """
