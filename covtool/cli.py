"""The command line: parse, hand the work to the engine, turn the outcome into an exit code.

The typer app is made after start-up (``covtool.startup``), with one flag per declared
setting on every command that does work.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import re
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from covtool import engine, locations
from covtool.config import Setting
from covtool.errors import CovtoolError, ExitCode, InputError, UsageError
from covtool.jobs import RunOptions, run_job
from covtool.plugins import hooks_of
from covtool.presubmit import Inputs, comment_workflow, compare_inputs
from covtool.process import Terminated, sigterm_raises
from covtool.profileops import aggregate as aggregate_profiles
from covtool.profileops import filter_paths
from covtool.profileops import merge as merge_profiles
from covtool.profiling import profile_workflow
from covtool.reporting import Report
from covtool.run import Run
from covtool.shards import parse_shard
from covtool.startup import Startup, start
from covtool.upload import Destination, upload
from covtool.version import __version__

_SETTING = "setting__"
_CLI_ONLY = ("plugin", "plugin_list", "config")


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run covtool with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    environ = os.environ if environ is None else environ
    try:
        startup = start(args, environ)
        command = typer.main.get_command(build_app(startup))
        with sigterm_raises():
            result = command.main(args, prog_name="covtool", standalone_mode=False, obj=startup)
        return int(result) if isinstance(result, int) else ExitCode.OK
    except CovtoolError as error:
        print(
            error if isinstance(error, InputError) else f"covtool: error: {error}", file=sys.stderr
        )
        return error.exit_code
    except _CLICK_ERROR as error:
        print(f"covtool: error: {error.format_message()}", file=sys.stderr)  # type: ignore[attr-defined]
        return ExitCode.USAGE_ERROR
    except (KeyboardInterrupt, typer.Abort):
        print("covtool: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Terminated:
        print("covtool: terminated by SIGTERM; no completion marker was written", file=sys.stderr)
        return ExitCode.TERMINATED
    except Exception as error:  # noqa: BLE001 - a bug: one line, the traceback on request
        if environ.get("COVTOOL_DEBUG"):
            traceback.print_exc()
        print(
            f"covtool: internal error: {type(error).__name__}: {error} "
            "(set COVTOOL_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL_ERROR


def _click_error_type() -> type[Exception]:
    """click's ClickException, which typer re-exports only through its subclasses."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


_CLICK_ERROR = _click_error_type()


# -- the app -----------------------------------------------------------------------------------
def build_app(startup: Startup) -> typer.Typer:
    """The typer app, with a flag for every declared setting on each working command."""
    app = typer.Typer(
        name="covtool",
        help="Coverage for pull-request CI: run, compare, report, gate.",
        pretty_exceptions_show_locals=False,
        # Plain help: rich tables cut long option names short in an 80-column CI log.
        rich_markup_mode=None,
        add_completion=False,
        no_args_is_help=True,
    )
    app.callback()(_root)
    app.command("run")(with_settings(run_command, startup.settings))
    for function in (profile, report, merge, diff, comment, filter_command, aggregate, convert):
        name = function.__name__.removesuffix("_command")
        app.command(name)(with_settings(function, startup.settings))
    app.command("baseline")(with_settings(baseline_command, startup.settings))
    app.command("upload")(with_settings(upload_command, startup.settings))
    app.command("plugins")(with_settings(plugins, {}))
    app.command("config")(with_settings(config_command, startup.settings))
    return app


def with_settings(
    function: Callable[..., int], settings: Mapping[str, Setting]
) -> Callable[..., int]:
    """``function`` with one keyword parameter per setting (and the plugin flags) added.

    The added values are taken out before ``function`` is called: the setting flags go to
    ``Startup.flags``, the plugin flags were read at start-up.
    """
    signature = inspect.signature(function, eval_str=True)
    extra = [_setting_parameter(s) for s in sorted(settings.values(), key=lambda s: s.name)]
    extra += _selection_parameters()

    @functools.wraps(function)
    def wrapper(**kwargs: Any) -> int:
        ctx: typer.Context = kwargs["ctx"]
        startup: Startup = ctx.obj
        for name in list(kwargs):
            if name.startswith(_SETTING):
                value = kwargs.pop(name)
                startup.flags[name[len(_SETTING) :]] = value if value not in ((), []) else None
            elif name in _CLI_ONLY:
                kwargs.pop(name)
        return function(**kwargs)

    parameters = [*signature.parameters.values(), *extra]
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper


