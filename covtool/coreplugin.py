"""The settings of covtool's core. An essential plugin: ``-p no:core`` is refused."""

from __future__ import annotations

from covtool.config import Parser
from covtool.hookimpl import hookimpl
from covtool.layout import DEFAULT_PR_PATTERN


@hookimpl
def covtool_addoption(parser: Parser) -> None:
    """Declare the settings the core itself reads."""
    parser.addoption(
        "plugins",
        type="list",
        default=(),
        help="Plugins to add (NAME: entry point or module) or block (no:NAME).",
    )
    parser.addoption(
        "verbose",
        type="bool",
        default=False,
        help="Show every hook call: the plugins that answer it and how long it took.",
    )
    parser.addoption(
        "coverage_threshold",
        type="percent",
        default=80.0,
        help="Per-file coverage threshold (70, 70% or 0.7): the gate fails a reported file "
        "below it, and reports mark such files; 0 turns the rule off.",
        aliases=("cov-threshold-percentage",),
    )
    parser.addoption(
        "runner",
        default="",
        help="Test runner to use (go, pytest, command, or any a plugin offers); "
        "default: the one that recognises the repository.",
    )
    parser.addoption(
        "target",
        type="list",
        default=(),
        help="What to test: directories (./pkg/ means ./pkg/...) or test paths; "
        "default: everything.",
        aliases=("cov-target",),
    )
    parser.addoption(
        "artifacts",
        type="path",
        default="./artifacts/",
        help="Directory for the artifacts: the profile, test output, metadata, the PR comment "
        "(bot-post) and the completion marker (default: Prow's ARTIFACTS, else ./artifacts/).",
        environ=("ARTIFACTS",),
    )
    parser.addoption(
        "profile_name",
        default="",
        help="File name of the profile in the artifacts "
        "(default: coverage_profile.txt for Go, the native name for other runners).",
    )
    for name, default, what in (
        ("stdout_name", "stdout.txt", "the test output"),
        ("metadata_name", "covtool.json", "the build's metadata and totals"),
        ("marker_name", "profile-completed", "the completion marker, written last"),
    ):
        parser.addoption(name, default=default, help=f"File name of {what} in the artifacts.")
    parser.addoption(
        "allow_test_failures",
        type="bool",
        default=False,
        help="Write the completion marker even when tests failed "
        "(the build can then become a baseline).",
    )
    parser.addoption(
        "baseline",
        default="",
        help="Store of postsubmit builds: a path, file://PATH or gs://BUCKET/PREFIX "
        "(default: .covtool/store in the repository).",
    )
    parser.addoption(
        "postsubmit_gcs_bucket",
        default="",
        help="The original tool's name for the store: a GCS bucket (gs:// optional).",
    )
    parser.addoption(
        "presubmit_store",
        default="",
        help="Store of this job's own earlier builds, for the comparison with the previous "
        "push: in Prow, a presubmit's builds (default: the baseline's store); outside Prow, "
        "the recorded local runs (default: .covtool/store in the repository).",
    )
    parser.addoption(
        "record_local_runs",
        type="bool",
        default=True,
        help="Record each local covtool run made on a branch in the local store "
        "(branches/BRANCH/JOB/), so that the next run on the branch says what changed since.",
    )
    parser.addoption(
        "pr_path_pattern",
        default=DEFAULT_PR_PATTERN,
        help="Directory of a presubmit job's builds; {org}, {repo}, {pr} and {job} are "
        "filled in (drop {org}_{repo}/ for Prow's legacy layout).",
    )
    parser.addoption(
        "job_name",
        default="",
        help="This job's name, in the PR comment's marker and the commit status's context "
        "(default: Prow's JOB_NAME, else local).",
    )
    parser.addoption(
        "html_name",
        default="line-cov.html",
        help="File name of the line-by-line HTML report in the artifacts.",
    )
    parser.addoption(
        "html_url",
        default="",
        help="Where this build's line-by-line HTML report can be opened, for the PR "
        "comment's links and the commit status (default: in a Prow presubmit with a gs:// "
        "store, its artifacts on storage.cloud.google.com).",
    )
    parser.addoption(
        "root",
        type="path",
        default="",
        help="Repository root that report paths are relative to "
        "(default: the git work tree around the current directory, else the directory).",
    )
    parser.addoption(
        "path_map",
        type="list",
        default=(),
        help="Rewrite a path prefix before placing paths in the repository: FROM=TO "
        "(repeatable; the first matching rule wins).",
    )
    parser.addoption(
        "changes",
        default="",
        help="Where the changed files come from: github, git (the merge-base of the base "
        "branch and the working tree), git:BASE (same, from BASE), git:BASE..HEAD, or none; "
        "default: github in a Prow presubmit, else git.",
    )
    parser.addoption(
        "sensitivity",
        type="float",
        default=0.05,
        help="A file whose coverage moved by fewer percentage points than this counts as "
        "unchanged.",
    )
    parser.addoption(
        "test_file_map",
        type="list",
        default=(r"^(.*)_test\.go$=\1.go",),
        help="A changed test file stands for the file it tests: REGEX=REPLACEMENT over the "
        r"path (\1 is the first group); repeatable, the first match wins.",
    )
    parser.addoption(
        "reports",
        type="list",
        default=(),
        help="Report formats covtool run also writes into the artifacts (junit, json, html, "
        "markdown, …), besides the job type's own.",
    )
    parser.addoption(
        "shard_group",
        default="",
        help="The name a sharded run's shards are stored under (default: the job's name "
        "without a trailing -shard-I).",
    )
    parser.addoption(
        "shard_wait",
        type="float",
        default=900.0,
        help="Seconds covtool run --merge-shards waits for the last shard before it refuses.",
    )
