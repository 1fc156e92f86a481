"""The README's two commands, and CI running exactly the second one."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from support import Covtool, GoRun, go_test

ROOT = Path(__file__).parent.parent
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.egg-info", "build", "out", ".*_cache"
)


def setup_commands() -> list[str]:
    """The shell blocks of the README's "Set up" section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_readme_starts_with_two_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme.index("## Set up") < readme.index("## A five-minute tour")
    install, tests = setup_commands()
    assert "pip install '.[python]'" in install and "covtool run" in install
    assert tests == "bash dev/test.sh"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert [line for line in ci if line and not line.startswith(("#", "set ", "cd "))] == [
        f"exec {tests}"
    ]


@pytest.mark.realdata
def test_install_command_in_a_fresh_venv(tmp_path: Path, stdlib_profiles: dict[str, GoRun]) -> None:
    """The first command on a clean copy; then the installed covtool on real Go data."""
    copy = tmp_path / "covtool"
    shutil.copytree(ROOT, copy, ignore=COPY_IGNORE)
    install = setup_commands()[0]
    result = subprocess.run(
        ["bash", "-c", install], cwd=copy, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # The table's total is coverage.py's own, from the JSON report the run kept.
    artifacts = copy / "examples" / "pyshop" / "artifacts"
    totals = json.loads((artifacts / "coverage.json").read_text())["totals"]
    assert result.stdout.splitlines()[-1].split() == [
        "TOTAL",
        str(totals["num_statements"]),
        str(totals["covered_lines"]),
        str(totals["num_branches"]),
        str(totals["covered_branches"]),
        f"{totals['percent_covered']:.1f}%",
    ]
    assert (artifacts / "line-cov.html").is_file() and (artifacts / "profile-completed").is_file()

    run = stdlib_profiles["strings"]
    expected = re.search(r"coverage: ([\d.]+)% of statements", run.stdout)
    assert expected
    report = subprocess.run(
        [copy / ".venv" / "bin" / "covtool", "report", run.profile],
        capture_output=True,
        text=True,
        check=True,
    )
    assert report.stdout.splitlines()[-1].split()[-1] == f"{expected.group(1)}%"


@pytest.mark.realdata
def test_example_profile_is_what_go_test_writes(covtool: Covtool, tmp_path: Path) -> None:
    example = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", example)
    fresh = go_test(example, tmp_path, example / "fresh.out", "-covermode=count", "./...")
    assert "coverage: 70.6% of statements" in fresh.stdout
    committed = covtool("report", "-f", "json", ROOT / "examples" / "shop" / "coverage.out")
    regenerated = covtool("report", "-f", "json", fresh.profile)
    assert json.loads(committed.stdout) == json.loads(regenerated.stdout)


def test_repository_configures_itself(covtool: Covtool) -> None:
    result = Covtool(ROOT, covtool._capsys)("config")
    assert result.exit_code == 0, result.stderr
    assert f"configuration file: {ROOT / 'covtool.toml'}" in result.stdout
