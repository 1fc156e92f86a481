"""The presubmit comparison on a real repository: two commits of a Go module, real
``go test`` profiles of each, and ``git diff`` between them.

The head commit modifies, adds, deletes, renames-and-edits and moves code, changes a binary
file, a file whose name has a space and a non-ASCII letter, files marked in
``.gitattributes`` in every form, and a test file alone. Every expected line number below is
worked out by hand from the sources in this file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from covtool import CovtoolError, Totals, git_changes
from support import Covtool, commit, documented_fields, git, go_env

pytestmark = pytest.mark.skipif(shutil.which("go") is None, reason="needs go")

FUNC = "func {name}() int {{\n\treturn {value}\n}}\n"


def funcs(*pairs: tuple[str, int]) -> str:
    """``package m`` and one three-line function per pair, each after a blank line: the
    n-th function (from 0) spans lines 3 + 4n to 5 + 4n."""
    return "package m\n\n" + "\n".join(FUNC.format(name=n, value=v) for n, v in pairs)


def calls(test: str, *names: str) -> str:
    """A test file whose one test calls ``names``."""
    body = "".join(f"\t{name}()\n" for name in names)
    return f'package m\n\nimport "testing"\n\nfunc Test{test}(t *testing.T) {{\n{body}}}\n'


BASE = {
    "go.mod": "module example.com/m\n\ngo 1.19\n",
    "calc.go": funcs(("Add", 1), ("Sub", 2), ("Mul", 3)),  # 3-5, 7-9, 11-13
    "calc_test.go": calls("Calc", "Add", "Sub", "Old", "R1", "R2", "A", "T1", "Naive", "Gen0"),
    "old.go": funcs(("Old", 1)),
    "rename_me.go": funcs(("R1", 1), ("R2", 2), ("R3", 3)),
    "moved.go": funcs(("A", 1), ("B", 2)),
    "tested.go": funcs(("T1", 1), ("T2", 2)),
    "tested_test.go": calls("Tested", "T1"),
    "indirect.go": funcs(("Ind", 1)),
    "naïve file.go": funcs(("Naive", 1)),
    "gen_set.go": funcs(("Gen1", 1)),
    "gen_true.go": funcs(("Gen2", 1)),
    "gen_unset.go": funcs(("Gen3", 1)),
    "gen_false.go": funcs(("Gen4", 1)),
    "excl_set.go": funcs(("Gen5", 1)),
    "excl_true.go": funcs(("Gen6", 1)),
    "skip_me.go": funcs(("Gen0", 1)),
    ".gitattributes": "gen_set.go linguist-generated\n"
    "gen_true.go linguist-generated=true\n"
    "gen_unset.go -linguist-generated\n"
    "gen_false.go linguist-generated=false\n"
    "excl_set.go coverage-excluded\n"
    "excl_true.go coverage-excluded=true\n",
}
HEAD = {
    # Neg is inserted above Add (new, uncovered: 3-5), which pushes every later line down by
    # four; Sub's body is rewritten (line 12); Mul gains coverage from the new test call.
    "calc.go": funcs(("Neg", 0), ("Add", 1), ("Sub", 22), ("Mul", 3)),
    "calc_test.go": calls(
        "Calc", "Add", "Sub", "Mul", "R1", "R2", "A", "T1", "Naive", "Gen0", "New1"
    ),
    "old.go": None,
    "rename_me.go": None,
    "renamed.go": funcs(("R1", 1), ("R2", 22), ("R3", 3)),  # R2's body (line 8) edited
    "moved.go": funcs(("B", 2), ("A", 1)),
    "added.go": funcs(("New1", 1), ("New2", 2)),
    "tested_test.go": calls("Tested", "T1", "T2", "Ind"),
    "naïve file.go": funcs(("Naive", 11)),
    **{
        name: funcs((f"Gen{i + 1}", 9))
        for i, name in enumerate(
            (
                "gen_set.go",
                "gen_true.go",
                "gen_unset.go",
                "gen_false.go",
                "excl_set.go",
                "excl_true.go",
            )
        )
    },
    "skip_me.go": funcs(("Gen0", 9)),
}
BINARY = {"logo.bin": b"\x89PNG\0\0\x01", "logo2.bin": b"\x89PNG\0\0\x02"}


@dataclass
class Scenario:
    repo: Path
    base: str
    head: str
    base_profile: Path
    head_profile: Path


def _write(repo: Path, files: dict[str, str | None]) -> None:
    for name, text in files.items():
        if text is None:
            (repo / name).unlink(missing_ok=True)
        else:
            (repo / name).write_text(text)


def _profile(repo: Path, out: Path) -> Path:
    done = subprocess.run(
        ["go", "test", "-covermode=set", f"-coverprofile={out}", "."],
        cwd=repo,
        env=go_env(repo.parent),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    top = tmp_path_factory.mktemp("presubmit")
    repo = top / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    _write(repo, BASE)
    (repo / "logo.bin").write_bytes(BINARY["logo.bin"])
    base = commit(repo, "base")
    base_profile = _profile(repo, top / "base.out")
    _write(repo, HEAD)
    (repo / "logo.bin").write_bytes(BINARY["logo2.bin"])
    head = commit(repo, "head")
    head_profile = _profile(repo, top / "head.out")
    yield Scenario(repo, base, head, base_profile, head_profile)


@pytest.fixture
def run_diff(scenario: Scenario, capsys: pytest.CaptureFixture[str]) -> DiffRunner:
    return DiffRunner(scenario, Covtool(scenario.repo, capsys))


@dataclass
class DiffRunner:
    """``covtool diff`` of the scenario's two profiles, inside its repository."""

    scenario: Scenario
    covtool: Covtool

    def __call__(self, *args: str, fmt: str = "json") -> Any:
        s = self.scenario
        result = self.covtool(
            "diff",
            "--base",
            s.base_profile,
            "--head",
            s.head_profile,
            "--changes",
            f"git:{s.base}..{s.head}",
            "-f",
            fmt,
            *args,
        )
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout) if fmt == "json" else result.stdout


