"""The go runner (covtool_plugins.runners.go): ``covtool profile`` on real Go modules.

Every project is written by the test into a temporary git repository and tested with the
real ``go`` (offline: ``go_env``); totals are checked against what ``go test`` itself prints
or writes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from covtool import UsageError
from covtool_plugins.runners import go as runner
from support import Covtool, Result, go_env, go_percentages, leaks

realdata = pytest.mark.realdata

CROSS = {
    "go.mod": "module example.com/cross\n\ngo 1.19\n",
    # a is tested, and calls into b, which has no test of its own.
    "a/a.go": """package a

import "example.com/cross/b"

func A(x int) int {
	if x > 0 {
		return b.Double(x)
	}
	return 0
}
""",
    "a/a_test.go": """package a

import "testing"

func TestA(t *testing.T) {
	if A(3) != 6 {
		t.Fatal("A(3) != 6")
	}
}
""",
    "b/b.go": """package b

func Double(x int) int {
	if x > 100 {
		return x
	}
	return x * 2
}

func Unused() int {
	return 1
}
""",
    # c is a second test binary: under -coverpkg=./... it reports a's and b's blocks too.
    "c/c.go": """package c

func C(s string) string {
	if s == "" {
		return "empty"
	}
	return s
}
""",
    "c/c_test.go": """package c

import "testing"

func TestC(t *testing.T) {
	if C("x") != "x" {
		t.Fatal("C")
	}
}
""",
}

FAILING_TEST = """package c

import "testing"

func TestC(t *testing.T) {
	if C("x") != "x" {
		t.Fatal("C")
	}
}

func TestBroken(t *testing.T) {
	t.Fatal("this test fails on purpose")
}
"""

SLOW_TEST = """package slow

import (
	"os"
	"strconv"
	"testing"
	"time"
)

func TestSlow(t *testing.T) {
	path := os.Getenv("GO_RUNNER_PID_FILE")
	// Written whole then renamed, so that the test never reads half a number.
	if err := os.WriteFile(path+".part", []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".part", path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Second)
}
"""

BLOCK = re.compile(r"^(.+):(\d+\.\d+,\d+\.\d+) (\d+) (\d+)$")


# -- helpers -------------------------------------------------------------------------------
@pytest.fixture
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """go's offline environment, with GOPATH outside the repository under test."""
    if shutil.which("go") is None:
        pytest.fail("go is not installed: the test command installs golang-go")
    return go_env(tmp_path_factory.mktemp("go"))


def make_repo(covtool: Covtool, files: dict[str, str]) -> Path:
    """Write ``files`` into the covtool directory and make it a git repository."""
    for name, text in files.items():
        covtool.write(name, text)
    subprocess.run(["git", "init", "-q"], cwd=covtool.path, check=True)
    return covtool.path


def profile(covtool: Covtool, env: dict[str, str], *args: str) -> Result:
    """``covtool profile ARGS`` in the repository."""
    return covtool("profile", *args, env=env)


def artifacts(covtool: Covtool) -> Path:
    return covtool.path / "artifacts"


def metadata(covtool: Covtool) -> dict:
    return json.loads((artifacts(covtool) / "covtool.json").read_text())


def blocks(text: str) -> list[tuple[str, str, int, int]]:
    """(file, span, statements, count) of every block of a Go profile."""
    rows = []
    for line in text.splitlines()[1:]:
        match = BLOCK.match(line)
        assert match, line
        rows.append((match[1], match[2], int(match[3]), int(match[4])))
    return rows


def reference_merge(text: str) -> list[tuple[str, str, int, int]]:
    """Blocks with the same span added up (count mode), as x/tools' ParseProfiles does."""
    merged: dict[tuple[str, str], list[int]] = {}
    for name, span, statements, count in blocks(text):
        merged.setdefault((name, span), [statements, 0])[1] += count
    return sorted((name, span, s, c) for (name, span), (s, c) in merged.items())


