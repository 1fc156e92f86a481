"""The command runner (covtool_plugins.runners.command): a shell command writes the profile.

The commands are real shell commands run by ``covtool profile`` in a git repository; the
figures they should give are those of the LCOV file they write (one line hit of two).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from support import Covtool

LCOV = r"printf 'SF:a.c\nDA:1,1\nDA:2,0\nend_of_record\n'"
WRITE = f"{LCOV} > out.lcov"


def git_init(root: Path) -> None:
    """Make ``root`` a git repository, as a CI checkout is."""
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)


def metadata(root: Path) -> dict[str, Any]:
    return json.loads((root / "artifacts" / "covtool.json").read_text())


@pytest.fixture
def repo(covtool: Covtool) -> Covtool:
    """The CLI in a git repository with the source file the profile names."""
    covtool.write("a.c", "int a;\nint b;\n")
    git_init(covtool.path)
    return covtool


def test_command_profile_becomes_the_artifact(repo: Covtool) -> None:
    result = repo("profile", "--command", WRITE, "--command-profile", "out.lcov")
    assert result.exit_code == 0, result.stdout + result.stderr
    artifacts = repo.path / "artifacts"
    assert (artifacts / "out.lcov").is_file()
    assert (artifacts / "profile-completed").exists()
    assert f"$ bash -c {WRITE}" in (artifacts / "stdout.txt").read_text()
    meta = metadata(repo.path)
    assert (meta["runner"], meta["tests_passed"], meta["test_exit_status"]) == ("command", True, 0)
    assert meta["profile"] == {"name": "out.lcov", "format": "lcov"}
    assert (meta["totals"]["statements"], meta["totals"]["covered"]) == (2, 1)


def test_output_is_streamed_and_saved(repo: Covtool) -> None:
    command = f"echo running the suite && {WRITE}"
    result = repo(
        "profile", "--runner", "command", "--command", command, "--command-profile", "out.lcov"
    )
    assert result.exit_code == 0, result.stderr
    assert "running the suite" in result.stdout
    assert "running the suite\n" in (repo.path / "artifacts" / "stdout.txt").read_text()


def test_failing_command_still_gives_a_profile_but_no_marker(repo: Covtool) -> None:
    result = repo("profile", "--command", f"{WRITE}; exit 1", "--command-profile", "out.lcov")
    assert result.exit_code == 2, result.stdout + result.stderr
    artifacts = repo.path / "artifacts"
    assert (artifacts / "out.lcov").is_file()
    assert not (artifacts / "profile-completed").exists()
    meta = metadata(repo.path)
    assert (meta["tests_passed"], meta["test_exit_status"]) == (False, 1)
    assert (meta["totals"]["statements"], meta["totals"]["covered"]) == (2, 1)


def test_command_that_writes_nothing_is_a_usage_error(repo: Covtool) -> None:
    result = repo("profile", "--command", "true", "--command-profile", "out.lcov")
    assert result.exit_code == 3, result.stdout + result.stderr
    assert (
        f"covtool: error: the command 'true' (exit status 0) did not write out.lcov "
        f"({repo.path / 'out.lcov'})" in result.stderr
    )
    assert not (repo.path / "artifacts" / "covtool.json").exists()


def test_forced_without_settings_names_them(repo: Covtool) -> None:
    result = repo("profile", "--runner", "command")
    assert result.exit_code == 3
    assert (
        "covtool: error: the command runner needs the settings command (--command) and "
        "command_profile (--command-profile), in covtool.toml or on the command line"
    ) in result.stderr
    half = repo("profile", "--command", WRITE)
    assert half.exit_code == 3
    assert "needs the setting command_profile (--command-profile)," in half.stderr
    assert not (repo.path / "out.lcov").exists()  # refused before running anything


def test_configured_command_claims_before_project_files(repo: Covtool) -> None:
    """covtool.toml names a command: it wins over the pytest runner's pyproject.toml."""
    repo.write("pyproject.toml", "[project]\nname = 'x'\nversion = '0'\n")
    repo.write(
        "covtool.toml",
        f"command = {json.dumps(WRITE)}\ncommand_profile = 'out.lcov'\n",
    )
    result = repo("profile")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert metadata(repo.path)["runner"] == "command"
    # Another runner forced: the configured command steps aside (pytest finds no tests).
    forced = repo("profile", "--runner", "pytest")
    assert forced.exit_code == 3
    assert "pytest collected no tests" in forced.stderr


def test_profile_in_a_subdirectory_keeps_its_base_name(repo: Covtool) -> None:
    command = f"mkdir -p build/cov && {LCOV} > build/cov/all.info"
    result = repo("profile", "--command", command, "--command-profile", "build/cov/all.info")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert (repo.path / "artifacts" / "all.info").is_file()
    assert metadata(repo.path)["profile"]["name"] == "all.info"


def test_command_format_forces_the_reader(repo: Covtool) -> None:
    settings = ("--command", WRITE, "--command-profile", "out.lcov", "--command-format")
    forced = repo("profile", *settings, "lcov")
    assert forced.exit_code == 0, forced.stdout + forced.stderr
    assert metadata(repo.path)["profile"]["format"] == "lcov"
    # Read as Cobertura XML, the same tracefile is malformed: the format really is forced.
    wrong = repo("profile", *settings, "cobertura")
    assert wrong.exit_code == 4, wrong.stdout + wrong.stderr
    assert "out.lcov" in wrong.stderr


def test_unknown_command_format_is_refused_before_running(repo: Covtool) -> None:
    result = repo(
        "profile", "--command", WRITE, "--command-profile", "out.lcov", "--command-format", "gcov"
    )
    assert result.exit_code == 3
    assert "command_format 'gcov' is not a coverage format covtool reads (known: " in result.stderr
    assert not (repo.path / "out.lcov").exists()


def test_unchanged_profile_is_warned_of(repo: Covtool) -> None:
    repo.write("out.lcov", "SF:a.c\nDA:1,1\nDA:2,0\nend_of_record\n")
    result = repo("profile", "--command", "true", "--command-profile", "out.lcov")
    assert result.exit_code == 0, result.stderr
    assert "out.lcov was not changed by the command; it is from before the run" in result.stderr
