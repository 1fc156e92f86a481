"""``covtool profile``: the workflow around a runner — artifacts, marker, metadata, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from support import Covtool

#: A runner that runs a real shell command through covtool.run_command: the command prints
#: a line and writes a Go profile; SHELL_EXIT decides whether "the tests" pass.
RUNNER = """
from pathlib import Path
from covtool import RawProfile, hookimpl, run_command

@hookimpl
def covtool_runners():
    return ["shell"]

@hookimpl
def covtool_run_tests(run, scratch):
    if run.config.get("runner") not in ("", "shell"):
        return None
    out = Path(scratch) / "c.out"
    script = (
        "echo 'ok  \\texample.com/m/a\\t0.01s'; "
        f"printf 'mode: set\\\\nm/a.go:1.1,2.2 3 1\\\\nm/a.go:3.1,4.2 1 0\\\\nm/a.go:1.1,2.2 3 0\\\\n' > {out}; "
        "exit ${SHELL_EXIT:-0}"
    )
    status = run_command(run, ["bash", "-c", script], cwd=run.root, env=run.environ, label="shell",
                         done=lambda line: line.startswith("ok "))
    return RawProfile(out, "go", status == 0, "shell", "coverage_profile.txt", status)

@hookimpl
def covtool_profile_generated(profile, run):
    print("generated", len(profile), profile.totals().statements, file=run.stderr)
