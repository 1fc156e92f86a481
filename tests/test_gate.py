"""The gate's rules, at and around each boundary, and the exit code they lead to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from covtool import Diff, ExitCode, FileDelta, Totals, Verdict, gate_failed, views
from covtool.gate import evaluate_gate, gate_exit_code
from covtool.plugins import AUTOLOAD_OFF
from covtool.startup import start
from covtool_plugins import gate
from pr_scenarios import Side, make_pull_request
from support import Covtool

# 69.99 %, 70 % and 70.01 %, exactly.
BELOW, AT, ABOVE = Totals(10_000, 6_999), Totals(10, 7), Totals(10_000, 7_001)
FULL = Totals(10, 10)


def changed(path: str, new: Totals, old: Totals | None = FULL) -> FileDelta:
    """A file whose coverage moved to ``new``."""
    return FileDelta(path, old, new, change="modified")


# -- the rules, as pure functions -----------------------------------------------------------
@pytest.mark.parametrize("threshold", [70, 70.0])
def test_file_threshold_boundary(threshold: float) -> None:
    assert gate.file_threshold([changed("a.go", AT)], threshold).passed
    assert gate.file_threshold([changed("a.go", ABOVE)], threshold).passed
    below = gate.file_threshold([changed("a.go", BELOW), changed("b.go", AT)], threshold)
    assert below == Verdict(
        "file-threshold",
        False,
        "1 file is below the per-file threshold of 70%",
        details=("a.go: 69.99%",),
    )
    assert not below.informational and below.blocking


def test_file_threshold_at_fractional_thresholds() -> None:
    assert gate.file_threshold([changed("a.go", BELOW)], 69.99).passed
    assert not gate.file_threshold([changed("a.go", AT)], 70.01).passed
    assert gate.file_threshold([changed("a.go", ABOVE)], 70.01).passed


def test_file_threshold_ignores_files_without_statements() -> None:
    verdict = gate.file_threshold([changed("empty.go", Totals())], 70)
    assert verdict.passed and verdict.message == "every reported file is at or above 70%"


def test_reported_files_are_the_table() -> None:
    """Deleted files, unchanged coverage and untouched files are not judged."""
    files = (
        changed("moved.go", Totals(10, 5)),
        FileDelta("same.go", Totals(10, 5), Totals(10, 5), change="modified"),
        FileDelta("gone.go", Totals(10, 1), None, change="deleted"),
        FileDelta("new.go", None, Totals(4, 1), change="added"),
    )
    indirect = (changed("elsewhere.go", Totals(10, 0)),)
    diff = Diff(files, Totals(30, 16), Totals(24, 11), indirect=indirect)
    assert [f.path for f in views.table_files(diff)] == ["moved.go", "new.go"]


@pytest.mark.parametrize(
    ("totals", "passed", "message"),
    [
        (BELOW, False, "overall coverage 69.99% is below the threshold of 70%"),
        (AT, True, "overall coverage 70.0% meets 70%"),
        (ABOVE, True, "overall coverage 70.0% meets 70%"),
        (Totals(), True, "overall coverage not judged: nothing to cover"),
    ],
)
def test_overall_threshold_boundary(totals: Totals, passed: bool, message: str) -> None:
    assert gate.overall_threshold(totals, 70) == Verdict("overall-threshold", passed, message)


def test_shown_value_never_contradicts_the_verdict() -> None:
    """69.996 % would round to 70.0 %: the message shows enough decimals to be below."""
    verdict = gate.overall_threshold(Totals(100_000, 69_996), 70)
    assert verdict.message == "overall coverage 69.996% is below the threshold of 70%"


@pytest.mark.parametrize(
    ("patch", "passed"),
    [(BELOW, False), (AT, True), (ABOVE, True)],
)
def test_patch_threshold_boundary(patch: Totals, passed: bool) -> None:
    assert gate.patch_threshold(patch, 70).passed is passed


def test_patch_threshold_small_change_and_unknown_lines() -> None:
    small = Totals(4, 0)
    assert not gate.patch_threshold(small, 70, min_lines=4).passed
    skipped = gate.patch_threshold(small, 70, min_lines=5)
    assert skipped.passed
    assert skipped.message == (
        "patch coverage not judged: 4 executable lines changed, fewer than patch_min_lines (5)"
    )
    assert gate.patch_threshold(None, 70).passed
    assert gate.patch_threshold(Totals(), 70).message.endswith("no executable line changed")
    failing = gate.patch_threshold(Totals(10, 5), 80)
    assert failing.message == "patch coverage 50.0% (5 of 10 lines) is below the threshold of 80%"


@pytest.mark.parametrize(
    ("new", "passed"),
    # From 75 %: a drop of 0.51, 0.5 and 0.49 points against max_drop 0.5.
    [(Totals(10_000, 7_449), False), (Totals(1_000, 745), True), (Totals(10_000, 7_451), True)],
)
def test_max_drop_boundary(new: Totals, passed: bool) -> None:
    verdict = gate.max_drop(Totals(4, 3), new, 0.5)
    assert verdict.passed is passed
    if not passed:
        assert verdict.message == (
            "overall coverage fell by 0.51 points (75.0% → 74.5%), more than max_drop allows (0.5)"
        )


def test_max_drop_zero_allows_no_drop_and_any_gain() -> None:
    assert gate.max_drop(Totals(3, 2), Totals(3, 2), 0).passed
    assert gate.max_drop(Totals(3, 2), Totals(3, 3), 0).passed
    assert not gate.max_drop(Totals(3_000, 2_000), Totals(3_000, 1_999), 0).passed


def test_gate_failed_counts_only_blocking_verdicts() -> None:
    passed = Verdict("a", True, "fine")
    failed = Verdict("b", False, "bad")
    told = Verdict("c", False, "bad, but only told", informational=True)
    assert not gate_failed([passed, told])
    assert gate_failed([passed, failed])
    assert gate_exit_code([told]) == ExitCode.OK
    assert gate_exit_code([failed, told]) == ExitCode.GATE_FAILED == 1


# -- the settings, through the hook ---------------------------------------------------------
def evaluate(diff: Diff, **flags: Any) -> tuple[Verdict, ...]:
    startup = start([], {AUTOLOAD_OFF: "1"})
    startup.flags.update(flags)
    return evaluate_gate(startup.make_run(), diff)


def sample_diff() -> Diff:
    """One file, from 80 % to 70 %, compared without a change set."""
    return Diff((changed("a.go", AT, old=Totals(10, 8)),), Totals(10, 8), AT)


@pytest.mark.parametrize("spelling", ["70", "70%", "0.7", "70.0"])
def test_every_threshold_spelling_means_seventy(spelling: str) -> None:
    (verdict,) = evaluate(sample_diff(), coverage_threshold=spelling)
    assert verdict.passed and verdict.message.endswith("at or above 70%")
    (stricter,) = evaluate(sample_diff(), coverage_threshold="70.01")
    assert not stricter.passed


def test_rules_run_only_when_configured() -> None:
    assert [v.rule for v in evaluate(sample_diff())] == ["file-threshold"]  # the default 80
    assert evaluate(sample_diff(), coverage_threshold="0") == ()
    verdicts = evaluate(
        sample_diff(),
        coverage_threshold="0",
        overall_threshold="71",
        max_drop="10",  # exactly the drop from 80 % to 70 %
        patch_threshold="50",
    )
    assert [(v.rule, v.passed) for v in verdicts] == [
        ("overall-threshold", False),
        ("patch-threshold", True),  # no change set: the changed lines are unknown
        ("max-drop", True),
    ]
    informational = evaluate(sample_diff(), overall_threshold="71", informational="true")
    assert all(v.informational for v in informational)
    assert not gate_failed(informational)


# -- the exit code of a whole run -----------------------------------------------------------
@pytest.fixture
def seventy_percent(tmp_path: Path) -> Path:
    """A pull request that adds one file of 10 lines, 7 of them run: 70 % exactly, and
    63.6 % (7 of 11) overall with the untouched, uncovered line of ``a.go``."""
    base = Side({"a.go": "package a\n"}, {"a.go": {1: 0}})
    head = Side(
        {"a.go": "package a\n", "b.go": "".join(f"b{n}\n" for n in range(10))},
        {"a.go": {1: 0}, "b.go": {n: int(n <= 7) for n in range(1, 11)}},
    )
    pr = make_pull_request(tmp_path, base, head)
    (pr.root / "covtool.toml").write_text(f'changes = "{pr.changes}"\n')
    return pr.root


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        (["--coverage-threshold=70%"], ExitCode.OK),
        (["--coverage-threshold=0.7001"], ExitCode.GATE_FAILED),
        (["--coverage-threshold=69.99"], ExitCode.OK),
        (["--coverage-threshold=70.01"], ExitCode.GATE_FAILED),
        (["--coverage-threshold=70.01", "--informational"], ExitCode.OK),
        (["--coverage-threshold=0", "--patch-threshold=70.01"], ExitCode.GATE_FAILED),
        (["--coverage-threshold=0", "--patch-threshold=70.01", "--patch-min-lines=11"], 0),
        (["--coverage-threshold=0", "--overall-threshold=63.63"], ExitCode.OK),
        (["--coverage-threshold=0", "--overall-threshold=63.64"], ExitCode.GATE_FAILED),
        (["--coverage-threshold=0", "--max-drop=0"], ExitCode.OK),
    ],
)
def test_exit_code_is_gate_failed_exactly_when_a_blocking_rule_fails(
    seventy_percent: Path, capsys: pytest.CaptureFixture[str], flags: list[str], code: int
) -> None:
    covtool = Covtool(seventy_percent, capsys)
    result = covtool(
        "comment", "--dry-run", "--base", "../base.info", "--head", "../head.info", *flags
    )
    assert result.exit_code == code, result.stderr
    assert "**Gate: " in result.stdout
    assert ("covtool: gate failed: " in result.stderr) is (code == ExitCode.GATE_FAILED)


def test_a_plugin_adds_its_own_rule_through_covtool_evaluate_gate(
    seventy_percent: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plugins = seventy_percent.parent / "plugins"
    plugins.mkdir()
    (plugins / "nofiles_rule.py").write_text(
        "from covtool import Verdict, hookimpl\n\n\n"
        "@hookimpl\n"
        "def covtool_evaluate_gate(diff):\n"
        "    added = [f.path for f in diff.files if f.status == 'added']\n"
        "    return [Verdict('no-new-files', not added, f'{len(added)} files added', "
        "details=tuple(added))]\n"
    )
    monkeypatch.syspath_prepend(str(plugins))
    covtool = Covtool(seventy_percent, capsys)
    args = ["comment", "--dry-run", "--base", "../base.info", "--head", "../head.info"]
    result = covtool(*args, "-p", "nofiles_rule", "--coverage-threshold=0")
    assert result.exit_code == ExitCode.GATE_FAILED
    assert "- :x: 1 files added\n  - b.go\n" in result.stdout
    assert "covtool: gate failed: 1 files added" in result.stderr
    without = covtool(*args, "--coverage-threshold=0")
    assert without.exit_code == ExitCode.OK and "**Gate" not in without.stdout
