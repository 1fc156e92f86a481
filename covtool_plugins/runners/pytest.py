"""The pytest runner: the repository's tests under ``coverage run --branch -m pytest``.

Detection: with no ``--runner``, the runner claims a repository that has ``pyproject.toml``,
``setup.cfg``, ``pytest.ini`` or ``tox.ini`` at its root and no ``go.mod`` (that is the Go
runner's); ``--runner pytest`` forces it.

It runs, in the repository::

    PYTHON -m coverage run --branch -m pytest [TARGETS] [PYTEST_ARGS]
    PYTHON -m coverage combine [--append]      # only when parallel data files appeared
    PYTHON -m coverage json --fail-under=0 -o SCRATCH/coverage.json

with ``COVERAGE_FILE`` pointing into the scratch directory, so that the repository's own
``.coverage`` is never touched. No ``--rcfile`` or ``-c`` is passed: the project's own
coverage and pytest configuration apply, exactly as when a developer runs the same commands.

Settings:

* ``pytest_python``: the interpreter to run (default: the one covtool runs in); it must be
  able to import ``coverage`` and ``pytest``, which is checked first;
* ``pytest_args``: extra pytest arguments, after the targets.

``--target`` values are passed to pytest as paths; Go's ``dir/...`` spelling means ``dir/``.

pytest's exit status decides the outcome: 0 passed; 1 some tests failed (the profile is
still made, ``tests_passed`` is false); 5 no tests collected, and 2, 3, 4 (interrupted,
internal error, usage error) are usage errors. Any other status (a crash, a signal) counts as
failed tests, provided coverage data was written.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from covtool import Parser, RawProfile, Run, UsageError, hookimpl, run_command

NAME = "pytest"
#: Files whose presence at the repository root marks a Python project.
MARKERS = ("pyproject.toml", "setup.cfg", "pytest.ini", "tox.ini")
REQUIRED = ("coverage", "pytest")
DATA_FILE = ".coverage"
JSON_NAME = "coverage.json"
#: pytest's exit statuses (``pytest.ExitCode``), spelled out: pytest need not be importable
#: in covtool's own environment.
TESTS_FAILED = 1
NO_TESTS_COLLECTED = 5
#: Interrupted, internal error, usage error: pytest did not run the tests.
CANNOT_RUN = frozenset({2, 3, 4})
CHECK_TIMEOUT = 120.0
_CHECK = (
    "import importlib.util\n"
    f"print(','.join(m for m in {REQUIRED!r} if importlib.util.find_spec(m) is None))\n"
)


@hookimpl
def covtool_addoption(parser: Parser) -> None:
    """Declare the interpreter and the extra pytest arguments."""
    parser.addoption(
        "pytest_python",
        type="path",
        default="",
        help="Python interpreter that runs the tests (needs coverage and pytest); "
        "default: the one covtool runs in.",
    )
    parser.addoption(
        "pytest_args",
        type="list",
        default=(),
        help="Extra pytest arguments, passed after the targets.",
    )


@hookimpl
def covtool_runners() -> list[str]:
    """This plugin provides the ``pytest`` runner."""
    return [NAME]


@hookimpl
def covtool_run_tests(run: Run, scratch: Path) -> RawProfile | None:
    """Run pytest under coverage.py when forced, or when the repository looks like Python."""
    forced = run.config.get("runner")
    if forced and forced != NAME:
        return None
    if not forced and not recognises(run.root):
        return None
    python = run.config.get("pytest_python") or sys.executable
    env = dict(run.environ)
    # Only our data file moves: the repository's .coverage stays as the developer left it.
    env["COVERAGE_FILE"] = str(scratch / DATA_FILE)
    check_interpreter(python, run.root, env)
    argv = [
        python,
        "-m",
        "coverage",
        "run",
        "--branch",
        "-m",
        "pytest",
        *pytest_targets(run.config.get("target")),
        *run.config.get("pytest_args"),
    ]
    status = run_command(run, argv, cwd=run.root, env=env, label=NAME)
    check_status(status, run)
    combine(run, python, scratch, env)
    report = scratch / JSON_NAME
    json_report(run, python, report, env)
    return RawProfile(
        path=report,
        format="coveragepy",
        tests_passed=status == 0,
        runner=NAME,
        artifact_name=JSON_NAME,
        exit_status=status,
    )


def recognises(root: Path) -> bool:
    """Whether ``root`` has one of the files that mark a Python project, and no ``go.mod``.

    pluggy calls the runners registered last first, so this one is asked before the Go
    runner: a Go repository with Python tooling (a ``pyproject.toml`` for its scripts) must
    be left to Go here, not by the plugin order.
    """
    if (root / "go.mod").is_file():
        return False
    return any((root / name).is_file() for name in MARKERS)


def pytest_targets(targets: Sequence[str]) -> list[str]:
    """The targets as pytest paths: Go's ``dir/...`` (everything under dir) becomes ``dir/``."""
    converted = []
    for target in targets:
        if target == "...":
            converted.append(".")
        elif target.endswith("/..."):
            converted.append(target[: -len("...")])
        else:
            converted.append(target)
    return converted


