"""The pytest runner (covtool_plugins.runners.pytest), against coverage.py's own figures.

Each test writes a small Python project into a git repository and runs ``covtool profile``
there for real: pytest under ``coverage run --branch``. The reference is coverage.py itself,
run the same way by the test in the same directory: its ``coverage report`` TOTAL line and
its JSON totals must equal the totals in ``covtool.json`` exactly.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support import Covtool

PYPROJECT = """\
[project]
name = "shop"
version = "0"

[tool.pytest.ini_options]
testpaths = ["tests"]

[tool.coverage.run]
source = ["shop"]
omit = ["shop/generated.py"]
{parallel}

[tool.coverage.report]
# The project's own rules: the debug helper is no part of the figures.
exclude_lines = ["pragma: no cover", "pragma: debug-only"]
# Below this, `coverage json` itself would exit 2: the runner must not stumble on it.
fail_under = 100
"""

CART = """\
def price(quantity, unit):
    if quantity <= 0:
        return 0
    total = quantity * unit
    if quantity >= 10:
        total = total * 9 // 10
    return total


def dump(cart):  # pragma: debug-only
    print(cart)
    return len(cart)
"""

GENERATED = "VALUE = 1\nOTHER = 2\n"

TEST_CART = """\
from shop import generated
from shop.cart import price


def test_small():
    assert price(2, 5) == 10


def test_generated():
    assert generated.VALUE == 1
"""

TEST_BULK = """\
from shop.cart import price


def test_bulk():
    assert price(10, 10) == 90
"""

TEST_BROKEN = """\
from shop.cart import price


def test_nothing_is_free():
    assert price(0, 5) == 5
"""


@dataclass
class Reference:
    """What coverage.py says about one run of the project's tests."""

    statements: int
    missed: int
    branches: int
    branches_covered: int


def clean_env() -> dict[str, str]:
    """The test's environment without coverage, covtool or pytest variables."""
    return {
        k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE", "COVTOOL_", "PYTEST"))
    }


def git_init(root: Path) -> None:
    """Make ``root`` a git repository with everything committed, as a CI checkout is."""
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "project"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=root,
            check=True,
            capture_output=True,
        )


def write_project(root: Path, *, parallel: bool = False, broken: bool = False) -> Path:
    """The shop project: a module with branches, an omitted file, an excluded function."""
    files = {
        "pyproject.toml": PYPROJECT.format(parallel="parallel = true" if parallel else ""),
        "shop/__init__.py": "",
        "shop/cart.py": CART,
        "shop/generated.py": GENERATED,
        "tests/test_cart.py": TEST_CART,
        "tests/test_bulk.py": TEST_BULK,
    }
    if broken:
        files["tests/test_broken.py"] = TEST_BROKEN
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git_init(root)
    return root


def reference(root: Path, scratch: Path, *pytest_args: str) -> Reference:
    """Run the tests under coverage.py as the runner should, and read coverage.py's totals."""
    env = clean_env() | {"COVERAGE_FILE": str(scratch / ".coverage")}

    def coverage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "coverage", *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    ran = coverage("run", "--branch", "-m", "pytest", *pytest_args)
    assert ran.returncode in (0, 1), ran.stdout + ran.stderr
    coverage("combine")  # a no-op unless the data is split
    report = coverage("report")  # exits 2 under fail_under: the figures are printed anyway
    total = re.search(r"^TOTAL\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+[\d.]+%", report.stdout, re.M)
    assert total, report.stdout + report.stderr
    written = coverage("json", "--fail-under=0", "-o", str(scratch / "reference.json"))
    assert written.returncode == 0, written.stdout + written.stderr
    totals = json.loads((scratch / "reference.json").read_text())["totals"]
    statements, missed, branches = (int(total.group(i)) for i in (1, 2, 3))
    assert (statements, missed, branches) == (
        totals["num_statements"],
        totals["missing_lines"],
        totals["num_branches"],
    )
    return Reference(statements, missed, branches, totals["covered_branches"])


def metadata(root: Path) -> dict[str, Any]:
    return json.loads((root / "artifacts" / "covtool.json").read_text())