def test_change_set_from_git(scenario: Scenario) -> None:
    changes = git_changes(scenario.repo, scenario.base, scenario.head)
    files = {f.path: f for f in changes.files}
    assert changes.base == scenario.base and changes.head == scenario.head
    assert files["old.go"].status == "deleted"
    assert files["added.go"].status == "added"
    assert (files["renamed.go"].status, files["renamed.go"].old_path) == ("renamed", "rename_me.go")
    assert files["logo.bin"].binary and files["logo.bin"].status == "modified"
    assert files["naïve file.go"].status == "modified"
    # Neg's four lines inserted after line 2, Sub's body (old 8, new 12) rewritten.
    assert [tuple(h) for h in files["calc.go"].hunks or ()] == [(2, 0, 3, 4), (8, 1, 12, 1)]


def test_modified_file(run_diff: DiffRunner) -> None:
    calc = run_diff("--exclude", "skip_*")["files"]["calc.go"]
    assert calc["change"] == "modified"
    # Neg (3-5) is new and not run; Sub's rewritten body (12) is new and run.
    assert calc["patch"] == {"lines": 4, "covered": 1, "percent": 25.0}
    assert calc["uncovered_lines"] == [[3, 5]]
    # Mul (now 15-17) was not run at the baseline and is now: gained, on unchanged lines.
    assert calc["gained_lines"] == [[15, 17]]
    assert calc["lost_lines"] == []
    # Add (7-9) and Sub's first and last lines (11, 13) keep their baseline coverage even
    # though every one of them moved down by four lines.
    assert calc["categories"] == {"GNC": 1, "UNC": 3, "GBC": 3, "CBC": 5, "DCB": 1}
    # Go counts statements, one per function here: 2 of 3 at the baseline, 3 of 4 now.
    assert (calc["old"]["covered"], calc["old"]["statements"]) == (2, 3)
    assert (calc["new"]["covered"], calc["new"]["statements"]) == (3, 4)