"""


@pytest.fixture
def shell_runner(covtool: Covtool, monkeypatch: pytest.MonkeyPatch) -> Covtool:
    """The covtool fixture in a git repository, with the shell runner importable."""
    (covtool.path / "plugins").mkdir()
    (covtool.path / "plugins" / "covtest_shell.py").write_text(textwrap.dedent(RUNNER))
    monkeypatch.syspath_prepend(str(covtool.path / "plugins"))
    subprocess.run(["git", "init", "-q", "-b", "main", str(covtool.path)], check=True)
    yield covtool
    sys.modules.pop("covtest_shell", None)


def artifacts(covtool: Covtool) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((covtool.path / "artifacts").iterdir())}


def test_passing_tests_leave_every_artifact_and_the_marker_last(shell_runner: Covtool) -> None:
    result = shell_runner("profile", "-p", "covtest_shell")
    assert result.exit_code == 0, result.stderr
    assert "ok  \texample.com/m/a" in result.stdout  # streamed live
    assert result.stderr == "generated 1 4\n"  # covtool_profile_generated: once, merged
    files = artifacts(shell_runner)
    assert sorted(files) == [
        "coverage_profile.txt",
        "covtool.json",
        "profile-completed",
        "stdout.txt",
    ]
    assert files["profile-completed"] == ""
    assert (
        files["coverage_profile.txt"] == "mode: set\nm/a.go:1.1,2.2 3 1\nm/a.go:3.1,4.2 1 0\n"
    )  # merged
    assert files["stdout.txt"].startswith("$ bash -c ")
    assert "ok  \texample.com/m/a\t0.01s\n" in files["stdout.txt"]
    folder = shell_runner.path / "artifacts"
    marker, others = (
        folder / "profile-completed",
        [folder / n for n in files if n != "profile-completed"],
    )
    assert all(marker.stat().st_mtime_ns >= other.stat().st_mtime_ns for other in others)


def test_metadata(shell_runner: Covtool) -> None:
    env = {
        "JOB_NAME": "post-shop-coverage",
        "JOB_TYPE": "postsubmit",
        "BUILD_NUMBER": "42",
        "REPO_OWNER": "acme",
        "REPO_NAME": "shop",
        "PULL_BASE_REF": "main",
        "PULL_BASE_SHA": "abc123",
    }
    assert shell_runner("profile", "-p", "covtest_shell", env=env).exit_code == 0
    data = json.loads(artifacts(shell_runner)["covtool.json"])
    assert data["format_version"] == 1
    assert (
        data["repository"] == "acme/shop"
        and data["commit"] == "abc123"
        and data["branch"] == "main"
    )
    assert data["job"] == {"name": "post-shop-coverage", "type": "postsubmit", "build_id": "42"}
    assert (
        data["runner"] == "shell" and data["tests_passed"] is True and data["test_exit_status"] == 0
    )
    assert data["profile"] == {"name": "coverage_profile.txt", "format": "go"}
    assert data["totals"] == {"statements": 4, "covered": 3, "percent": 75.0}
    assert data["started"] <= data["finished"] and data["finished"].endswith("+00:00")


def test_metadata_from_git_outside_prow(shell_runner: Covtool) -> None:
    git = ["git", "-C", str(shell_runner.path)]
    subprocess.run(
        [*git, "remote", "add", "origin", "https://github.com/acme/shop.git"], check=True
    )
    subprocess.run(
        [
            *git,
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ],
        check=True,
    )
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert shell_runner("profile", "-p", "covtest_shell").exit_code == 0
    data = json.loads(artifacts(shell_runner)["covtool.json"])
    assert (data["repository"], data["commit"], data["branch"]) == ("acme/shop", head, "main")
    assert data["job"] == {"name": None, "type": None, "build_id": None}


def test_failing_tests_write_everything_but_the_marker(shell_runner: Covtool) -> None:
    result = shell_runner("profile", "-p", "covtest_shell", env={"SHELL_EXIT": "1"})
    assert result.exit_code == 2
    files = artifacts(shell_runner)
    assert "profile-completed" not in files and "coverage_profile.txt" in files
    assert json.loads(files["covtool.json"])["tests_passed"] is False
    allowed = shell_runner(
        "profile", "-p", "covtest_shell", "--allow-test-failures", env={"SHELL_EXIT": "1"}
    )
    assert allowed.exit_code == 2
    assert "profile-completed" in artifacts(shell_runner)


def test_names_and_directory_are_settings(shell_runner: Covtool) -> None:
    names = ["--profile-name", "p.out", "--stdout-name", "log.txt", "--metadata-name", "m.json"]
    result = shell_runner(
        "profile", "-p", "covtest_shell", "--artifacts", "out/cov", *names, "--marker-name", "done"
    )
    assert result.exit_code == 0
    assert sorted(p.name for p in (shell_runner.path / "out" / "cov").iterdir()) == [
        "done",
        "log.txt",
        "m.json",
        "p.out",
    ]


def test_unknown_runner_lists_the_available_ones(shell_runner: Covtool) -> None:
    result = shell_runner("profile", "-p", "covtest_shell", "--runner", "nosuch")
    assert result.exit_code == 3
    assert result.stderr.startswith("covtool: error: unknown runner 'nosuch' (available: ")
    assert "shell" in result.stderr and "go" in result.stderr and result.stderr.count("\n") == 1
    assert not (shell_runner.path / "artifacts" / "profile-completed").exists()


def test_nothing_recognised(covtool: Covtool) -> None:
    result = covtool("profile")
    assert result.exit_code == 3
    assert "no runner recognises the repository in" in result.stderr
    assert "choose one with --runner (" in result.stderr


def test_help_documents_every_option(covtool: Covtool) -> None:
    text = covtool("profile", "--help", env={"COLUMNS": "200"}).stdout
    for flag in (
        "--runner",
        "--target",
        "--artifacts",
        "--profile-name",
        "--allow-test-failures",
        "--go-covermode",
        "--go-coverpkg",
        "--pytest-args",
        "--command",
        "--command-profile",
        "--coverage-threshold",
        "--path-map",
        "-p",
    ):
        assert flag in text, flag
    assert "profile-completed" in text


def test_status_line_on_a_terminal_plain_lines_elsewhere(shell_runner: Covtool) -> None:
    import os

    from test_reports import run_on_terminal

    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVTOOL_", "NO_COLOR"))}
    env |= {"TERM": "xterm", "PYTHONPATH": str(shell_runner.path / "plugins")}
    on_terminal = run_on_terminal(["profile", "-p", "covtest_shell"], env, shell_runner.path)
    assert "example.com/m/a 0.01s" in on_terminal  # rich expands the tab
    assert "shell: 0s, 1 package done" in on_terminal and "\x1b[" in on_terminal  # status line
    piped = subprocess.run(
        [sys.executable, "-m", "covtool", "profile", "-p", "covtest_shell"],
        cwd=shell_runner.path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert piped.stdout == "ok  \texample.com/m/a\t0.01s\n"  # plain lines only


def test_a_runner_error_keeps_the_log_that_explains_it(shell_runner: Covtool) -> None:
    (shell_runner.path / "plugins" / "covtest_broken.py").write_text(
        "from covtool import UsageError, hookimpl, run_command\n"
        "@hookimpl\ndef covtool_runners():\n    return ['broken']\n"
        "@hookimpl\ndef covtool_run_tests(run, scratch):\n"
        "    run_command(run, ['echo', 'why it failed'], cwd=run.root)\n"
        "    raise UsageError('the broken runner could not run; see stdout.txt')\n"
    )
    failed = shell_runner(
        "profile", "-p", "covtest_broken", "--runner", "broken", "--artifacts", "b"
    )
    assert failed.exit_code == 3
    assert failed.stderr == "covtool: error: the broken runner could not run; see stdout.txt\n"
    assert (
        shell_runner.path / "b" / "stdout.txt"
    ).read_text() == "$ echo why it failed\nwhy it failed\n"
    assert sorted(p.name for p in (shell_runner.path / "b").iterdir()) == ["stdout.txt"]
    sys.modules.pop("covtest_broken", None)


@pytest.mark.parametrize("setting", ["profile", "stdout", "metadata", "marker"])
@pytest.mark.parametrize("name", ["../escape.txt", "sub/p.out", ".", ""])
def test_artifact_names_must_be_file_names(shell_runner: Covtool, setting: str, name: str) -> None:
    result = shell_runner("profile", "-p", "covtest_shell", f"--{setting}-name", name)
    if setting == "profile" and name == "":
        assert result.exit_code == 0  # empty: the runner's own name
        return
    assert result.exit_code == 3
    assert result.stderr == (
        f"covtool: error: {setting}_name {name!r}: expected a file name, without directories\n"
    )
    assert not (shell_runner.path / "escape.txt").exists()