@pytest.mark.parametrize(
    ("parallel", "flags", "pytest_args"),
    [
        pytest.param(False, [], [], id="plain"),
        pytest.param(True, [], [], id="parallel-data-combined"),
        pytest.param(
            False, ["--target", "tests/test_cart.py"], ["tests/test_cart.py"], id="target"
        ),
        pytest.param(True, ["--pytest-args=-k,small"], ["-k", "small"], id="pytest-args"),
    ],
)
def test_totals_equal_coverage_pys_own(
    covtool: Covtool, tmp_path: Path, parallel: bool, flags: list[str], pytest_args: list[str]
) -> None:
    repo = write_project(tmp_path / "repo", parallel=parallel)
    result = Covtool(repo, covtool._capsys)("profile", *flags)
    assert result.exit_code == 0, result.stdout + result.stderr

    # The repository's own data files are left alone: ours went to the scratch directory.
    assert not list(repo.glob(".coverage*"))
    artifacts = repo / "artifacts"
    assert (artifacts / "profile-completed").exists()
    log = (artifacts / "stdout.txt").read_text()
    assert "passed" in log
    # Split data is combined explicitly: only recent coverage.py versions combine on report.
    assert ("-m coverage combine" in log) == parallel
    meta = metadata(repo)
    assert (meta["runner"], meta["tests_passed"], meta["test_exit_status"]) == ("pytest", True, 0)
    assert meta["profile"] == {"name": "coverage.json", "format": "coveragepy"}

    # The project's configuration applied: the omitted file and the excluded function are out.
    files = json.loads((artifacts / "coverage.json").read_text())["files"]
    assert sorted(files) == ["shop/__init__.py", "shop/cart.py"]
    assert 10 in files["shop/cart.py"]["excluded_lines"]

    scratch = tmp_path / "reference"
    scratch.mkdir()
    ref = reference(repo, scratch, *pytest_args)
    totals = meta["totals"]
    assert (
        totals["statements"],
        totals["covered"],
        totals["branches"],
        totals["branches_covered"],
    ) == (ref.statements, ref.statements - ref.missed, ref.branches, ref.branches_covered)
    assert ref.missed > 0  # partly covered: a runner that counted everything would be caught


def test_targets_and_arguments_change_what_runs(covtool: Covtool, tmp_path: Path) -> None:
    """The bulk test covers the discount branch; leaving it out must show in the totals."""
    repo = write_project(tmp_path / "repo")
    runner = Covtool(repo, covtool._capsys)
    assert runner("profile").exit_code == 0
    everything = metadata(repo)["totals"]
    assert runner("profile", "--target", "tests/test_cart.py").exit_code == 0
    narrowed = metadata(repo)["totals"]
    assert narrowed["covered"] < everything["covered"]
    assert narrowed["branches_covered"] < everything["branches_covered"]


def test_failing_tests_still_give_a_profile_but_no_marker(covtool: Covtool, tmp_path: Path) -> None:
    repo = write_project(tmp_path / "repo", broken=True)
    result = Covtool(repo, covtool._capsys)("profile")
    assert result.exit_code == 2, result.stdout + result.stderr
    artifacts = repo / "artifacts"
    meta = metadata(repo)
    assert (meta["tests_passed"], meta["test_exit_status"]) == (False, 1)
    assert (artifacts / "coverage.json").is_file()
    assert not (artifacts / "profile-completed").exists()
    assert "1 failed" in (artifacts / "stdout.txt").read_text()

    scratch = tmp_path / "reference"
    scratch.mkdir()
    ref = reference(repo, scratch)
    assert (meta["totals"]["statements"], meta["totals"]["covered"]) == (
        ref.statements,
        ref.statements - ref.missed,
    )


def test_allow_test_failures_writes_the_marker(covtool: Covtool, tmp_path: Path) -> None:
    repo = write_project(tmp_path / "repo", broken=True)
    result = Covtool(repo, covtool._capsys)("profile", "--allow-test-failures")
    assert result.exit_code == 2
    assert (repo / "artifacts" / "profile-completed").exists()