def test_added_and_deleted_files(run_diff: DiffRunner) -> None:
    files = run_diff()["files"]
    added = files["added.go"]
    assert (added["change"], added["status"], added["old"]) == ("added", "added", None)
    assert added["patch"] == {"lines": 6, "covered": 3, "percent": 50.0}
    assert added["uncovered_lines"] == [[7, 9]]
    old = files["old.go"]
    assert (old["change"], old["status"], old["new"]) == ("deleted", "deleted", None)
    assert old["patch"] == {"lines": 0, "covered": 0, "percent": None}
    assert old["categories"] == {"DCB": 3}


def test_renamed_and_edited_file(run_diff: DiffRunner) -> None:
    renamed = run_diff()["files"]["renamed.go"]
    assert (renamed["change"], renamed["old_path"]) == ("renamed", "rename_me.go")
    # Only R2's edited body is a patch line; R1 and R3 keep their baseline coverage.
    assert renamed["patch"] == {"lines": 1, "covered": 1, "percent": 100.0}
    assert renamed["categories"] == {"GNC": 1, "CBC": 5, "UBC": 3, "DCB": 1}
    assert renamed["delta"] == 0


def test_moved_block(run_diff: DiffRunner) -> None:
    moved = run_diff()["files"]["moved.go"]
    categories = moved["categories"]
    # git sees one of the two functions as deleted and re-added: its three lines are new
    # (and deleted at their old place); the other keeps its coverage; nothing is "lost".
    assert categories.get("GNC", 0) + categories.get("UNC", 0) == 3
    assert categories.get("DCB", 0) + categories.get("DUB", 0) == 3
    assert "LBC" not in categories and "GBC" not in categories
    assert moved["status"] == "unchanged"


def test_gitattributes_and_exclude(run_diff: DiffRunner) -> None:
    data = run_diff("--exclude", "skip_*")
    assert data["ignored"] == {
        "excl_set.go": ".gitattributes: coverage-excluded",
        "excl_true.go": ".gitattributes: coverage-excluded",
        "gen_set.go": ".gitattributes: linguist-generated",
        "gen_true.go": ".gitattributes: linguist-generated",
        "skip_me.go": "exclude: skip_*",
    }
    assert {"gen_unset.go", "gen_false.go"} <= set(data["files"])
    assert not set(data["ignored"]) & set(data["files"])


def test_test_file_change_reports_the_tested_file(run_diff: DiffRunner) -> None:
    data = run_diff()
    tested = data["files"]["tested.go"]
    assert tested["change"] == "tests"
    assert tested["gained_lines"] == [[7, 9]] and tested["patch"]["lines"] == 0
    assert "tested_test.go" not in data["files"]  # Go profiles never list test files


def test_indirect_change(run_diff: DiffRunner) -> None:
    data = run_diff()
    assert "indirect.go" not in data["files"]
    indirect = data["indirect"]["indirect.go"]
    assert (indirect["change"], indirect["gained_lines"]) == ("indirect", [[3, 5]])
    assert indirect["old"]["percent"] == 0 and indirect["new"]["percent"] == 100


def test_file_name_with_space_and_non_ascii(run_diff: DiffRunner) -> None:
    naive = run_diff()["files"]["naïve file.go"]
    assert naive["patch"] == {"lines": 1, "covered": 1, "percent": 100.0}


def test_binary_files_are_not_reported(run_diff: DiffRunner) -> None:
    data = run_diff()
    assert "logo.bin" not in data["files"] and "logo.bin" not in data["ignored"]


def test_totals_and_patch(run_diff: DiffRunner) -> None:
    data = run_diff("--exclude", "skip_*")
    patch_lines = sum(f["patch"]["lines"] for f in data["files"].values())
    covered = sum(f["patch"]["covered"] for f in data["files"].values())
    assert data["patch"]["lines"] == patch_lines and data["patch"]["covered"] == covered
    assert data["changes"]["source"] == "git"