def _setting_parameter(setting: Setting) -> inspect.Parameter:
    names = [setting.flag]
    if "_" in setting.name:
        names.append("--" + setting.name)
    for alias in setting.aliases:  # the original tool's names, with hyphens or underscores
        names += dict.fromkeys(["--" + alias, "--" + alias.replace("-", "_")])
    annotation: Any = str | None
    if setting.type == "bool":
        names = [f"{name}/--no-{name[2:]}" for name in names]
        annotation = bool | None
    elif setting.type == "list":
        annotation = list[str] | None
    option = typer.Option(
        None,
        *names,
        help=f"{setting.help} [{setting.env}]",
        rich_help_panel="Settings",
        show_default=False,
    )
    return inspect.Parameter(
        _SETTING + setting.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=option,
        annotation=annotation,
    )


def _selection_parameters() -> list[inspect.Parameter]:
    panel = "Plugins and configuration"
    options = {
        "plugin": (
            list[str] | None,
            typer.Option(
                None, "-p", help="Add plugin NAME, or block it with no:NAME.", rich_help_panel=panel
            ),
        ),
        "plugin_list": (
            str | None,
            typer.Option(
                None,
                "--plugins",
                help="Comma-separated plugin specs, as -p.",
                rich_help_panel=panel,
            ),
        ),
        "config": (
            str | None,
            typer.Option(
                None,
                "--config",
                help="Configuration file instead of the nearest covtool.toml.",
                rich_help_panel=panel,
            ),
        ),
    }
    return [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation
        )
        for name, (annotation, option) in options.items()
    ]


def _print_version(value: bool) -> None:
    if value:
        print(f"covtool {__version__}")
        raise typer.Exit(ExitCode.OK)


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    """Coverage for pull-request CI: run, compare, report, gate."""


# -- commands ----------------------------------------------------------------------------------
Profiles = Annotated[
    list[Path], typer.Argument(help="Coverage files; several are merged first.", show_default=False)
]
Output = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output",
        help="Write here instead of standard output (a directory for --format html, by "
        "default covtool-html).",
    ),
]
InputFormat = Annotated[
    str | None,
    typer.Option("--input-format", help="Read the inputs as this format instead of detecting it."),
]


def _execute(
    ctx: typer.Context, output: Path | None, work: Callable[[Run], ExitCode | None]
) -> int:
    """Make the run, do the work, and always tell the plugins how it ended."""
    startup: Startup = ctx.obj
    run = startup.make_run(output)
    code = ExitCode.INTERNAL_ERROR
    try:
        code = work(run) or ExitCode.OK
    except CovtoolError as error:
        code = error.exit_code
        raise
    except KeyboardInterrupt:
        code = ExitCode.INTERRUPTED
        raise
    except Terminated:
        code = ExitCode.TERMINATED
        raise
    finally:
        run.hook.covtool_run_finished(run=run, exit_code=code)
    return code


def profile(ctx: typer.Context) -> int:
    """Run the repository's tests with coverage and write the artifacts a CI job needs.

    The runner is the one --runner names, or the one that recognises the repository
    (go.mod: go; pyproject.toml, setup.cfg, pytest.ini or tox.ini: pytest). Into --artifacts
    go stdout.txt (the test output), the profile, covtool.json (metadata and totals) and,
    last, the empty profile-completed marker — only when the tests passed, unless
    --allow-test-failures. Failing tests end with exit code 2, after the artifacts.
    """
    return _execute(ctx, None, profile_workflow)


def run_command(
    ctx: typer.Context,
    job_type: Annotated[
        str | None,
        typer.Option(
            "--job-type",
            help="presubmit, postsubmit, periodic, batch or local (default: Prow's JOB_TYPE, "
            "else local).",
        ),
    ] = None,
    save_baseline: Annotated[
        bool,
        typer.Option(
            "--save-baseline",
            help="Local runs: record this run in the local store as the baseline to compare "
            "later runs with.",
        ),
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            metavar="I/N",
            help="Run as shard I of N: store the profile under the commit, report nothing.",
        ),
    ] = None,
    merge_shards: Annotated[
        int | None,
        typer.Option(
            "--merge-shards",
            metavar="N",
            help="Run no tests: wait for all N shards of the commit (--shard-wait), merge "
            "them, then report as the job type does.",
        ),
    ] = None,
) -> int:
    """Run the whole job: what Prow's job type (or a local run) needs, in order.

    presubmit: tests, baseline, comparison over the pull request's files, the comment
    (bot-post), line-cov.html, markdown and junit into the artifacts, the sticky comment
    and commit status, the completion marker, then the gate's exit code. postsubmit: tests,
    profile and covtool.json, the marker last. periodic: also junit_coverage.xml for
    TestGrid and covtool-report.json. batch: as postsubmit without the marker. local (no
    Prow environment): compared with the local store's baseline over git's changes, a
    table and line-cov.html. Each step is announced; the end lists what was written where.
    """
    options = RunOptions(
        job_type=job_type,
        save_baseline=save_baseline,
        shard=parse_shard(shard) if shard is not None else None,
        merge_shards=merge_shards,
    )
    return _execute(ctx, None, lambda run: run_job(run, options))


