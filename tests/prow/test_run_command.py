"""``covtool run`` outside the end-to-end scenario: the local workflow, Prow's environment
read from its variables or JOB_SPEC, the original tool's flags, batch and bad input."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from covtool.errors import UsageError
from covtool.prow import read_job
from prow_scenario import GO_PROJECT, Commits, go_total_percent, job_env, make_repository
from support import Covtool, git, go_env, leaks


@pytest.fixture
def shop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Covtool, Commits]:
    """The Go project as a repository on main, and covtool running in it."""
    repo = tmp_path / "shop"
    commits = make_repository(repo, GO_PROJECT)
    (repo / ".gitignore").write_text("artifacts/\n.covtool/\n")
    return Covtool(repo, capsys), commits


def go(tmp_path: Path) -> dict[str, str]:
    return {k: v for k, v in go_env(tmp_path).items() if k.startswith("GO")}


# -- local -----------------------------------------------------------------------------------
@pytest.mark.realdata
def test_local_runs_compare_with_the_saved_baseline_of_main(
    shop: tuple[Covtool, Commits], tmp_path: Path
) -> None:
    covtool, commits = shop
    env = go(tmp_path)
    first = covtool("run", env=env)
    assert first.exit_code == 0, first.stderr
    assert "covtool: local run; artifacts in artifacts" in first.stderr
    assert "no local baseline yet (`covtool baseline` says why)" in first.stderr
    assert "TOTAL" in first.stdout and "covtool: wrote artifacts/line-cov.html" in first.stderr

    saved = covtool("run", "--save-baseline", env=env)
    assert saved.exit_code == 0, saved.stderr
    assert f"saved build 1 of local in {covtool.path / '.covtool/store'}" in saved.stderr

    git(covtool.path, "checkout", "-q", commits.push1)
    pr = covtool("run", "--save-baseline", env=env)
    assert pr.exit_code == 1, pr.stderr  # pay.go below 80%: the gate fails
    assert "baseline: build 1 (" in pr.stderr
    assert re.search(r"pkg/pay/pay\.go +66\.7% +33\.3% +-33\.3", pr.stdout), pr.stdout
    assert "gate failed" in pr.stderr and "exit 1 (gate failed)" in pr.stderr
    assert "saved build 2 of local" in pr.stderr

    git(covtool.path, "checkout", "-q", "refund")  # push2, on its branch
    later = covtool("run", "--save-baseline", env=env)
    assert later.exit_code == 0, later.stderr
    assert "baseline: build 1 (" in later.stderr, later.stderr
    shown = covtool("baseline", env=env).stdout
    assert "  3: built from branch refund, not main" in shown
    assert f"  2: commit {commits.push1[:12]} is not on branch main" in shown
    assert "  1: healthy" in shown


HEAR_DIFF = """
from covtool import hookimpl

@hookimpl
def covtool_diff_computed(diff, run):
    previous = diff.previous
    print("heard previous", previous.build.build_id, previous.commit,
          f"{previous.delta:.6f}", file=run.stderr)