def report_json(covtool: Covtool, path: Path) -> dict:
    result = covtool("report", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def go(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run go itself, for reference output."""
    done = subprocess.run(
        ["go", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs. A zombie counts as ended: it is dead, and its reaping depends
    on whichever init the machine has, not on covtool."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


# -- a whole profile run ---------------------------------------------------------------------
@realdata
def test_cross_coverage_profile_and_artifacts(covtool: Covtool, env: dict[str, str]) -> None:
    repo = make_repo(covtool, CROSS)
    result = profile(covtool, env, "--go-coverpkg=./...")
    assert result.exit_code == 0, result.stderr
    out = artifacts(covtool)
    assert sorted(p.name for p in out.iterdir()) == [
        "coverage_profile.txt",
        "covtool.json",
        "profile-completed",
        "stdout.txt",
    ]
    assert (out / "profile-completed").read_bytes() == b""

    text = (out / "coverage_profile.txt").read_text()
    assert text.startswith("mode: count\n")
    assert text.count("mode:") == 1
    ours = blocks(text)
    spans = [(name, span) for name, span, _, _ in ours]
    assert len(spans) == len(set(spans)), "duplicate blocks were not merged"
    # The same blocks and counts as go's own -coverpkg profile, merged the x/tools way.
    go(["test", "-coverprofile=ref.out", "-covermode=count", "-coverpkg=./...", "./..."], repo, env)
    reference = (repo / "ref.out").read_text()
    assert len(blocks(reference)) > len(ours), "the fixture must make duplicate blocks"
    assert sorted(ours) == reference_merge(reference)
    # b has no test: its blocks are covered by a's test only through -coverpkg.
    double = [c for name, span, _, c in ours if name == "example.com/cross/b/b.go"]
    assert any(count > 0 for count in double)

    log = (out / "stdout.txt").read_text()
    assert "$ go test " in log
    assert re.search(r"^ok  \texample\.com/cross/a\t.*coverage: ", log, re.M)
    assert "?   \texample.com/cross/b\t[no test files]" in log

    data = metadata(covtool)
    assert data["runner"] == "go"
    assert data["tests_passed"] is True
    assert data["test_exit_status"] == 0
    assert data["profile"] == {"name": "coverage_profile.txt", "format": "go"}
    func = go(["tool", "cover", "-func=ref.out"], repo, env)
    total = func.strip().splitlines()[-1].split()[-1]  # "total: (statements) 72.7%"
    assert f"{data['totals']['percent']:.1f}%" == total
    statements = sum(s for _, _, s, _ in ours)
    assert data["totals"]["statements"] == statements
    assert data["totals"]["covered"] == sum(s for _, _, s, c in ours if c > 0)


@realdata
def test_totals_equal_what_go_test_prints(covtool: Covtool, env: dict[str, str]) -> None:
    make_repo(covtool, CROSS)
    result = profile(covtool, env, "--runner", "go")
    assert result.exit_code == 0, result.stderr
    printed = go_percentages((artifacts(covtool) / "stdout.txt").read_text())
    assert set(printed) == {"example.com/cross/a", "example.com/cross/c"}
    data = report_json(covtool, artifacts(covtool) / "coverage_profile.txt")
    for package, percent in printed.items():
        directory = package.removeprefix("example.com/cross/")
        assert f"{data['directories'][directory]['percent']:.1f}" == percent, package
    assert metadata(covtool)["totals"] == data["totals"]


@realdata
def test_failing_test_writes_artifacts_without_marker(
    covtool: Covtool, env: dict[str, str]
) -> None:
    make_repo(covtool, CROSS | {"c/c_test.go": FAILING_TEST})
    result = profile(covtool, env)
    assert result.exit_code == 2, result.stderr
    out = artifacts(covtool)
    assert not (out / "profile-completed").exists()
    assert blocks((out / "coverage_profile.txt").read_text())
    data = metadata(covtool)
    assert data["tests_passed"] is False
    assert data["test_exit_status"] == 1
    assert "--- FAIL: TestBroken" in (out / "stdout.txt").read_text()

    again = profile(covtool, env, "--allow-test-failures")
    assert again.exit_code == 2, again.stderr
    assert (out / "profile-completed").read_bytes() == b""
    assert metadata(covtool)["tests_passed"] is False


# -- modules and targets ---------------------------------------------------------------------
TWO_MODULES = CROSS | {
    "tools/go.mod": "module example.com/tools\n\ngo 1.19\n",
    "tools/gen/gen.go": """package gen

func Gen(n int) int {
	if n < 0 {
		return 0
	}
	return n + 1
}
""",
    "tools/gen/gen_test.go": """package gen

import "testing"

func TestGen(t *testing.T) {
	if Gen(1) != 2 {
		t.Fatal("Gen")
	}
}
""",
}


@realdata
def test_every_module_is_tested(covtool: Covtool, env: dict[str, str]) -> None:
    make_repo(covtool, TWO_MODULES)
    result = profile(covtool, env)
    assert result.exit_code == 0, result.stderr
    text = (artifacts(covtool) / "coverage_profile.txt").read_text()
    assert text.count("mode:") == 1
    files = {name for name, _, _, _ in blocks(text)}
    assert "example.com/tools/gen/gen.go" in files
    assert "example.com/cross/a/a.go" in files
    log = (artifacts(covtool) / "stdout.txt").read_text()
    assert "ok  \texample.com/tools/gen" in log
    data = report_json(covtool, artifacts(covtool) / "coverage_profile.txt")
    assert {"a/a.go", "c/c.go", "tools/gen/gen.go"} <= set(data["files"])
    printed = go_percentages(log)
    assert f"{data['directories']['tools/gen']['percent']:.1f}" == printed["example.com/tools/gen"]


@realdata
def test_target_in_a_nested_module(covtool: Covtool, env: dict[str, str]) -> None:
    make_repo(covtool, TWO_MODULES)
    result = profile(covtool, env, "--target", "./tools/")
    assert result.exit_code == 0, result.stderr
    files = {n for n, _, _, _ in blocks((artifacts(covtool) / "coverage_profile.txt").read_text())}
    assert files == {"example.com/tools/gen/gen.go"}


@realdata
def test_modules_without_a_root_module(covtool: Covtool, env: dict[str, str]) -> None:
    """No go.mod at the root: the go runner still claims the repository."""
    files = {f"svc/{name}": text for name, text in CROSS.items()}
    files["svc/go.mod"] = "module example.com/cross\n\ngo 1.19\n"
    files["docs/README.md"] = "docs\n"
    make_repo(covtool, files)
    result = profile(covtool, env)
    assert result.exit_code == 0, result.stderr
    assert metadata(covtool)["runner"] == "go"
    data = report_json(covtool, artifacts(covtool) / "coverage_profile.txt")
    assert "svc/a/a.go" in data["files"]

    outside = profile(covtool, env, "--target", "./docs/")
    assert outside.exit_code == 3
    assert "'./docs/' is in no Go module" in outside.stderr


@realdata
@pytest.mark.parametrize("target", ["./a/", "a", "./a", "a/...", "./a/..."])
def test_target_tests_only_its_package(covtool: Covtool, env: dict[str, str], target: str) -> None:
    make_repo(covtool, CROSS)
    result = profile(covtool, env, "--target", target)
    assert result.exit_code == 0, result.stderr
    files = {n for n, _, _, _ in blocks((artifacts(covtool) / "coverage_profile.txt").read_text())}
    assert files == {"example.com/cross/a/a.go"}
    log = (artifacts(covtool) / "stdout.txt").read_text()
    assert "go test -coverprofile=" in log
    assert " ./a/...\n" in log
    assert "example.com/cross/c" not in log


@realdata
def test_several_targets(covtool: Covtool, env: dict[str, str]) -> None:
    make_repo(covtool, CROSS)
    result = profile(covtool, env, "--target", "./a/", "--target", "c")
    assert result.exit_code == 0, result.stderr
    files = {n for n, _, _, _ in blocks((artifacts(covtool) / "coverage_profile.txt").read_text())}
    assert files == {"example.com/cross/a/a.go", "example.com/cross/c/c.go"}


# -- errors ----------------------------------------------------------------------------------
def test_unknown_runner_lists_the_runners(covtool: Covtool) -> None:
    result = covtool("profile", "--runner", "nosuch")
    assert result.exit_code == 3
    assert "unknown runner 'nosuch'" in result.stderr
    available = re.search(r"available: ([^)]*)\)", result.stderr)
    assert available, result.stderr
    assert "go" in available[1].split(", ")


@realdata
def test_go_missing_is_a_usage_error(covtool: Covtool, env: dict[str, str]) -> None:
    make_repo(covtool, CROSS)
    result = profile(covtool, env | {"PATH": str(covtool.path / "no-bin")})
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("covtool: error: cannot run 'go test ")
    assert lines[0].endswith(": No such file or directory")
    assert not (artifacts(covtool) / "covtool.json").exists()
    assert not (artifacts(covtool) / "profile-completed").exists()


@realdata
def test_go_binary_setting(covtool: Covtool, env: dict[str, str]) -> None:
    make_repo(covtool, CROSS)
    result = profile(covtool, env, "--go-binary", "no-such-go")
    assert result.exit_code == 3
    assert "cannot run 'no-such-go test " in result.stderr


@realdata
def test_target_matching_no_packages(covtool: Covtool, env: dict[str, str]) -> None:
    make_repo(covtool, CROSS | {"docs/README.md": "no Go here\n"})
    result = profile(covtool, env, "--target", "./a/", "--target", "./docs/")
    assert result.exit_code == 3
    assert result.stderr.strip() == "covtool: error: target './docs/' matched no Go packages"
    assert not (artifacts(covtool) / "profile-completed").exists()

    missing = profile(covtool, env, "--target", "./nosuch/")
    assert missing.exit_code == 3
    assert "target './nosuch/' matched no Go packages: there is no directory nosuch" in (
        missing.stderr
    )


@realdata
def test_packages_without_tests(covtool: Covtool, env: dict[str, str]) -> None:
    make_repo(covtool, CROSS)
    result = profile(covtool, env, "--target", "./b/")
    assert result.exit_code == 3
    assert "go test found no package with tests in ./b/" in result.stderr


@realdata
def test_forced_go_without_go_mod(covtool: Covtool, env: dict[str, str]) -> None:
    make_repo(covtool, {"README.md": "nothing\n"})
    result = profile(covtool, env, "--runner", "go")
    assert result.exit_code == 3
    assert "--runner go: no go.mod in" in result.stderr


@realdata
def test_race_forces_atomic_mode(covtool: Covtool, env: dict[str, str]) -> None:
    """With cgo off, go refuses -race; its command line shows the mode covtool chose."""
    make_repo(covtool, CROSS)
    result = profile(covtool, env | {"CGO_ENABLED": "0"}, "--go-race", "--go-covermode", "set")
    assert "covtool: -race needs -covermode=atomic: using atomic instead of set" in result.stdout
    assert result.exit_code == 3
    assert "-covermode=atomic -race ./..." in result.stderr


def test_own_coverage_flags_are_refused(covtool: Covtool, env: dict[str, str]) -> None:
    make_repo(covtool, CROSS)
    result = profile(covtool, env, "--go-test-flags=-count=1,-coverprofile=x.out")
    assert result.exit_code == 3
    assert "'-coverprofile=x.out' is not allowed" in result.stderr


# -- SIGTERM ---------------------------------------------------------------------------------
@realdata
def test_sigterm_stops_go_test_and_leaves_no_partial_artifacts(
    covtool: Covtool, env: dict[str, str]
) -> None:
    repo = make_repo(
        covtool,
        {"go.mod": "module example.com/slow\n\ngo 1.19\n", "slow/slow_test.go": SLOW_TEST},
    )
    pid_file = covtool.path.parent / f"{covtool.path.name}-test.pid"
    environ = {k: v for k, v in env.items() if not leaks(k)}
    environ["GO_RUNNER_PID_FILE"] = str(pid_file)
    command = [sys.executable, "-m", "covtool", "profile", "--runner", "go"]
    child = subprocess.Popen(
        command,
        cwd=repo,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    test_pid = 0
    try:
        assert wait_for(pid_file.exists, 90), "the Go test never started"
        test_pid = int(pid_file.read_text())
        assert process_alive(test_pid)
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=10)
        assert child.returncode == 143, stderr
        assert "terminated by SIGTERM" in stderr
        assert wait_for(lambda: not process_alive(test_pid), 5), "the test binary outlived covtool"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if test_pid and process_alive(test_pid):  # the test failed: leave no sleeper behind
            with contextlib.suppress(ProcessLookupError):
                os.killpg(os.getpgid(test_pid), signal.SIGKILL)
    out = artifacts(covtool)
    assert not (out / "profile-completed").exists()
    assert not (out / "stdout.txt").exists()
    leftovers = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert leftovers == [], "a killed run must leave no file, whole or partial"


# -- pieces ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "done"),
    [
        ("ok  \texample.com/m/a\t0.002s\tcoverage: 66.7% of statements\n", True),
        ("ok  \texample.com/m/a\t(cached)\tcoverage: 66.7% of statements\n", True),
        ("FAIL\texample.com/m/d\t0.002s\n", True),
        ("FAIL\texample.com/m/d [build failed]\n", True),
        ("?   \texample.com/m/b\t[no test files]\n", True),
        ("\texample.com/m/b\t\tcoverage: 0.0% of statements\n", True),  # Go 1.22+
        ("FAIL\n", False),
        ("--- FAIL: TestD (0.00s)\n", False),
        ("coverage: 0.0% of statements\n", False),
        ("    d_test.go:5: coverage: 1% of statements\n", False),
        ("PASS\n", False),
    ],
)
def test_package_done_lines(line: str, done: bool) -> None:
    assert runner.GoOutput()(line) is done


def test_matched_no_packages_is_remembered() -> None:
    output = runner.GoOutput()
    output.directory = "tools"
    assert output('go: warning: "./x/..." matched no packages\n') is False
    assert output.unmatched == {("tools", "./x/...")}


@pytest.mark.parametrize(
    ("flags", "race"),
    [
        (["-race"], True),
        (["--race"], True),
        (["-count=1", "-race=true"], True),
        (["-race", "-race=false"], False),
        (["-racey"], False),
        (["-count=1"], False),
    ],
)
def test_race_requested(flags: list[str], race: bool) -> None:
    assert runner.race_requested(flags) is race


@pytest.mark.parametrize(
    ("target", "directory"),
    [
        ("./pkg/", "pkg"),
        ("pkg", "pkg"),
        ("./pkg", "pkg"),
        ("pkg/...", "pkg"),
        ("./pkg/sub/...", "pkg/sub"),
        ("./", "."),
        (".", "."),
        ("./...", "."),
    ],
)
def test_target_directory(tmp_path: Path, target: str, directory: str) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    assert runner.target_directory(tmp_path, target) == directory


def test_target_outside_the_repository(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="outside the repository"):
        runner.target_directory(tmp_path, "../elsewhere")


def test_plan_one_run_per_module() -> None:
    """Nested modules below a target are tested whole; patterns are relative to each."""
    plan = runner.plan_runs(Path("/"), [".", "tools", "svc/api"], ["."])
    assert [(j.directory, j.patterns) for j in plan] == [
        (".", ["./..."]),
        ("svc/api", ["./..."]),
        ("tools", ["./..."]),
    ]


def test_plan_target_in_its_innermost_module(tmp_path: Path) -> None:
    (tmp_path / "svc" / "api" / "v1").mkdir(parents=True)
    (tmp_path / "pkg").mkdir()
    plan = runner.plan_runs(tmp_path, [".", "svc/api"], ["./svc/", "svc/api/v1", "pkg"])
    assert [(j.directory, j.patterns) for j in plan] == [
        (".", ["./svc/...", "./pkg/..."]),
        ("svc/api", ["./...", "./v1/..."]),
    ]


def test_concatenate_keeps_one_mode_line(tmp_path: Path) -> None:
    first = tmp_path / "1.out"
    first.write_text("mode: atomic\nm/a.go:1.1,2.2 1 1\n")
    empty = tmp_path / "2.out"
    empty.write_text("mode: atomic")  # go writes no newline when no block follows
    last = tmp_path / "3.out"
    last.write_text("mode: atomic\nm/a.go:1.1,2.2 1 3\nt/b.go:3.1,4.2 2 0")
    merged = tmp_path / "merged.out"
    assert runner.concatenate([first, empty, last], merged, "atomic") == 3
    assert merged.read_text() == (
        "mode: atomic\nm/a.go:1.1,2.2 1 1\nm/a.go:1.1,2.2 1 3\nt/b.go:3.1,4.2 2 0\n"
    )
