"""What tests share besides fixtures: the CLI runner, real Go runs.

Test modules import these from here, never from a ``conftest.py``: pytest imports each
``conftest.py`` outside a package as the module ``conftest``, so a second one (like
``tests/storage/conftest.py``) would shadow the first.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from covtool.cli import main
from covtool.engine import open_store
from covtool.startup import start
from covtool.storage import Storage


@dataclass
class Result:
    """What one covtool invocation did."""

    exit_code: int
    stdout: str
    stderr: str


class Covtool:
    """Runs the real CLI (``covtool.cli.main``) in a directory, with a clean environment.

    Every ``COVTOOL_*`` variable and every Prow variable of the surrounding environment is
    removed, so that a developer's settings or a CI job's never leak into a test; ``env``
    adds variables for one call.
    """

    def __init__(self, path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.path = path
        self._capsys = capsys

    def __call__(self, *args: str | Path, env: dict[str, str] | None = None) -> Result:
        environ = {k: v for k, v in os.environ.items() if not leaks(k)}
        environ.update(env or {})
        previous = Path.cwd()
        self._capsys.readouterr()
        os.chdir(self.path)
        try:
            code = main([str(arg) for arg in args], environ)
        finally:
            os.chdir(previous)
        out, err = self._capsys.readouterr()
        return Result(int(code), out, err)

    def write(self, name: str, text: str) -> Path:
        """Create a file under the run directory."""
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path


#: Prow's variables: a job that runs these tests must not make them a Prow job.
PROW_VARIABLES = frozenset(
    {
        "ARTIFACTS",
        "BUILD_ID",
        "BUILD_NUMBER",
        "JOB_NAME",
        "JOB_SPEC",
        "JOB_TYPE",
        "PROW_JOB_ID",
        "PULL_BASE_REF",
        "PULL_BASE_SHA",
        "PULL_NUMBER",
        "PULL_PULL_SHA",
        "PULL_REFS",
        "REPO_NAME",
        "REPO_OWNER",
    }
)


def leaks(variable: str) -> bool:
    """Whether a variable of the surrounding environment would change what covtool does."""
    return variable.startswith("COVTOOL_") or variable in PROW_VARIABLES


@dataclass
class GoRun:
    """A profile written by ``go test`` and what ``go test`` printed while writing it."""

    profile: Path
    stdout: str


def go_percentages(stdout: str) -> dict[str, str]:
    """``{package: "98.1"}`` from ``go test``'s ``coverage: X% of statements`` lines."""
    found = re.findall(r"^ok\s+(\S+)\s.*coverage: ([\d.]+)% of statements", stdout, re.M)
    assert found, stdout
    return dict(found)


def go_env(tmp: Path) -> dict[str, str]:
    """An environment in which ``go`` needs no network and no home directory."""
    return os.environ | {
        "GOPATH": str(tmp / "gopath"),
        "GOCACHE": os.environ.get("GOCACHE", "/tmp/covtool-test-gocache"),
        "GOFLAGS": "",
        "GOPROXY": "off",
        "GO111MODULE": "on",
        "CGO_ENABLED": "0",
    }


def go_test(workdir: Path, tmp: Path, profile: Path, *args: str) -> GoRun:
    """Run ``go test -coverprofile=PROFILE ARGS`` in ``workdir``."""
    if shutil.which("go") is None:
        pytest.fail("go is not installed: the test command installs golang-go")
    result = subprocess.run(
        ["go", "test", f"-coverprofile={profile}", *args],
        cwd=workdir,
        env=go_env(tmp),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return GoRun(profile, result.stdout)


#: git with a fixed identity and no user or system configuration, so that commits work on a
#: fresh machine and a developer's settings never change a test's diff.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo``; its output, stripped."""
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | GIT_ENV,
    )
    return done.stdout.strip()


def commit(repo: Path, message: str = "commit") -> str:
    """Commit everything in the work tree; the commit's sha."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def documented_fields(section: str) -> set[str]:
    """The field names in the first column of a table of docs/diff-json.md's ``section``."""
    text = (Path(__file__).parent.parent / "docs" / "diff-json.md").read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n#", 1)[0]
    names: set[str] = set()
    for row in body.splitlines():
        if row.startswith("| `"):
            names.update(n.strip("` ") for n in row.split("|")[1].split(","))
    return names


def store_of(url: str) -> Storage:
    """The store covtool's plugins make for ``url``, with no setting from the environment."""
    environ = {k: v for k, v in os.environ.items() if not leaks(k)}
    return open_store(start([], environ).make_run(), url)
