"""The search for a pull request's previous build (``covtool baseline --previous``), against
every backend (``store_url``): in Prow's presubmit layout, and locally for a branch."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from covtool.storage import Storage
from support import Covtool, commit, git, store_of

JOB = "pull-shop-coverage"
PR_DIR = f"pr-logs/pull/acme_shop/7/{JOB}/"
HEAD = "c" * 40
PROFILE = "mode: set\nshop/a.go:1.1,2.2 3 1\nshop/a.go:3.1,4.2 1 {}\n"


def put_build(
    store: Storage,
    directory: str,
    build: str,
    commit: str,
    *,
    marker: bool = True,
    passed: bool | None = True,
    tests_passed: bool = True,
    metadata: bool = True,
    pull: str = "",
) -> None:
    """One presubmit build as Prow's sidecar leaves it: ``started.json``, the artifacts
    (the profile covers 3 or 4 statements by the build id's parity), ``finished.json``,
    and the marker when the tests wrote one."""
    where = f"{directory}{build}/"
    store.write(where + "started.json", json.dumps({"timestamp": 1, "pull": pull}).encode())
    store.write(where + "artifacts/coverage_profile.txt", PROFILE.format(int(build) % 2).encode())
    if metadata:
        data = {
            "commit": commit,
            "tests_passed": tests_passed,
            "profile": {"name": "coverage_profile.txt"},
        }
        store.write(where + "artifacts/covtool.json", json.dumps(data).encode())
    if passed is not None:
        finished = {"timestamp": 2, "passed": passed, "result": "SUCCESS" if passed else "FAILURE"}
        store.write(where + "finished.json", json.dumps(finished).encode())
    if marker:
        store.write(where + "artifacts/profile-completed", b"")


def presubmit_env(build: str = "2009", head: str = HEAD) -> dict[str, str]:
    return {
        "JOB_TYPE": "presubmit",
        "JOB_NAME": JOB,
        "BUILD_ID": build,
        "REPO_OWNER": "acme",
        "REPO_NAME": "shop",
        "PULL_NUMBER": "7",
        "PULL_BASE_SHA": "b" * 40,
        "PULL_PULL_SHA": head,
    }


def previous(covtool: Covtool, url: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    result = covtool("baseline", "--previous", "--json", "--baseline", url, *args, env=env)
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_unfinished_failed_and_same_commit_builds_are_skipped(
    covtool: Covtool, store_url: str
) -> None:
    store = store_of(store_url)
    put_build(store, PR_DIR, "2001", "1" * 40)
    put_build(store, PR_DIR, "2002", "2" * 40, passed=False)  # the gate failed, not the tests
    put_build(store, PR_DIR, "2003", "3" * 40, marker=False, passed=False)  # tests failed
    put_build(store, PR_DIR, "2004", "4" * 40, passed=False, tests_passed=False)  # allowed to fail
    put_build(store, PR_DIR, "2005", "5" * 40, marker=False, passed=None)  # still running
    put_build(store, PR_DIR, "2006", HEAD)  # a re-test of this same commit
    store.write(f"{PR_DIR}2009/started.json", b"{}")  # this build, as initupload leaves it
    store.write(f"{PR_DIR}latest-build.txt", b"2009")
    data = previous(covtool, store_url, presubmit_env())
    assert (data["build_id"], data["commit"], data["missing"]) == ("2002", "2" * 40, None)
    assert data["location"] == f"{store_url.rstrip('/')}/{PR_DIR}2002/"
    assert [(e["build"], e["verdict"]) for e in data["examined"]] == [
        ("2009", "this build"),
        ("2006", f"the same commit as this build ({HEAD[:12]})"),
        ("2005", "unfinished: no artifacts/profile-completed"),
        ("2004", "finished.json says it did not pass"),
        ("2003", "no artifacts/profile-completed"),
        ("2002", "healthy"),
    ]
    # Without 2002, the next healthy build is older.
    store.write(f"{PR_DIR}2002/finished.json", b'{"passed": false}')
    store.write(f"{PR_DIR}2002/artifacts/covtool.json", b'{"tests_passed": false}')
    assert previous(covtool, store_url, presubmit_env())["build_id"] == "2001"


def test_a_first_push_and_a_retest_have_no_previous_build(covtool: Covtool, store_url: str) -> None:
    store = store_of(store_url)
    empty = previous(covtool, store_url, presubmit_env())
    assert (empty["build_id"], empty["first_run"]) == (None, True)
    assert empty["missing"] == "first run for this PR"

    put_build(store, PR_DIR, "2001", HEAD)
    store.write(f"{PR_DIR}2002/started.json", b"{}")
    retest = previous(covtool, store_url, presubmit_env("2002"))
    assert (retest["build_id"], retest["first_run"]) == (None, True)
    assert retest["missing"] == (
        "first run for this PR: no earlier commit was built (build 2001 tested this one)"
    )


def test_only_unhealthy_builds_say_why(covtool: Covtool, store_url: str) -> None:
    store = store_of(store_url)
    put_build(store, PR_DIR, "2001", "1" * 40, marker=False, passed=False)
    put_build(store, PR_DIR, "2002", "2" * 40, passed=False, tests_passed=False)
    data = previous(covtool, store_url, presubmit_env())
    assert (data["build_id"], data["first_run"]) == (None, False)
    assert data["missing"] == (
        "no healthy earlier build (2002: finished.json says it did not pass; "
        "2001: no artifacts/profile-completed)"
    )


def test_builds_without_covtool_json_take_their_commit_from_prows_records(
    covtool: Covtool, store_url: str
) -> None:
    store = store_of(store_url)
    # Prow's PULL_REFS: the base, then the pull request's head.
    put_build(store, PR_DIR, "2001", "", metadata=False, pull=f"main:{'b' * 40},7:{'1' * 40}")
    put_build(store, PR_DIR, "2002", "", metadata=False, pull=f"main:{'b' * 40},7:{HEAD}")
    data = previous(covtool, store_url, presubmit_env())
    assert (data["build_id"], data["commit"]) == ("2001", "1" * 40)


def test_the_pattern_and_the_presubmit_store_are_settings(
    covtool: Covtool, store_url: str, tmp_path: Path
) -> None:
    store = store_of(store_url)
    legacy = f"pr-logs/pull/7/{JOB}/"
    put_build(store, legacy, "2001", "1" * 40)
    args = ["--presubmit-store", store_url, "--pr-path-pattern", "pr-logs/pull/{pr}/{job}"]
    nowhere = str(tmp_path / "empty-baseline-store")
    data = previous(covtool, nowhere, presubmit_env(), *args)
    assert data["build_id"] == "2001"


def test_an_unreachable_store_is_a_reason_not_an_error(
    covtool: Covtool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a loopback port that nobody listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    env = presubmit_env() | {"COVTOOL_GCS_RETRY_DEADLINE": "1", "COVTOOL_GCS_TIMEOUT": "1"}
    data = previous(covtool, str(tmp_path), env, "--presubmit-store", "gs://prow-builds")
    assert data["build_id"] is None and data["first_run"] is False
    assert data["missing"].startswith("the previous build could not be looked up: gs://prow-builds")
    assert "Connection refused" in data["missing"]


def test_locally_the_branchs_previous_run_is_found(covtool: Covtool, store_url: str) -> None:
    repo = covtool.path
    git(repo, "init", "-q", "-b", "main")
    (repo / "a.txt").write_text("a\n")
    first = commit(repo, "first")
    git(repo, "checkout", "-q", "-b", "feature/x")
    (repo / "a.txt").write_text("b\n")
    head = commit(repo, "second")
    store = store_of(store_url)
    runs = "branches/feature%2Fx/local/"
    put_build(store, runs, "1", first)
    put_build(store, runs, "2", head)
    put_build(store, "branches/main/local/", "3", "9" * 40)  # another branch's run
    data = previous(covtool, "unused", {}, "--presubmit-store", store_url)
    assert (data["build_id"], data["commit"]) == ("1", first)
    assert [e["verdict"] for e in data["examined"]] == [
        f"the same commit as this build ({head[:12]})",
        "healthy",
    ]
    git(repo, "checkout", "-q", "-b", "fresh")
    fresh = previous(covtool, "unused", {}, "--presubmit-store", store_url)
    assert fresh["missing"] == "first recorded run on branch fresh" and fresh["first_run"]
    git(repo, "checkout", "-q", "--detach")
    detached = previous(covtool, "unused", {}, "--presubmit-store", store_url)
    assert detached["missing"] == (
        "no branch is checked out (a detached HEAD), and local runs are recorded per branch"
    )


OWN_PREVIOUS = """
from covtool import Baseline, PreviousBuild, ServiceError, hookimpl, parse_bytes

@hookimpl(tryfirst=True)
def covtool_find_previous_build(run):
    if run.environ.get("BROKEN"):
        raise ServiceError("own://store: the service is down")
    data = b"mode: set\\nexample.com/x/a.go:1.1,2.2 2 1\\n"
    build = Baseline(parse_bytes(run, data, "own"), "6", "beef", "own://store/6/")
    return PreviousBuild(build, examined=(("6", "healthy"),))
"""


def test_a_plugin_can_supply_the_previous_build(
    covtool: Covtool, monkeypatch: pytest.MonkeyPatch
) -> None:
    (covtool.path / "covtest_own_previous.py").write_text(OWN_PREVIOUS)
    (covtool.path / "go.mod").write_text("module example.com/x\n")
    monkeypatch.syspath_prepend(str(covtool.path))
    args = ("baseline", "--previous", "-p", "covtest_own_previous")
    result = covtool(*args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "previous build: 6 (commit beef)\n  at own://store/6/\n  6: healthy\n"
    # The hook's error is the reason, not the run's end.
    broken = covtool(*args, env={"BROKEN": "1"})
    assert broken.exit_code == 0, broken.stderr
    assert broken.stdout == (
        "no previous build: the previous build could not be looked up: own://store: the "
        "service is down\n"
    )
    blocked = covtool("baseline", "--previous", "-p", "no:previous")
    assert blocked.exit_code == 3
    assert "no plugin looks for previous builds" in blocked.stderr
