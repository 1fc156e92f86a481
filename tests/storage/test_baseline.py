"""Baseline discovery and ``covtool upload``, against every backend (``store_url``)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from covtool.storage import Storage
from support import Covtool, store_of

JOB = "post-shop-coverage"
PROFILE = "mode: set\nshop/a.go:1.1,2.2 3 1\nshop/a.go:3.1,4.2 1 {}\n"


def put_build(
    store: Storage,
    build: str,
    *,
    marker: bool = True,
    passed: bool | None = True,
    profile: str | None = None,
    commit: str = "",
    job: str = JOB,
) -> None:
    """One build as Prow's uploader leaves it; ``profile`` default covers 3 or 4 statements
    depending on the build, so the chosen build shows in the totals."""
    directory = f"logs/{job}/{build}/"
    text = PROFILE.format(int(build) % 2) if profile is None else profile
    store.write(directory + "artifacts/coverage_profile.txt", text.encode())
    if commit:
        metadata = {"commit": commit, "profile": {"name": "coverage_profile.txt"}}
        store.write(directory + "artifacts/covtool.json", json.dumps(metadata).encode())
    if passed is not None:
        store.write(
            directory + "finished.json",
            json.dumps({"timestamp": 1700000000, "passed": passed}).encode(),
        )
    if marker:
        store.write(directory + "artifacts/profile-completed", b"")


def baseline(covtool: Covtool, url: str, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    result = covtool(
        "baseline", "--json", "--baseline", url, "--postsubmit-job-name", JOB, *args, env=env
    )
    return result, (json.loads(result.stdout) if result.exit_code == 0 else None)


def test_picks_the_newest_healthy_build(covtool: Covtool, store_url: str) -> None:
    store = store_of(store_url)
    put_build(store, "100")
    put_build(store, "105", commit="abc105")
    put_build(store, "110", marker=False)  # unfinished
    put_build(store, "120", passed=False)  # failed
    put_build(store, "115", profile="mode: set\nthis is not a block\n")  # corrupt
    store.write(f"logs/{JOB}/notanumber/finished.json", b"{}")
    store.write(f"logs/{JOB}/latest-build.txt", b"120\n")
    result, data = baseline(covtool, store_url)
    assert result.exit_code == 0, result.stderr
    assert data["build_id"] == "105" and data["commit"] == "abc105"
    assert data["location"] == f"{store_url.rstrip('/')}/logs/{JOB}/105/"
    assert data["totals"]["statements"] == 4 and data["totals"]["covered"] == 4
    verdicts = {e["build"]: e["verdict"] for e in data["examined"]}
    assert [e["build"] for e in data["examined"]] == ["notanumber", "120", "115", "110", "105"]
    assert verdicts["notanumber"] == "not a build id"
    assert verdicts["120"] == "finished.json says it did not pass"
    assert verdicts["115"].startswith("healthy, but its profile is unreadable: ")
    assert f"logs/{JOB}/115/artifacts/coverage_profile.txt:2: " in result.stderr
    assert verdicts["110"] == "no artifacts/profile-completed"
    assert verdicts["105"] == "healthy"
    assert result.stderr.startswith("covtool: warning: skipping build 115 of post-shop-coverage: ")
    assert result.stderr.count("\n") == 1


def test_latest_build_is_the_first_guess_and_ids_compare_as_numbers(
    covtool: Covtool, store_url: str
) -> None:
    store = store_of(store_url)
    snowflake = "1135350603736682497"
    for build in ("999", "1000", snowflake):
        put_build(store, build)
    _, data = baseline(covtool, store_url)
    assert data["build_id"] == snowflake  # neither "999" (text order) nor "1000"
    store.write(f"logs/{JOB}/latest-build.txt", b"1000")
    _, guessed = baseline(covtool, store_url)
    assert guessed["build_id"] == "1000"  # a healthy latest-build.txt is taken as it is
    assert [e["build"] for e in guessed["examined"]] == ["1000"]


def test_no_healthy_build_is_a_clear_error(covtool: Covtool, store_url: str) -> None:
    store = store_of(store_url)
    for build in ("7", "8", "9"):
        put_build(store, build, marker=False)
    result, _ = baseline(covtool, store_url)
    assert result.exit_code == 4
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"{store_url}: no healthy build of job '{JOB}': looked at 3 build(s)"
    )
    bounded, _ = baseline(covtool, store_url, "--baseline-max-builds", "2")
    assert "looked at 2 build(s)" in bounded.stderr and bounded.exit_code == 4
    empty, _ = baseline(covtool, store_url, "--postsubmit-job-name", "nothing-here")
    assert "no healthy build of job 'nothing-here': looked at 0 build(s)" in empty.stderr


def test_finished_json_without_passed_uses_result(covtool: Covtool, store_url: str) -> None:
    store = store_of(store_url)
    put_build(store, "3", passed=None)
    store.write(f"logs/{JOB}/3/finished.json", b'{"timestamp": 1, "result": "FAILURE"}')
    put_build(store, "2", passed=None)  # no finished.json at all: the marker decides
    _, data = baseline(covtool, store_url)
    assert data["build_id"] == "2"


def git(repo: Path, *args: str) -> str:
    env = os.environ | {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@e",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()


def test_staleness_in_commits_and_the_limit(covtool: Covtool, store_url: str) -> None:
    git(covtool.path, "init", "-q", "-b", "main")
    commits = []
    for i in range(4):
        git(covtool.path, "commit", "-q", "--allow-empty", "-m", f"c{i}")
        commits.append(git(covtool.path, "rev-parse", "HEAD"))
    put_build(store_of(store_url), "1", commit=commits[0])
    _, data = baseline(covtool, store_url, env={"PULL_BASE_SHA": commits[3]})
    assert data["commits_behind"] == 3
    _, local = baseline(covtool, store_url)  # no Prow: the merge-base of HEAD with main
    assert local["commits_behind"] == 3
    result, _ = baseline(covtool, store_url, "--baseline-max-behind", "2")
    assert result.exit_code == 3
    assert (
        f"(commit {commits[0]}), is 3 commits behind the base; baseline_max_behind is 2"
        in result.stderr
    )


def test_job_name_from_the_presubmit(covtool: Covtool, store_url: str) -> None:
    put_build(store_of(store_url), "4", job="post-shop-unit")
    result = covtool(
        "baseline", "--json", "--baseline", store_url, env={"JOB_NAME": "pull-shop-unit"}
    )
    assert json.loads(result.stdout)["build_id"] == "4"


def make_artifacts(directory: Path, passed: bool = True, marker: bool = True) -> Path:
    directory.mkdir(parents=True)
    (directory / "coverage_profile.txt").write_text(PROFILE.format(1))
    (directory / "stdout.txt").write_text("ok\n")
    metadata = {
        "commit": "f00d",
        "tests_passed": passed,
        "started": "2026-01-01T00:00:00+00:00",
        "finished": "2026-01-01T00:01:00+00:00",
        "profile": {"name": "coverage_profile.txt"},
    }
    (directory / "covtool.json").write_text(json.dumps(metadata))
    if marker:
        (directory / "profile-completed").write_text("")
    return directory


def test_upload_writes_prows_layout_marker_last(covtool: Covtool, store_url: str) -> None:
    make_artifacts(covtool.path / "artifacts")
    result = covtool("upload", "artifacts", "--job", JOB, "--build", "42", "--to", store_url)
    assert result.exit_code == 0, result.stderr
    prefix = f"logs/{JOB}/42/"
    assert result.stdout.splitlines() == [
        prefix + "artifacts/coverage_profile.txt",
        prefix + "artifacts/covtool.json",
        prefix + "artifacts/stdout.txt",
        prefix + "started.json",
        prefix + "finished.json",
        f"logs/{JOB}/latest-build.txt",
        prefix + "artifacts/profile-completed",
    ]
    store = store_of(store_url)
    finished = json.loads(store.read(prefix + "finished.json"))
    assert (
        finished["passed"] is True
        and finished["result"] == "SUCCESS"
        and finished["revision"] == "f00d"
    )
    assert json.loads(store.read(prefix + "started.json"))["timestamp"] == 1767225600
    assert store.read(f"logs/{JOB}/latest-build.txt") == b"42\n"
    _, data = baseline(covtool, store_url)
    assert (data["build_id"], data["commit"]) == ("42", "f00d")


def test_upload_never_moves_latest_build_back(covtool: Covtool, store_url: str) -> None:
    make_artifacts(covtool.path / "artifacts")
    for build in ("50", "49"):
        assert (
            covtool(
                "upload", "artifacts", "--job", JOB, "--build", build, "--to", store_url
            ).exit_code
            == 0
        )
    assert store_of(store_url).read(f"logs/{JOB}/latest-build.txt") == b"50\n"


def test_upload_of_failed_tests_is_no_baseline(covtool: Covtool, store_url: str) -> None:
    make_artifacts(covtool.path / "artifacts", passed=False, marker=False)
    result = covtool("upload", "artifacts", "--job", JOB, "--build", "8", "--to", store_url)
    assert result.exit_code == 0
    assert not result.stdout.rstrip().endswith("profile-completed")
    finished = json.loads(store_of(store_url).read(f"logs/{JOB}/8/finished.json"))
    assert (finished["passed"], finished["result"]) == (False, "FAILURE")
    assert baseline(covtool, store_url)[0].exit_code == 4


def test_upload_presubmit_and_legacy_layouts(covtool: Covtool, store_url: str) -> None:
    make_artifacts(covtool.path / "artifacts")
    args = [
        "upload",
        "artifacts",
        "--job",
        "pull-shop",
        "--build",
        "9",
        "--to",
        store_url,
        "--pr",
        "5",
    ]
    result = covtool(*args, "--repo", "acme/shop")
    assert (
        result.stdout.splitlines()[0]
        == "pr-logs/pull/acme_shop/5/pull-shop/9/artifacts/coverage_profile.txt"
    )
    assert "pr-logs/pull/acme_shop/5/pull-shop/latest-build.txt" in result.stdout.splitlines()
    legacy = covtool(*args, "--repo", "acme/shop", "--pr-path-pattern", "pr-logs/pull/{pr}/{job}")
    assert (
        legacy.stdout.splitlines()[0] == "pr-logs/pull/5/pull-shop/9/artifacts/coverage_profile.txt"
    )
    missing = covtool(*args)
    assert missing.exit_code == 3 and "--repo '': expected ORG/REPO" in missing.stderr


@pytest.mark.parametrize("build", ["abc", "-1", "../9"])
def test_upload_refuses_odd_build_ids(covtool: Covtool, store_url: str, build: str) -> None:
    make_artifacts(covtool.path / "artifacts")
    result = covtool("upload", "artifacts", "--job", JOB, "--build", build, "--to", store_url)
    assert result.exit_code == 3 and "Prow build ids are numbers" in result.stderr


def test_upload_refuses_job_names_that_leave_the_store(covtool: Covtool, store_url: str) -> None:
    make_artifacts(covtool.path / "artifacts")
    result = covtool(
        "upload", "artifacts", "--job", "../../escape", "--build", "1", "--to", store_url
    )
    assert result.exit_code == 3 and "must stay inside the store" in result.stderr


OWN_BASELINE = """
from covtool import Baseline, hookimpl, parse_bytes

@hookimpl(tryfirst=True)
def covtool_load_baseline(run):
    data = b"mode: set\\nexample.com/x/a.go:1.1,2.2 2 1\\n"
    return Baseline(parse_bytes(run, data, "own"), "7", "c0ffee", "own://store/7/")

@hookimpl
def covtool_baseline_loaded(baseline, run):
    print("loaded", baseline.build_id, list(baseline.profile), file=run.stderr)
"""


def test_a_plugin_can_supply_the_baseline_and_hear_it_loaded(
    covtool: Covtool, monkeypatch: pytest.MonkeyPatch
) -> None:
    (covtool.path / "covtest_own_baseline.py").write_text(OWN_BASELINE)
    (covtool.path / "go.mod").write_text("module example.com/x\n")
    monkeypatch.syspath_prepend(str(covtool.path))
    result = covtool("baseline", "--json", "-p", "covtest_own_baseline")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["location"] == "own://store/7/"
    # announced once, after its paths were placed in the repository
    assert result.stderr == "loaded 7 ['a.go']\n"