def test_text_output(run_diff: DiffRunner) -> None:
    text = run_diff("--exclude", "skip_*", fmt="text")
    assert "renamed.go (from rename_me.go)" in text
    assert "  calc.go: 3-5" in text
    assert "  indirect.go: 0.0% -> 100.0%, gained 3-5" in text
    assert "  gen_set.go (.gitattributes: linguist-generated)" in text


PLUGIN = """
import json
from pathlib import Path
from covtool import hookimpl


@hookimpl
def covtool_ignore_files(paths, run):
    return {p: "ours" for p in paths if p.startswith("moved")}


@hookimpl
def covtool_diff_computed(diff, run):
    Path("heard.json").write_text(json.dumps({
        "files": [f.path for f in diff.files],
        "ignored": diff.ignored,
        "patch": [diff.patch.covered, diff.patch.statements],
    }))
"""


def test_hooks_of_a_third_party_plugin(
    run_diff: DiffRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """covtool_ignore_files and covtool_diff_computed, implemented by a plugin module."""
    (tmp_path / "diffhooks.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    data = run_diff("-p", "diffhooks")
    heard = json.loads((run_diff.scenario.repo / "heard.json").read_text())
    (run_diff.scenario.repo / "heard.json").unlink()
    assert heard["ignored"]["moved.go"] == "ours" and "moved.go" not in heard["files"]
    assert heard["files"] == sorted(data["files"])
    assert heard["patch"] == [data["patch"]["covered"], data["patch"]["lines"]]


def test_working_tree_change(tmp_path: Path, covtool: Covtool) -> None:
    """``git:BASE`` compares with the working tree: uncommitted edits and untracked files."""
    repo = tmp_path / "wt"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    _write(repo, {"go.mod": BASE["go.mod"], "a.go": funcs(("A", 1))})
    base = commit(repo, "base")
    _write(repo, {"a.go": funcs(("A", 2)), "b.go": funcs(("B", 1))})
    changes = git_changes(repo, base)
    assert {(f.path, f.status) for f in changes.files} == {("a.go", "modified"), ("b.go", "added")}
    assert changes.head is None


def test_changed_files_hook_names_its_source(scenario: Scenario) -> None:
    """``changes`` decides the source: git answers git:BASE..HEAD through the hook."""
    from covtool.startup import start

    startup = start([], {})
    startup.flags.update(changes=f"git:{scenario.base}..{scenario.head}", root=str(scenario.repo))
    run = startup.make_run()
    found = run.hook.covtool_changed_files(run=run)
    assert found.source == "git" and "calc.go" in {f.path for f in found.files}
    startup.flags.update(changes="git:nosuchbranch")
    run = startup.make_run()
    with pytest.raises(CovtoolError, match="nosuchbranch"):
        run.hook.covtool_changed_files(run=run)


def test_lines_map_through_the_main_branch_since_the_baseline(tmp_path: Path) -> None:
    """The baseline was built two commits before the change's base. A function the main
    branch inserted into x.go (not the change) shifts x.go's lines: they must still be
    compared with their own baseline lines, and the inserted lines are "included", not new.
    """
    from covtool import Baseline
    from covtool.comparison import compare_profiles
    from covtool.engine import read_placed
    from covtool.startup import start

    repo = tmp_path / "drift"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    _write(
        repo,
        {
            "go.mod": BASE["go.mod"],
            "x.go": funcs(("X1", 1), ("X2", 2)),
            "y.go": funcs(("Y", 1)),
            "x_test.go": calls("X", "X1", "Y"),
        },
    )
    baseline_commit = commit(repo, "baseline")
    base_profile = _profile(repo, tmp_path / "base.out")
    _write(repo, {"x.go": funcs(("X0", 0), ("X1", 1), ("X2", 2))})
    change_base = commit(repo, "main moves on")
    _write(repo, {"y.go": funcs(("Y", 2))})
    head = commit(repo, "the change")
    head_profile = _profile(repo, tmp_path / "head.out")

    startup = start([], {})
    startup.flags.update(changes=f"git:{change_base}..{head}", root=str(repo))
    run = startup.make_run()
    old, new = read_placed(run, [base_profile]), read_placed(run, [head_profile])
    changes = git_changes(repo, change_base, head)
    baseline = Baseline(old, "1", baseline_commit, "test")
    diff = compare_profiles(run, old, new, changes, baseline)
    x = next(f for f in diff.indirect if f.path == "x.go")
    assert x.lost == () and x.gained == ()
    assert x.lines is not None and x.lines.counts() == {"CBC": 3, "UBC": 3, "UIC": 3}
    assert [f.path for f in diff.files] == ["y.go"] and diff.patch == Totals(1, 1)

    unmapped = compare_profiles(run, old, new, changes, None)  # what the drift map prevents
    assert next(f for f in unmapped.indirect if f.path == "x.go").lost == ((3, 5),)


def test_markdown_output(run_diff: DiffRunner) -> None:
    data = run_diff("--exclude", "skip_*")
    text = run_diff("--exclude", "skip_*", fmt="markdown")
    patch = data["patch"]
    assert f"**Patch coverage: {patch['covered']}/{patch['lines']} (" in text
    assert "- calc.go: 3-5\n" in text and "- added.go: 7-9\n" in text
    assert "naïve file.go | 100.0% | 100.0% | +0.0" not in text  # unchanged % is not a row


def test_the_json_is_what_its_documentation_says(run_diff: DiffRunner) -> None:
    data = run_diff()
    assert set(data) == documented_fields("Top level")
    assert data["format_version"] == 1 and data["kind"] == "diff"
    for entry in [*data["files"].values(), *data["indirect"].values()]:
        assert set(entry) == documented_fields("files")
    assert set(data["patch"]) == {"lines", "covered", "percent"}


def test_baseline_from_a_store(scenario: Scenario, covtool: Covtool, tmp_path: Path) -> None:
    """``--base STORE`` uses the newest healthy postsubmit build there, and says which."""
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    shutil.copy(scenario.base_profile, artifacts / "coverage_profile.txt")
    (artifacts / "profile-completed").write_text("")
    store = tmp_path / "store"
    job = ("--postsubmit-job-name", "post-m")
    assert (
        covtool("upload", artifacts, "--job", "post-m", "--build", "7", "--to", store).exit_code
        == 0
    )
    in_repo = Covtool(scenario.repo, covtool._capsys)
    result = in_repo(
        "diff",
        "--base",
        store,
        "--head",
        scenario.head_profile,
        *job,
        "-f",
        "json",
        "--changes",
        f"git:{scenario.base}..{scenario.head}",
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["baseline"]["build"] == "7" and data["baseline"]["location"].endswith("/7/")
    assert data["files"]["calc.go"]["uncovered_lines"] == [[3, 5]]


def test_sensitivity() -> None:
    """A file that moved by less than the sensitivity (in points) is unchanged."""
    from covtool import FileDelta

    old = Totals(10_000, 5_000)
    assert FileDelta("a.go", old, Totals(10_000, 5_004), sensitivity=0.05).status == "unchanged"
    assert FileDelta("a.go", old, Totals(10_000, 5_005), sensitivity=0.05).status == "changed"
    assert FileDelta("a.go", old, Totals(10_000, 4_995), sensitivity=0.05).status == "changed"
    assert FileDelta("a.go", old, Totals(10_000, 5_001)).status == "changed"  # exact by default
    assert FileDelta("a.go", old, Totals(20_000, 10_000)).status == "unchanged"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ("git", "is not a git repository with commits; the changed files come from git"),
        ("bogus", "no plugin provides the changed files for changes='bogus'"),
        ("git:", "changes 'git:': expected git:BASE or git:BASE..HEAD"),
    ],
)
def test_changes_that_cannot_be_had(covtool: Covtool, changes: str, message: str) -> None:
    covtool.write("a.out", "mode: set\na.go:1.1,2.2 1 1\n")
    result = covtool("diff", "a.out", "a.out", "--changes", changes)
    assert result.exit_code == 3 and message in result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""
