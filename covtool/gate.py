"""The gate step of a workflow: ask the rule plugins for their verdicts on a comparison.

The rules live in plugins (``covtool_evaluate_gate``); the core only collects the verdicts
and, once every report is published, turns a blocking one into the gate-failed exit code.
"""

from __future__ import annotations

from collections.abc import Iterable

from covtool.diff import Diff
from covtool.errors import ExitCode
from covtool.records import Verdict
from covtool.run import Run


def evaluate_gate(run: Run, diff: Diff) -> tuple[Verdict, ...]:
    """Every rule plugin's verdicts on ``diff``, in plugin order."""
    answers = run.hook.covtool_evaluate_gate(diff=diff, run=run)
    return tuple(verdict for verdicts in reversed(answers) for verdict in verdicts)


def gate_failed(verdicts: Iterable[Verdict]) -> bool:
    """Whether any verdict fails the job (did not pass, and is not informational)."""
    return any(verdict.blocking for verdict in verdicts)


def gate_exit_code(verdicts: Iterable[Verdict]) -> ExitCode:
    """``GATE_FAILED`` when a verdict blocks, else ``OK``."""
    return ExitCode.GATE_FAILED if gate_failed(verdicts) else ExitCode.OK
