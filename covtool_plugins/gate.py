"""The coverage gate: the rules that decide whether a change's coverage is good enough.

Each rule is a pure function from numbers to a ``Verdict``; ``covtool_evaluate_gate`` reads
the settings and applies the rules that are configured:

* ``file-threshold`` (``coverage_threshold``, the original tool's rule): a file in the
  comparison table — added, or its coverage moved — whose new coverage is below it fails;
* ``overall-threshold`` (``overall_threshold``): the new total below it fails;
* ``patch-threshold`` (``patch_threshold``): the coverage of the added and modified
  executable lines below it fails; not judged when fewer than ``patch_min_lines`` such lines
  (a small change) or no change set;
* ``max-drop`` (``max_drop``): the total falling by more percentage points than it fails.

A value *at* a threshold passes. Comparisons are exact (fractions, not floats), so 70 % of
10 statements meets ``70`` and ``0.7`` alike, and 69.99 % does not. With ``informational``
every verdict is reported and none fails the job.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from covtool import Diff, FileDelta, Parser, Run, Totals, Verdict, hookimpl, views

FILE_RULE = "file-threshold"
OVERALL_RULE = "overall-threshold"
PATCH_RULE = "patch-threshold"
DROP_RULE = "max-drop"


@hookimpl
def covtool_addoption(parser: Parser) -> None:
    """Declare the gate's thresholds (the per-file one, ``coverage_threshold``, is core's)."""
    parser.addoption(
        "overall_threshold",
        type="percent",
        default=None,
        help="Fail when the total coverage is below this percentage (default: not checked).",
    )
    parser.addoption(
        "patch_threshold",
        type="percent",
        default=None,
        help="Fail when the coverage of the added and modified lines is below this "
        "percentage (default: not checked).",
    )
    parser.addoption(
        "patch_min_lines",
        type="int",
        default=0,
        help="Judge patch coverage only when at least this many executable lines were added "
        "or modified (a small change is not judged).",
    )
    parser.addoption(
        "max_drop",
        type="float",
        default=None,
        help="Fail when the total coverage falls by more than this many percentage points "
        "(default: not checked).",
    )
    parser.addoption(
        "informational",
        type="bool",
        default=False,
        help="Report the gate's verdicts but never fail the job.",
    )


@hookimpl
def covtool_evaluate_gate(diff: Diff, run: Run) -> list[Verdict]:
    """The verdict of each configured rule on ``diff``."""
    config = run.config
    verdicts = []
    threshold = config.get("coverage_threshold")
    if threshold:
        verdicts.append(file_threshold(views.table_files(diff), threshold))
    if config.get("overall_threshold") is not None:
        verdicts.append(overall_threshold(diff.new_totals, config.get("overall_threshold")))
    if config.get("patch_threshold") is not None:
        verdicts.append(
            patch_threshold(
                diff.patch, config.get("patch_threshold"), config.get("patch_min_lines")
            )
        )
    if config.get("max_drop") is not None:
        verdicts.append(max_drop(diff.old_totals, diff.new_totals, config.get("max_drop")))
    if config.get("informational"):
        return [_informational(v) for v in verdicts]
    return verdicts


# -- the rules -----------------------------------------------------------------------------
def file_threshold(files: Iterable[FileDelta], threshold: float) -> Verdict:
    """Every file with statements at or above ``threshold`` percent."""
    below = [
        f"{f.path}: {views.format_against(f.new.ratio, threshold)}"
        for f in files
        if f.new is not None and f.new.ratio is not None and views.below(f.new.ratio, threshold)
    ]
    if not below:
        return Verdict(FILE_RULE, True, f"every reported file is at or above {_pct(threshold)}")
    count = "1 file is" if len(below) == 1 else f"{len(below):,} files are"
    message = f"{count} below the per-file threshold of {_pct(threshold)}"
    return Verdict(FILE_RULE, False, message, details=tuple(below))


def overall_threshold(totals: Totals, threshold: float) -> Verdict:
    """The total at or above ``threshold`` percent (nothing to cover passes)."""
    if totals.ratio is None:
        return Verdict(OVERALL_RULE, True, "overall coverage not judged: nothing to cover")
    value = views.format_against(totals.ratio, threshold)
    if views.below(totals.ratio, threshold):
        message = f"overall coverage {value} is below the threshold of {_pct(threshold)}"
        return Verdict(OVERALL_RULE, False, message)
    return Verdict(OVERALL_RULE, True, f"overall coverage {value} meets {_pct(threshold)}")


def patch_threshold(patch: Totals | None, threshold: float, min_lines: int = 0) -> Verdict:
    """The added and modified executable lines covered at ``threshold`` percent or more;
    fewer than ``min_lines`` of them (or none, or no change set) is not judged."""
    if patch is None:
        return Verdict(PATCH_RULE, True, "patch coverage not judged: the changed lines are unknown")
    if patch.statements == 0:
        return Verdict(PATCH_RULE, True, "patch coverage not judged: no executable line changed")
    lines = f"{patch.covered:,} of {patch.statements:,} lines"
    if patch.statements < min_lines:
        return Verdict(
            PATCH_RULE,
            True,
            f"patch coverage not judged: {patch.statements:,} executable lines changed, fewer "
            f"than patch_min_lines ({min_lines})",
        )
    assert patch.ratio is not None
    value = views.format_against(patch.ratio, threshold)
    if views.below(patch.ratio, threshold):
        message = f"patch coverage {value} ({lines}) is below the threshold of {_pct(threshold)}"
        return Verdict(PATCH_RULE, False, message)
    return Verdict(PATCH_RULE, True, f"patch coverage {value} ({lines}) meets {_pct(threshold)}")


def max_drop(old: Totals, new: Totals, allowed: float) -> Verdict:
    """The total falling by at most ``allowed`` percentage points."""
    if old.ratio is None or new.ratio is None:
        return Verdict(DROP_RULE, True, "coverage drop not judged: a side has nothing to cover")
    change = (new.ratio - old.ratio) * 100
    moved = f"{views.format_percent(old)} → {views.format_percent(new)}"
    if change < -views.exact_percent(allowed):
        message = (
            f"overall coverage fell by {_points(-change)} points ({moved}), more than "
            f"max_drop allows ({allowed:g})"
        )
        return Verdict(DROP_RULE, False, message)
    message = f"overall coverage moved {moved}, within max_drop ({allowed:g})"
    return Verdict(DROP_RULE, True, message)


# -- numbers -------------------------------------------------------------------------------
def _pct(threshold: float) -> str:
    return f"{threshold:g}%"


def _points(value: Fraction) -> str:
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def _informational(verdict: Verdict) -> Verdict:
    return Verdict(verdict.rule, verdict.passed, verdict.message, True, verdict.details)