"""


@pytest.mark.realdata
def test_local_runs_on_a_branch_say_what_changed_since_the_previous_run(
    shop: tuple[Covtool, Commits], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    covtool, commits = shop
    env = go(tmp_path)
    assert covtool("run", "--save-baseline", env=env).exit_code == 0  # main: the baseline
    git(covtool.path, "checkout", "-q", "-b", "work", commits.push1)
    first = covtool("run", env=env)
    assert first.exit_code == 1, first.stderr  # the gate: pay.go below 80%
    assert "Since the previous run: first recorded run on branch work\n" in first.stdout
    store = covtool.path / ".covtool/store"
    assert f"recorded run 1 of branch work in {store}" in first.stderr
    recorded = store / "branches/work/local/1"
    assert (recorded / "artifacts/profile-completed").is_file()
    assert sorted(p.name for p in (recorded / "artifacts").iterdir()) == [
        "coverage_profile.txt",
        "covtool.json",
        "profile-completed",
    ]
    before = go_total_percent(covtool.path / "artifacts/coverage_profile.txt")

    git(covtool.path, "reset", "-q", "--hard", commits.push2)  # the test, pushed on top
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins/covtest_hear_diff.py").write_text(HEAR_DIFF)
    monkeypatch.syspath_prepend(str(tmp_path / "plugins"))
    second = covtool("run", "-p", "covtest_hear_diff", env=env)
    assert second.exit_code == 0, second.stderr
    after = go_total_percent(covtool.path / "artifacts/coverage_profile.txt")
    assert after > before
    # covtool_diff_computed hears the comparison with the previous run, in the Diff.
    assert f"heard previous 1 {commits.push1} {after - before:.6f}\n" in second.stderr
    since = f"Since the previous run: {after - before:+.1f}% since {commits.push1[:7]} (build 1)\n"
    assert since in second.stdout
    assert "previous build: 1 (" in second.stderr

    # Runs of the same commit are recorded, but the comparison skips them.
    again = covtool("run", "--no-record-local-runs", env=env)
    assert since in again.stdout and "recorded run" not in again.stderr
    assert not (store / "branches/work/local/3").exists()

    # A previous run whose commit git does not have (the branch was rewritten and the old
    # commit pruned): not an ancestor, and only the files' totals can be compared.
    metadata = recorded / "artifacts/covtool.json"
    metadata.write_text(metadata.read_text().replace(commits.push1, "f" * 40))
    pruned = covtool("run", "--no-record-local-runs", env=env)
    assert pruned.exit_code == 0, pruned.stderr
    assert since.replace(commits.push1[:7], "fffffff") in pruned.stdout
    assert (
        "Note: fffffff is not an ancestor of this commit: the branch's history was rewritten "
        "(a force-push) since that build; git does not have fffffff, so files are compared by "
        "their totals only\n"
    ) in pruned.stdout


def test_the_original_tools_flags_work_verbatim(covtool: Covtool) -> None:
    spellings = {
        "--artifacts=./artifacts/": "artifacts = ./artifacts/",
        "--target=./pkg/": "target = ./pkg/",
        "--coverage_threshold=70%": "coverage_threshold = 70.0",
        "--cov-target=./cmd/": "target = ./cmd/",
        "--cov_target=./cmd/": "target = ./cmd/",
        "--cov-threshold-percentage=55": "coverage_threshold = 55.0",
        "--cov_threshold_percentage=55": "coverage_threshold = 55.0",
        "--profile-name=cov.txt": "profile_name = cov.txt",
        "--profile_name=cov.txt": "profile_name = cov.txt",
        "--postsubmit-gcs-bucket=knative-prow": "postsubmit_gcs_bucket = knative-prow",
        "--postsubmit_gcs_bucket=knative-prow": "postsubmit_gcs_bucket = knative-prow",
        "--postsubmit-job-name=post-x": "postsubmit_job_name = post-x",
        "--github-token=/etc/github/oauth": "github_token_path = /etc/github/oauth",
        "--github_token=/etc/github/oauth": "github_token_path = /etc/github/oauth",
        "--covbot-username=knative-metrics-robot": "covbot_username = knative-metrics-robot",
        "--covbot_username=knative-metrics-robot": "covbot_username = knative-metrics-robot",
    }
    for flag, expected in spellings.items():
        result = covtool("config", flag)
        assert result.exit_code == 0, f"{flag}: {result.stderr}"
        assert f"{expected}  (flag " in result.stdout, flag
    helped = covtool("run", "--help")
    assert "--cov-threshold-percentage" in helped.stdout and "--merge-shards" in helped.stdout


def test_prows_artifacts_variable_sets_the_directory(covtool: Covtool) -> None:
    shown = covtool("config", env={"ARTIFACTS": "/logs/artifacts"})
    assert "artifacts = /logs/artifacts  (environment variable ARTIFACTS;" in shown.stdout
    ours = covtool("config", env={"ARTIFACTS": "/logs/artifacts", "COVTOOL_ARTIFACTS": "out"})
    assert "artifacts = out  (environment variable COVTOOL_ARTIFACTS;" in ours.stdout
    flagged = covtool("config", "--artifacts=./a/", env={"ARTIFACTS": "/logs/artifacts"})
    assert "artifacts = ./a/  (flag --artifacts;" in flagged.stdout


# -- Prow's environment ----------------------------------------------------------------------
def test_job_spec_alone_describes_the_job(tmp_path: Path) -> None:
    env = job_env("presubmit", "pull-shop", "17", tmp_path, "a" * 40, (5, "b" * 40))
    only_spec = {"JOB_SPEC": env["JOB_SPEC"]}
    job = read_job(only_spec)
    assert (job.type, job.name, job.build_id) == ("presubmit", "pull-shop", "17")
    for name in ("REPO_OWNER", "REPO_NAME", "PULL_NUMBER", "PULL_PULL_SHA", "PULL_BASE_SHA"):
        assert job.environ[name] == env[name], name
    assert job.environ["PULL_REFS"] == env["PULL_REFS"]
    assert job.describe() == "presubmit pull-shop build 17 (acme/shop#5 at bbbbbbb)"
    # Prow's own variables win over JOB_SPEC's.
    assert read_job(only_spec | {"BUILD_ID": "18"}).build_id == "18"


def test_batch_and_periodic_specs(tmp_path: Path) -> None:
    batch = {
        "type": "batch",
        "job": "pull-shop",
        "buildid": "3",
        "refs": {
            "org": "acme",
            "repo": "shop",
            "base_ref": "main",
            "base_sha": "c" * 40,
            "pulls": [{"number": 1, "sha": "d" * 40}, {"number": 2, "sha": "e" * 40}],
        },
    }
    job = read_job({"JOB_SPEC": json.dumps(batch)})
    assert job.type == "batch" and "PULL_NUMBER" not in job.environ  # no single pull
    assert job.environ["PULL_REFS"] == f"main:{'c' * 40},1:{'d' * 40},2:{'e' * 40}"
    periodic = {
        "type": "periodic",
        "job": "ci-shop",
        "buildid": "9",
        "extra_refs": [{"org": "acme", "repo": "shop", "base_ref": "main"}],
    }
    job = read_job({"JOB_SPEC": json.dumps(periodic)})
    assert (job.type, job.environ["REPO_OWNER"]) == ("periodic", "acme")
    assert "PULL_BASE_REF" not in job.environ
    assert read_job({}).type == "local" and not read_job({}).in_prow


@pytest.mark.parametrize(
    ("environ", "forced", "message"),
    [
        ({"JOB_SPEC": "{not json"}, None, "environment variable JOB_SPEC: not JSON ("),
        ({"JOB_SPEC": "[1]"}, None, "environment variable JOB_SPEC: expected a JSON object"),
        (
            {"JOB_TYPE": "nightly"},
            None,
            "environment variable JOB_TYPE: expected one of presubmit, postsubmit, periodic, batch, local, got 'nightly'",
        ),
        ({}, "nightly", "--job-type: expected one of"),
        (
            {"JOB_TYPE": "presubmit", "REPO_OWNER": "o", "REPO_NAME": "r"},
            None,
            "a presubmit needs Prow's PULL_NUMBER, PULL_PULL_SHA",
        ),
    ],
)
def test_bad_prow_environments_are_one_line(
    environ: dict[str, str], forced: str | None, message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        read_job(environ, forced)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--shard", "4/3"], {}, "--shard '4/3': expected I/N with 1 <= I <= N, such as 2/3"),
        (
            ["--shard", "1/2", "--merge-shards", "2"],
            {},
            "--shard and --merge-shards are different jobs",
        ),
        (["--save-baseline"], {"JOB_TYPE": "postsubmit"}, "--save-baseline records a local build"),
        (["--merge-shards", "0"], {}, "--merge-shards 0: expected a number of shards"),
        (
            [],
            {"JOB_TYPE": "presubmit"},
            "a presubmit needs Prow's REPO_OWNER, REPO_NAME, PULL_NUMBER, PULL_PULL_SHA",
        ),
    ],
)
def test_bad_run_arguments_are_refused_before_any_test_runs(
    covtool: Covtool, args: list[str], env: dict[str, str], message: str
) -> None:
    result = covtool("run", *args, env=env)
    assert result.exit_code == 3, result.stderr
    assert (
        result.stderr.strip().splitlines() == [f"covtool: error: {message}"]
        or message in result.stderr
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (covtool.path / "artifacts").exists()


# -- the other job types ---------------------------------------------------------------------
@pytest.mark.realdata
def test_batch_never_marks_and_postsubmit_writes_reports_before_the_marker(
    shop: tuple[Covtool, Commits], tmp_path: Path
) -> None:
    covtool, commits = shop
    env = go(tmp_path)
    batch = covtool(
        "run", env=env | job_env("batch", "pull-shop", "5", tmp_path / "b", commits.main)
    )
    assert batch.exit_code == 0, batch.stderr
    assert (tmp_path / "b" / "covtool.json").is_file()
    assert not (tmp_path / "b" / "profile-completed").exists()

    post_env = env | job_env("postsubmit", "post-shop", "6", tmp_path / "p", commits.main)
    post = covtool("run", "--reports", "junit,html", env=post_env)
    assert post.exit_code == 0, post.stderr
    written = [line for line in post.stderr.splitlines() if line.startswith("covtool: wrote ")]
    assert written[-1].endswith("profile-completed (last)")
    assert any("junit_coverage.xml" in line for line in written[:-1])
    assert (tmp_path / "p" / "covtool-html" / "index.html").is_file()


@pytest.mark.realdata
def test_a_terminal_gets_the_steps_drawn(shop: tuple[Covtool, Commits], tmp_path: Path) -> None:
    covtool, _ = shop
    environ = {k: v for k, v in os.environ.items() if not leaks(k)} | go(tmp_path)
    environ["TERM"] = "xterm-256color"
    environ.pop("NO_COLOR", None)
    main, secondary = pty.openpty()
    done = subprocess.run(
        [sys.executable, "-m", "covtool", "run"],
        cwd=covtool.path,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=secondary,
        check=False,
        timeout=300,
    )
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(main)
    text = output.decode()
    assert done.returncode == 0, text
    assert "\x1b[" in text  # styled
    assert "✓" in text and "run the tests with coverage" in text
    assert "covtool: [1/" not in text  # the plain CI line is for logs only
