"""The comparison workflows: load both sides, compare, judge, render, publish, exit.

``covtool diff`` compares and reports; ``covtool comment`` also asks the gate, writes the PR
comment into the artifacts (``bot-post``), lets the plugins publish it (the sticky comment,
the commit status), and only then turns a failing gate into its exit code — so a failing
gate never hides the report that explains it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from covtool import engine
from covtool.comparison import changed_files, compare_profiles
from covtool.diff import Diff
from covtool.errors import ExitCode
from covtool.gate import evaluate_gate, gate_exit_code
from covtool.model import Profile
from covtool.records import Verdict
from covtool.reporting import Report
from covtool.run import Run

COMMENT_FORMAT = "comment"
#: The line-by-line page the comment links to, written next to it when a plugin offers it.
PAGE_FORMAT = "html-page"


@dataclass(frozen=True)
class Inputs:
    """What to compare: the baseline (a profile, or a store whose newest healthy
    postsubmit build is used) and the new profile."""

    base: str
    head: str
    base_is_store: bool
    input_format: str | None = None


def compare_inputs(run: Run, inputs: Inputs, always_changes: bool) -> tuple[Profile, Diff]:
    """The new profile and its comparison with the baseline.

    The change set limits the comparison when ``always_changes`` (a pull request's
    comment), else only when the ``changes`` setting is configured: by default ``covtool
    diff`` compares every file.
    """
    new = engine.read_placed(run, [Path(inputs.head)], inputs.input_format)
    baseline = engine.load_baseline(run) if inputs.base_is_store else None
    old = (
        baseline.profile
        if baseline
        else engine.read_placed(run, [Path(inputs.base)], inputs.input_format)
    )
    configured = run.config.source("changes") != "default"
    changes = changed_files(run) if always_changes or configured else None
    return new, compare_profiles(run, old, new, changes, baseline)


def comment_workflow(run: Run, inputs: Inputs, dry_run: bool) -> ExitCode:
    """Compare, judge, render the comment and publish it; the gate's exit code last.

    A dry run prints the comment and publishes nothing; otherwise the comment is written
    to ``<artifacts>/bot-post``, and the page its rows link to (``html-page``, unless its
    plugin is blocked) to ``<artifacts>/line-cov.html``, before any plugin publishes.
    """
    new, diff = compare_inputs(run, inputs, always_changes=True)
    verdicts = evaluate_gate(run, diff)
    threshold = run.config.get("coverage_threshold")
    report = Report(new, threshold=threshold, diff=diff, verdicts=verdicts, publish=not dry_run)
    if dry_run:
        engine.publish(run, report, COMMENT_FORMAT, None)
    else:
        engine.publish_files(run, report, comment_formats(run), Path(run.config.get("artifacts")))
    return judge(run, verdicts)


def comment_formats(run: Run, extra: Sequence[str] = ()) -> list[str]:
    """The comment, the page it links to (unless its plugin is blocked), then ``extra``."""
    formats = [COMMENT_FORMAT]
    formats += [PAGE_FORMAT] if PAGE_FORMAT in engine.report_formats(run) else []
    return list(dict.fromkeys([*formats, *extra]))


def judge(run: Run, verdicts: Sequence[Verdict]) -> ExitCode:
    """Say each blocking verdict on stderr; the gate's exit code."""
    for verdict in verdicts:
        if verdict.blocking:
            print(f"covtool: gate failed: {verdict.message}", file=run.stderr)
    return gate_exit_code(verdicts)
