"""Sharded runs: three shard jobs and a merge job give the unsharded numbers; an incomplete
set is refused, naming the missing shard."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from github_server import GitHubServer
from prow_scenario import (
    BOT,
    GO_PROJECT,
    POSTSUBMIT_JOB,
    PR,
    PRESUBMIT_JOB,
    TOKEN,
    Bucket,
    JobRun,
    Project,
    Scenario,
    go_file_percent,
)
from support import Covtool

pytestmark = pytest.mark.realdata


@pytest.fixture
def second_github() -> Iterator[GitHubServer]:
    with GitHubServer(token=TOKEN, login=BOT) as server:
        yield server


def shard_jobs(
    s: Scenario, job: str, build: str, sha: str, which: tuple[int, ...] = (1, 2, 3)
) -> None:
    """Shard jobs ``job-shard-I``, each testing its part, storing its shard of 3."""
    pull = (PR, sha) if job == PRESUBMIT_JOB else None
    kind = "presubmit" if pull else "postsubmit"
    for index in which:
        target = (s.project.shard_targets[index - 1],)
        done = s.job(
            kind,
            f"{job}-shard-{index}",
            f"{build}{index}",
            sha,
            f"--shard={index}/3",
            pull=pull,
            target=target,
        )
        assert done.result.exit_code == 0, done.result.stderr
        assert (
            f"stored shard {index}/3 in gs://{s.bucket.name}/shards/{job}/{sha}/{index}-of-3/"
            in done.result.stderr
        )
        assert not (done.artifacts / "profile-completed").exists()  # a shard is no baseline


def test_three_shards_give_the_unsharded_numbers(
    scenario: Callable[[Project], Scenario], second_github: GitHubServer, tmp_path: Path
) -> None:
    s = scenario(GO_PROJECT)
    post, pre = s.postsubmit("1001"), s.presubmit("2001", s.commits.push1)
    assert (post.result.exit_code, pre.result.exit_code) == (0, 1)

    sharded = dataclasses.replace(
        s, bucket=Bucket(), github=second_github, work=tmp_path / "sharded"
    )
    sharded.work.mkdir()
    shard_jobs(sharded, POSTSUBMIT_JOB, "110", s.commits.main)
    merged_post = sharded.postsubmit("1001", "--merge-shards=3")
    assert merged_post.result.exit_code == 0, merged_post.result.stderr
    shard_jobs(sharded, PRESUBMIT_JOB, "210", s.commits.push1)
    merged_pre = sharded.presubmit("2001", s.commits.push1, "--merge-shards=3")
    assert merged_pre.result.exit_code == 1, merged_pre.result.stderr

    assert totals(merged_post) == totals(post) and totals(merged_pre) == totals(pre)
    for path in ("pkg/cart/cart.go", "pkg/pay/pay.go", "pkg/ship/ship.go"):
        assert percent(merged_post, path) == percent(post, path)
    # The same comment, word for word, but for the bucket its links point into.
    unsharded = pre.text("bot-post").replace(s.bucket.name, "BUCKET")
    assert merged_pre.text("bot-post").replace(sharded.bucket.name, "BUCKET") == unsharded
    [comment] = second_github.comments("acme/shop", PR)
    assert comment["body"] == merged_pre.text("bot-post")


def totals(done: JobRun) -> dict[str, object]:
    return dict(json.loads(done.text("covtool.json"))["totals"])


def percent(done: JobRun, path: str) -> float:
    return go_file_percent(done.artifacts / "coverage_profile.txt", path)


def test_a_missing_shard_is_refused_and_named(scenario: Callable[[Project], Scenario]) -> None:
    s = scenario(GO_PROJECT)
    shard_jobs(s, POSTSUBMIT_JOB, "110", s.commits.main, which=(1, 3))
    merge = s.job(
        "postsubmit", POSTSUBMIT_JOB, "1001", s.commits.main, "--merge-shards=3", "--shard-wait=0"
    )
    assert merge.result.exit_code == 7
    assert "2 of 3 shards are complete after waiting 0s; missing shard 2/3" in merge.result.stderr
    assert f"gs://{s.bucket.name}/shards/{POSTSUBMIT_JOB}/{s.commits.main}/" in merge.result.stderr
    assert "Traceback" not in merge.result.stderr
    assert not (merge.artifacts / "profile-completed").exists()
    assert not (merge.artifacts / "coverage_profile.txt").exists()

    shard_jobs(s, PRESUBMIT_JOB, "210", s.commits.push1, which=(2, 3))
    s.github.add_pull("acme/shop", PR, [], base_sha=s.commits.main, head_sha=s.commits.push1)
    merge = s.job(
        "presubmit",
        PRESUBMIT_JOB,
        "2001",
        s.commits.push1,
        "--merge-shards=3",
        "--shard-wait=0",
        pull=(PR, s.commits.push1),
    )
    assert merge.result.exit_code == 7 and "missing shard 1/3" in merge.result.stderr
    assert not (merge.artifacts / "bot-post").exists()
    assert s.comments() == [] and s.statuses(s.commits.push1) == []


def test_the_merge_waits_for_a_late_shard(scenario: Callable[[Project], Scenario]) -> None:
    s = scenario(GO_PROJECT)
    shard_jobs(s, POSTSUBMIT_JOB, "110", s.commits.main)
    marker = f"shards/{POSTSUBMIT_JOB}/{s.commits.main}/2-of-3/profile-completed"
    s.bucket.bucket.blob(marker).delete()  # shard 2 is still uploading
    late = threading.Timer(1.0, s.bucket.put, (marker, ""))
    late.start()
    try:
        merge = s.job(
            "postsubmit",
            POSTSUBMIT_JOB,
            "1001",
            s.commits.main,
            "--merge-shards=3",
            "--shard-wait=60",
        )
    finally:
        late.join()
    assert merge.result.exit_code == 0, merge.result.stderr
    assert "waiting up to 60s for shard 2/3" in merge.result.stderr
    assert (merge.artifacts / "profile-completed").is_file()


def test_covtool_merge_reads_a_store_glob_and_expects_every_shard(
    scenario: Callable[[Project], Scenario], capsys: pytest.CaptureFixture[str]
) -> None:
    s = scenario(GO_PROJECT)
    shard_jobs(s, POSTSUBMIT_JOB, "110", s.commits.main)
    merged = s.job("postsubmit", POSTSUBMIT_JOB, "1001", s.commits.main, "--merge-shards=3")
    pattern = (
        f"gs://{s.bucket.name}/shards/{POSTSUBMIT_JOB}/{s.commits.main}/*/coverage_profile.txt"
    )
    covtool = Covtool(s.work, capsys)
    done = covtool("merge", pattern, "--expect", "3", "-o", "merged.out", env=s.env)
    assert done.exit_code == 0, done.stderr
    assert (s.work / "merged.out").read_text() == merged.text("coverage_profile.txt")

    s.bucket.bucket.blob(
        f"shards/{POSTSUBMIT_JOB}/{s.commits.main}/2-of-3/coverage_profile.txt"
    ).delete()
    refused = covtool("merge", pattern, "--expect", "3", "-o", "partial.out", env=s.env)
    assert refused.exit_code == 7
    assert "2 of 3 expected profiles after waiting 0s" in refused.stderr
    assert "missing shard 2/3" in refused.stderr
    assert not (s.work / "partial.out").exists()