def check_interpreter(python: str, cwd: Path, env: dict[str, str]) -> None:
    """Fail early, with the cure, when ``python`` cannot import coverage or pytest.

    Run in the repository with the tests' environment, so that it sees the same
    ``sys.path`` as the test run will.
    """
    try:
        checked = subprocess.run(
            [python, "-c", _CHECK],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT,
            check=False,
        )
    except OSError as error:
        raise UsageError(f"cannot run the Python interpreter {python}: {error.strerror}") from None
    except subprocess.TimeoutExpired:
        raise UsageError(
            f"the Python interpreter {python} did not answer within {CHECK_TIMEOUT:.0f}s"
        ) from None
    if checked.returncode != 0:
        last = (checked.stderr.strip().splitlines() or ["no message"])[-1]
        raise UsageError(
            f"the Python interpreter {python} failed (exit status {checked.returncode}): {last}"
        )
    answer = checked.stdout.strip().splitlines()
    missing = answer[-1] if answer else ""
    if missing:
        names = " and ".join(missing.split(","))
        raise UsageError(
            f"the Python interpreter {python} cannot import {names}: "
            f"pip install coverage pytest (or choose another with --pytest-python)"
        )


def check_status(status: int, run: Run) -> None:
    """Turn pytest's statuses that mean "nothing was tested" into usage errors."""
    if status == NO_TESTS_COLLECTED:
        targets = run.config.get("target")
        where = f"{run.root}" + (f" (targets: {' '.join(targets)})" if targets else "")
        raise UsageError(f"pytest collected no tests in {where}")
    if status in CANNOT_RUN:
        # Its explanation streamed with the rest of the output, which is kept in stdout.txt.
        raise UsageError(f"pytest could not run (exit status {status}); see stdout.txt")


def combine(run: Run, python: str, scratch: Path, env: dict[str, str]) -> None:
    """Combine parallel data files, when there are any.

    With ``parallel = true`` (or subprocess measurement) coverage.py writes
    ``.coverage.HOST.pidN.XRANDOM`` next to the data file instead of the data file itself;
    ``coverage combine`` finds exactly those (``DATA_FILE.*`` in its directory). ``--append``
    keeps a plain data file written by the same run.
    """
    if not any(scratch.glob(f"{DATA_FILE}.*")):
        return
    argv = [python, "-m", "coverage", "combine"]
    if (scratch / DATA_FILE).exists():
        argv.append("--append")
    status = run_command(run, argv, cwd=run.root, env=env, label="coverage combine")
    if status != 0:
        raise UsageError(f"coverage combine failed (exit status {status}); see stdout.txt")


def json_report(run: Run, python: str, report: Path, env: dict[str, str]) -> None:
    """Write coverage.py's JSON report of the run to ``report``.

    ``--fail-under=0``: a ``fail_under`` in the project's configuration would make
    ``coverage json`` exit 2 after writing the report; thresholds are covtool's gate's job.
    """
    argv = [python, "-m", "coverage", "json", "--fail-under=0", "-o", str(report)]
    status = run_command(run, argv, cwd=run.root, env=env, label="coverage json")
    if status != 0 or not report.is_file():
        raise UsageError(
            f"coverage json could not report the test run (exit status {status}); "
            "see stdout.txt (no coverage data, or no measured file?)"
        )