def report(
    ctx: typer.Context,
    profiles: Profiles,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="Report format: text, json, markdown, junit, html, html-page, or any a plugin "
            "offers.",
        ),
    ] = "text",
    output: Output = None,
    input_format: InputFormat = None,
) -> int:
    """Summarise coverage per file, per directory and in total."""

    def work(run: Run) -> None:
        profile = engine.read_placed(run, profiles, input_format)
        threshold = run.config.get("coverage_threshold")
        engine.publish(run, Report(profile, threshold=threshold), fmt, output)

    return _execute(ctx, output, work)


def merge(
    ctx: typer.Context,
    sources: Annotated[
        list[str],
        typer.Argument(
            metavar="PROFILES...",
            help="Coverage files, globs, or store URLs (gs://BUCKET/PATH, with * per level).",
            show_default=False,
        ),
    ],
    output: Output = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="Output format (default: the inputs' format)."),
    ] = None,
    input_format: InputFormat = None,
    expected: Annotated[
        int | None,
        typer.Option(
            "--expect",
            help="Merge only when the inputs match exactly this many profiles (shards).",
        ),
    ] = None,
    wait: Annotated[
        float,
        typer.Option("--wait", help="Seconds to wait for --expect's profiles to appear."),
    ] = 0.0,
) -> int:
    """Merge profiles: counts of the same block add up; the modes must agree.

    Inputs may be globs and store URLs. With --expect N, covtool looks again (for at most
    --wait seconds) until the inputs match N profiles, and refuses an incomplete set with
    exit code 7, naming the missing shards when their names say (1-of-3, 2-of-3, ...).
    """

    def work(run: Run) -> None:
        if expected is not None:
            if expected < 1:
                raise UsageError(f"--expect {expected}: expected a number of profiles")
            say = functools.partial(print, "covtool:", file=run.stderr)
            found = locations.expect(run, sources, expected, wait, say)
        else:
            found = locations.expand(run, sources)
        profiles = [location.read(run, input_format) for location in found]
        profile = merge_profiles(profiles, [location.name for location in found])
        engine.publish(run, Report(profile), fmt or profile.source_format, output)

    return _execute(ctx, output, work)


def diff(
    ctx: typer.Context,
    profiles: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[BASE HEAD]",
            help="The baseline and the new profile (or use --base and --head).",
            show_default=False,
        ),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="The baseline: a profile, or a store (gs://BUCKET/PREFIX, file://PATH or a "
            "directory) whose newest healthy postsubmit build is used.",
        ),
    ] = None,
    head: Annotated[str | None, typer.Option("--head", help="The new profile.")] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="text, json, markdown, html or html-page.")
    ] = "text",
    output: Output = None,
    input_format: InputFormat = None,
) -> int:
    """Compare a new profile with a baseline: per file old %, new % and delta; with
    --changes, also patch coverage, lost and gained lines, and indirect changes.

    Without --changes every file of either profile is compared. --changes git (the
    merge-base of the base branch and the working tree), git:BASE, git:BASE..HEAD or github
    limits the table to what the change touched and maps each unchanged line to its own
    baseline line.
    """
    inputs = _inputs(ctx, profiles or [], base, head, input_format)

    def work(run: Run) -> None:
        new, result = compare_inputs(run, inputs, always_changes=False)
        threshold = run.config.get("coverage_threshold")
        engine.publish(run, Report(new, threshold=threshold, diff=result), fmt, output)

    return _execute(ctx, output, work)


def comment(
    ctx: typer.Context,
    head: Annotated[str, typer.Option("--head", help="The new profile.")],
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="The baseline: a profile, or a store whose newest healthy postsubmit build "
            "is used (default: the configured store, --baseline).",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the comment; write and post nothing."),
    ] = False,
    input_format: InputFormat = None,
) -> int:
    """Compare with the baseline, judge the change, and tell the pull request.

    Writes the PR comment to <artifacts>/bot-post and the line-by-line page it links to
    to <artifacts>/line-cov.html, posts the comment as covtool's sticky comment
    (--comment-mode update, new, once or off), sets the commit status, and exits 1 when
    the gate fails — after everything is out. The change set is --changes (default: the
    pull request's files from GitHub in a Prow presubmit, else git).
    """
    if base is None:
        inputs = Inputs("", head, True, input_format)
    else:
        inputs = _inputs(ctx, [], base, head, input_format)
    return _execute(ctx, None, lambda run: comment_workflow(run, inputs, dry_run))