def test_no_tests_collected_is_a_usage_error(covtool: Covtool) -> None:
    covtool.write("pyproject.toml", '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    covtool.write("shop/__init__.py", "X = 1\n")
    covtool.write("tests/helpers.py", "Y = 2\n")
    git_init(covtool.path)
    result = covtool("profile")
    assert result.exit_code == 3, result.stdout + result.stderr
    assert f"covtool: error: pytest collected no tests in {covtool.path}" in result.stderr
    assert not (covtool.path / "artifacts" / "covtool.json").exists()


def test_pytest_usage_error_is_a_usage_error(covtool: Covtool, tmp_path: Path) -> None:
    repo = write_project(tmp_path / "repo")
    result = Covtool(repo, covtool._capsys)("profile", "--pytest-args=--no-such-option")
    assert result.exit_code == 3, result.stdout + result.stderr
    assert "covtool: error: pytest could not run (exit status 4); see stdout.txt" in result.stderr
    assert "--no-such-option" in result.stdout  # pytest's own explanation was streamed


def test_interpreter_without_coverage_is_named(covtool: Covtool, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", bare], check=True)
    python = bare / "bin" / "python"
    repo = write_project(tmp_path / "repo")
    result = Covtool(repo, covtool._capsys)("profile", "--pytest-python", python)
    assert result.exit_code == 3, result.stdout + result.stderr
    assert (
        f"covtool: error: the Python interpreter {python} cannot import coverage and pytest: "
        "pip install coverage pytest" in result.stderr
    )


def test_missing_interpreter_is_named(covtool: Covtool, tmp_path: Path) -> None:
    repo = write_project(tmp_path / "repo")
    missing = tmp_path / "no" / "python"
    result = Covtool(repo, covtool._capsys)("profile", "--pytest-python", missing)
    assert result.exit_code == 3
    assert f"cannot run the Python interpreter {missing}" in result.stderr


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pytest.ini", "[pytest]\n"),
        ("tox.ini", "[tox]\n"),
        ("setup.cfg", "[metadata]\nname = shop\n"),
        ("pyproject.toml", "[project]\nname = 'shop'\nversion = '0'\n"),
    ],
)
def test_project_files_are_recognised(covtool: Covtool, name: str, text: str) -> None:
    covtool.write(name, text)
    covtool.write("shop/__init__.py", "def f(x):\n    return x + 1\n")
    covtool.write("test_shop.py", "from shop import f\n\ndef test_f():\n    assert f(1) == 2\n")
    git_init(covtool.path)
    result = covtool("profile")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert metadata(covtool.path)["runner"] == "pytest"


def test_forced_without_project_files(covtool: Covtool) -> None:
    covtool.write("shop.py", "def f(x):\n    return x + 1\n")
    covtool.write("test_shop.py", "from shop import f\n\ndef test_f():\n    assert f(1) == 2\n")
    git_init(covtool.path)
    unrecognised = covtool("profile")
    assert unrecognised.exit_code == 3
    assert "no runner recognises the repository" in unrecognised.stderr
    forced = covtool("profile", "--runner", "pytest")
    assert forced.exit_code == 0, forced.stdout + forced.stderr
    totals = metadata(covtool.path)["totals"]
    # shop.py (2 statements) and the test file (3), all run; coverage.py measures both.
    assert (totals["statements"], totals["covered"]) == (5, 5)


def test_go_repository_with_python_files_is_left_to_go(covtool: Covtool, tmp_path: Path) -> None:
    """pluggy asks this runner before the Go runner: go.mod must make it step aside."""
    repo = write_project(tmp_path / "repo")
    (repo / "go.mod").write_text("module example.com/shop\n\ngo 1.19\n")
    result = Covtool(repo, covtool._capsys)("profile")
    assert "-m coverage run" not in result.stdout
    assert not (repo / "artifacts" / "covtool.json").exists() or (
        metadata(repo)["runner"] != "pytest"
    )
    forced = Covtool(repo, covtool._capsys)("profile", "--runner", "pytest")
    assert forced.exit_code == 0, forced.stdout + forced.stderr
    assert metadata(repo)["runner"] == "pytest"
