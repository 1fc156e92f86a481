"""Benchmark what the comparison with the pull request's previous build adds to a presubmit.

The whole presubmit job, ``covtool run`` with Prow's environment of a presubmit, is run in
``bench_diff``'s generated repository (1,000,000 blocks over 20,000 files; a head commit
that edits 2,000 files, deletes 20 and renames 20). Its "tests" are a command that copies
``head.out`` (the ``command`` runner), so the figures are covtool's own: the baseline
lookup in a local store of Prow's layout, the comparison, the comment, the line-by-line
page, markdown and junit, the marker and the gate (informational, so the exit code is 0).

* ``run-presubmit``: with the previous-build plugin blocked (``-p no:previous``);
* ``run-presubmit-previous``: the same job with an earlier build of the pull request in the
  store, at the change's base commit with ``base.out``: the second profile is read and
  placed, ``git diff`` of the two commits is read, and all 2,040 files of the pull request
  are compared line by line a second time. The difference of the two medians is the cost.

Nothing is enforced (the presubmit comparison's 5.0 s budget is ``bench_diff``'s); peak
RSS must stay under 1 GiB. Run it, after ``bench/bench_diff.py`` has made its inputs (or it
makes them), from the repository root::

    python bench/bench_previous.py --repeat 5 --json bench/out/previous/results.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for harness, even under python -P
from bench_diff import ensure_inputs, input_params
from harness import (
    Result,
    covtool_argv,
    exit_status,
    machine_line,
    measure,
    run_once,
    table,
    write_json,
)

POSTSUBMIT_JOB = "post-bench-coverage"
PRESUBMIT_JOB = "pull-bench-coverage"
ORG, REPO, PR = "bench", "repo", 1
PROFILE = "coverage_profile.txt"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = Path(__file__).resolve().parent / "out" / "diff"
    parser.add_argument("--out", type=Path, default=default_out, help="bench_diff's inputs")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be positive")
    return args


def put_build(store: Path, directory: str, profile: Path, metadata: dict[str, str]) -> None:
    """One build as Prow's sidecar leaves it, healthy: the profile, ``covtool.json``, a
    ``finished.json`` that says it passed, and the marker."""
    build = store / directory
    (build / "artifacts").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(profile, build / "artifacts" / PROFILE)
    data = {**metadata, "tests_passed": True, "profile": {"name": PROFILE, "format": "go"}}
    (build / "artifacts" / "covtool.json").write_text(json.dumps(data))
    (build / "finished.json").write_text('{"passed": true, "result": "SUCCESS"}')
    (build / "artifacts" / "profile-completed").write_text("")


def make_store(out: Path, commits: dict[str, str]) -> Path:
    """A fresh local store: the postsubmit's baseline and, for the pull request, an earlier
    build at the base commit."""
    store = out / "previous-store"
    shutil.rmtree(store, ignore_errors=True)
    base = {"commit": commits["base"], "branch": "main"}
    put_build(store, f"logs/{POSTSUBMIT_JOB}/1", out / "base.out", base)
    earlier = {"commit": commits["base"], "branch": "main"}
    put_build(store, f"pr-logs/pull/{ORG}_{REPO}/{PR}/{PRESUBMIT_JOB}/1", out / "base.out", earlier)
    return store


@contextlib.contextmanager
def presubmit_environment(commits: dict[str, str], artifacts: Path) -> Iterator[None]:
    """Prow's variables of the presubmit, for the commands run inside."""
    env = {
        "JOB_TYPE": "presubmit",
        "JOB_NAME": PRESUBMIT_JOB,
        "BUILD_ID": "2",
        "REPO_OWNER": ORG,
        "REPO_NAME": REPO,
        "PULL_NUMBER": str(PR),
        "PULL_BASE_REF": "main",
        "PULL_BASE_SHA": commits["base"],
        "PULL_PULL_SHA": commits["head"],
        "ARTIFACTS": str(artifacts),
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_command(out: Path, store: Path, commits: dict[str, str]) -> list[str]:
    """``covtool run`` of the presubmit, its tests a copy of ``head.out``."""
    copy = out / "previous-run" / "head-copy.out"
    return [
        *covtool_argv(),
        "run",
        "--runner=command",
        f"--command=cp {out / 'head.out'} {copy}",
        f"--command-profile={copy}",
        f"--baseline={store}",
        f"--postsubmit-job-name={POSTSUBMIT_JOB}",
        f"--changes=git:{commits['base']}..{commits['head']}",
        "--informational",
        "-p",
        "no:github",
    ]


def check_comment(artifacts: Path, with_previous: bool) -> None:
    """The comment has the line and column on the previous build exactly when asked for."""
    body = (artifacts / "bot-post").read_text()
    shown = "**Since the last push:** " in body and "| Since Last Push" in body
    if shown != with_previous:
        sys.exit(f"{artifacts / 'bot-post'}: the previous build is {'not ' * with_previous}shown")


def main(argv: Sequence[str] | None = None) -> int:
    """Make the store, check both jobs' comments, time both, print the table."""
    args = parse_args(argv)
    out = args.out.resolve()
    params = input_params(blocks=1_000_000, files=20_000, changed=2_000)  # bench_diff's defaults
    expected, _ = ensure_inputs(out, params, regenerate=False)
    commits = expected["commits"]
    store = make_store(out, commits)
    artifacts = out / "previous-run" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    job = run_command(out, store, commits)
    without = [*job, "-p", "no:previous"]
    with contextlib.chdir(out / "repo"), presubmit_environment(commits, artifacts):
        run_once(job)  # untimed: the first run after the inputs were written warms caches
        results: list[Result] = []
        for name, argv_, previous in (
            ("run-presubmit", without, False),
            ("run-presubmit-previous", job, True),
        ):
            results.append(measure(name, argv_, args.repeat, None))
            check_comment(artifacts, previous)
    print(table(results))
    cost = results[1].median_s - results[0].median_s
    print(f"\nThe comparison with the previous build adds {cost:.2f} s.")
    print(machine_line())
    if args.json:
        write_json(args.json, {"repeat": args.repeat, "cost_s": cost}, None, results)
    return exit_status(results, no_fail=False)


if __name__ == "__main__":
    sys.exit(main())