def _inputs(
    ctx: typer.Context,
    profiles: Sequence[str],
    base: str | None,
    head: str | None,
    input_format: str | None,
) -> Inputs:
    """The comparison's inputs; a store as baseline becomes the ``baseline`` setting."""
    startup: Startup = ctx.obj
    base_arg, head_arg = _diff_inputs(profiles, base, head)
    from_store = _is_store(base_arg)
    if from_store:
        startup.flags["baseline"] = base_arg
    return Inputs(base_arg, head_arg, from_store, input_format)


def _diff_inputs(profiles: Sequence[str], base: str | None, head: str | None) -> tuple[str, str]:
    """BASE and HEAD from the arguments or the options, exactly one way each."""
    given = list(profiles)
    if base is None and given:
        base = given.pop(0)
    if head is None and given:
        head = given.pop(0)
    if given:
        raise UsageError(f"diff takes one baseline and one new profile; extra: {' '.join(given)}")
    if base is None or head is None:
        raise UsageError("diff needs a baseline and a new profile: BASE HEAD, or --base and --head")
    return base, head


def _is_store(location: str) -> bool:
    """Whether the baseline names a store rather than a profile file."""
    return "://" in location or Path(location).is_dir()


def filter_command(
    ctx: typer.Context,
    profile_path: Annotated[Path, typer.Argument(metavar="PROFILE", help="The profile to filter.")],
    include_path: Annotated[
        list[str] | None,
        typer.Option("--include-path", help="Keep files matching this regex (any of several)."),
    ] = None,
    exclude_path: Annotated[
        list[str] | None,
        typer.Option("--exclude-path", help="Then drop files matching this regex."),
    ] = None,
    output: Output = None,
    input_format: InputFormat = None,
) -> int:
    """Keep the files whose path matches --include-path, minus those matching --exclude-path."""

    def work(run: Run) -> None:
        profile = engine.read_profile(run, profile_path, input_format)
        includes, excludes = include_path or [], exclude_path or []
        _check_regexes(includes, "--include-path")
        _check_regexes(excludes, "--exclude-path")
        kept = filter_paths(profile, includes, excludes)
        if not len(kept):
            raise UsageError(
                f"no file of {profile_path} ({len(profile)} files) is left after filtering"
            )
        engine.publish(run, Report(kept), profile.source_format, output)

    return _execute(ctx, output, work)


def _check_regexes(patterns: Sequence[str], flag: str) -> None:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise UsageError(f"{flag} {pattern!r}: not a regular expression: {error}") from None


def aggregate(
    ctx: typer.Context,
    profiles: Profiles,
    output: Output = None,
    input_format: InputFormat = None,
) -> int:
    """Count, per block, how many profiles covered it (each count becomes 0/1, then adds up)."""

    def work(run: Run) -> None:
        parsed, names = engine.read_profiles(run, profiles, input_format)
        profile = aggregate_profiles(parsed, names)
        engine.publish(run, Report(profile), profile.source_format, output)

    return _execute(ctx, output, work)


def convert(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(metavar="IN", help="The coverage file to convert.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="Output format: go, cobertura, lcov, covtool, or any a plugin offers.",
        ),
    ],
    output: Output = None,
    input_format: InputFormat = None,
) -> int:
    """Write a coverage file in another format.

    Paths are placed in the repository (repository-relative), except when the output format
    is the input's own: a Go profile stays a Go profile with import paths.
    """

    def work(run: Run) -> None:
        profile = engine.read_profile(run, source, input_format)
        if fmt != profile.source_format:
            profile = engine.place_paths(run, profile, str(source))
        engine.publish(run, Report(profile), fmt, output)

    return _execute(ctx, output, work)


def baseline_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine output.")] = False,
    previous: Annotated[
        bool,
        typer.Option(
            "--previous",
            help="Show the pull request's previous build instead (locally: the branch's "
            "previous run), which a presubmit also compares with.",
        ),
    ] = False,
) -> int:
    """Show which build would be the baseline, and why: every build looked at, newest first."""

    def work(run: Run) -> None:
        if previous:
            _show_previous(run, as_json)
            return
        found = engine.load_baseline(run)
        totals = found.profile.totals()
        data = {
            "build_id": found.build_id,
            "commit": found.commit,
            "location": found.location,
            "finished_at": found.finished_at,
            "commits_behind": found.commits_behind,
            "examined": [{"build": b, "verdict": v} for b, v in found.examined],
            "totals": {
                "statements": totals.statements,
                "covered": totals.covered,
                "percent": totals.percent,
            },
        }
        if as_json:
            print(json.dumps(data, indent=2))
            return
        behind = (
            ""
            if found.commits_behind is None
            else f", {found.commits_behind} commits behind the base"
        )
        print(f"baseline: build {found.build_id} (commit {found.commit or 'unknown'}{behind})")
        print(f"  at {found.location}")
        for build, verdict in found.examined:
            print(f"  {build}: {verdict}")

    return _execute(ctx, None, work)


def _show_previous(run: Run, as_json: bool) -> None:
    """What the search for the previous build found, and every build it looked at."""
    found = engine.find_previous(run)
    if found is None:
        raise UsageError("no plugin looks for previous builds (is the previous plugin blocked?)")
    build = found.build
    if as_json:
        data = {
            "build_id": build.build_id if build else None,
            "commit": build.commit if build else None,
            "location": build.location if build else None,
            "missing": None if build else found.reason,
            "first_run": found.first,
            "examined": [{"build": b, "verdict": v} for b, v in found.examined],
        }
        print(json.dumps(data, indent=2))
        return
    if build is None:
        print(f"no previous build: {found.reason}")
    else:
        print(f"previous build: {build.build_id} (commit {build.commit or 'unknown'})")
        print(f"  at {build.location}")
    for name, verdict in found.examined:
        print(f"  {name}: {verdict}")


def upload_command(
    ctx: typer.Context,
    artifacts: Annotated[Path, typer.Argument(help="The directory covtool profile wrote.")],
    job: Annotated[str, typer.Option("--job", help="The job's name.")],
    build: Annotated[str, typer.Option("--build", help="The build id (a number).")],
    to: Annotated[
        str | None, typer.Option("--to", help="The store (default: the baseline store).")
    ] = None,
    pr: Annotated[
        int | None, typer.Option("--pr", help="A presubmit build of this pull request.")
    ] = None,
    repo: Annotated[str, typer.Option("--repo", help="ORG/REPO of a presubmit build.")] = "",
) -> int:
    """Write a build into a store the way Prow's uploader does, the marker last.

    The artifacts go to <build>/artifacts/, then started.json, finished.json and
    latest-build.txt are written (a postsubmit build under logs/JOB/, a presubmit one under
    pr-logs/pull/ORG_REPO/PR/JOB/), and the completion marker comes last.
    """

    def work(run: Run) -> None:
        url = to if to is not None else engine.store_url(run)
        for key in upload(run, artifacts, Destination(job, build, pr, repo), url):
            print(key)

    return _execute(ctx, None, work)


def plugins(ctx: typer.Context) -> int:
    """List the active plugins: where each came from, its hooks and its settings."""
    startup: Startup = ctx.obj
    pm = startup.pm
    lines = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        where = getattr(plugin, "__file__", None) or type(plugin).__module__
        settings = sorted(s.name for s in startup.settings.values() if s.plugin == name)
        lines += [
            f"{name}  ({pm.origins.get(name, 'registered at run time')}: {where})",
            f"  hooks:    {', '.join(hooks_of(pm, plugin)) or '-'}",
            f"  settings: {', '.join(settings) or '-'}",
        ]
    blocked = sorted(name for name, plugin in pm.list_name_plugin() if plugin is None)
    if blocked:
        lines.append(f"blocked: {', '.join(blocked)}")
    run = startup.make_run()
    formats = engine.report_formats(run).values()
    lines.append(f"reads:  {', '.join(sorted(f.name for f in formats if f.readable))}")
    lines.append(f"writes: {', '.join(sorted(f.name for f in formats if f.writable))}")
    print("\n".join(lines))
    return ExitCode.OK


def config_command(ctx: typer.Context) -> int:
    """Show every setting: its value and the layer that set it (default, file, env, flag)."""

    def work(run: Run) -> None:
        config = run.config
        print(f"configuration file: {config.path or '(none)'}")
        for name in sorted(config.settings):
            value = config.get(name)
            shown = ",".join(value) if isinstance(value, tuple) else value
            shown = "(not set)" if value is None else shown
            owner = config.settings[name].plugin
            print(f"{name} = {shown!s}  ({config.source(name)}; plugin {owner})")

    return _execute(ctx, None, work)
