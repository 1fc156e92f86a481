"""Placing coverage paths in the repository: path maps, Go modules, roots, warnings."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from covtool import Profile, Regions
from covtool.paths import PathRules, go_modules, place_profile
from support import Covtool


def make_repo(root: Path, git: bool = True) -> Path:
    """A repository with a root module, a nested module, a /v2 module elsewhere, and go.mod
    files under vendor/ and testdata/ that Go ignores."""
    files = {
        "go.mod": "module example.com/x\n\ngo 1.19\n",
        "staging/src/k8s.io/api/go.mod": "// comment\nmodule k8s.io/api\n",
        "major/go.mod": 'module "example.com/x/v2"\n',
        "vendor/example.com/dep/go.mod": "module example.com/dep\n",
        "pkg/testdata/go.mod": "module example.com/fixture\n",
        "pkg/a.go": "package pkg\n",
        "src/main/java/com/x/A.java": "class A {}\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    if git:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


@pytest.mark.parametrize("git", [True, False])
def test_go_modules_found_with_and_without_git(tmp_path: Path, git: bool) -> None:
    root = make_repo(tmp_path, git)
    assert sorted(go_modules(root)) == [
        ("example.com/x", "."),
        ("example.com/x/v2", "major"),
        ("k8s.io/api", "staging/src/k8s.io/api"),
    ]


def test_place_go_import_paths_longest_module_wins(tmp_path: Path) -> None:
    rules = PathRules.for_repository(make_repo(tmp_path), [])
    assert rules.place("example.com/x/pkg/a.go") == "pkg/a.go"
    assert rules.place("example.com/x/v2/pkg/a.go") == "major/pkg/a.go"
    assert rules.place("k8s.io/api/core/v1/types.go") == "staging/src/k8s.io/api/core/v1/types.go"
    assert rules.place("example.com/xy/a.go") == "example.com/xy/a.go"  # not a prefix match


def test_place_absolute_relative_and_windows_paths(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    rules = PathRules.for_repository(root, ["C:/build/=", "/ci/work/src/=lib/"])
    assert rules.place(f"{root}/pkg/a.go") == "pkg/a.go"
    assert rules.place("/elsewhere/pkg/a.go") is None
    assert rules.place("C:\\build\\pkg\\a.go") == "pkg/a.go"
    assert rules.place("/ci/work/src/util.py") == "lib/util.py"
    assert rules.place("./pkg/../pkg/a.go") == "pkg/a.go"
    assert rules.place("../outside.go") is None


def test_place_under_declared_roots(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    rules = PathRules.for_repository(root, [])
    java_roots = ["src/test/java", "src/main/java"]
    assert rules.place("com/x/A.java", java_roots) == "src/main/java/com/x/A.java"  # exists
    assert rules.place("com/x/B.java", java_roots) == "com/x/B.java"  # nowhere: as it is
    assert (
        rules.place("com/x/A.java", ["--source", "src/main/java"]) == "src/main/java/com/x/A.java"
    )
    assert rules.place("com/x/B.java", ["--source"]) == "com/x/B.java"  # a junk root
    sources = ["/machine/that/ran/tests", f"{root}/src", ""]
    assert rules.place("main/java/com/x/A.java", sources) == "src/main/java/com/x/A.java"
    assert rules.place("util.py", ["/machine/that/ran/tests"]) == "util.py"
    assert rules.place("lib/x.py", [f"{root}/build"]) == "build/lib/x.py"  # anchored in the repo


def test_path_map_rule_must_have_an_equals_sign(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="path_map rule 'nothing': expected FROM=TO"):
        PathRules.for_repository(tmp_path, ["nothing"])


def test_paths_that_collapse_are_merged(tmp_path: Path) -> None:
    regions = Regions.from_columns([1, 1, 2], [1, 1, 1], [1, 1, 2], [5, 5, 5], [1, 1, 1], [1, 2, 0])
    profile = Profile(["./a.go", "a.go", "b.go"], np.array([0, 1, 2, 3]), regions, mode="count")
    placed, unplaced = place_profile(profile, PathRules.for_repository(tmp_path, []))
    assert placed.paths == ("a.go", "b.go") and unplaced == []
    assert placed["a.go"].regions.hits.tolist() == [3]


def test_report_places_go_paths_and_warns_about_the_rest(covtool: Covtool) -> None:
    make_repo(covtool.path)
    covtool.write(
        "c.out",
        "mode: set\nexample.com/x/pkg/a.go:1.1,1.5 1 1\nexample.com/other/b.go:1.1,1.5 1 0\n",
    )
    result = covtool("report", "c.out", "-f", "json")
    assert result.exit_code == 0
    assert sorted(json.loads(result.stdout)["files"]) == ["example.com/other/b.go", "pkg/a.go"]
    assert result.stderr == (
        f"covtool: warning: c.out: 1 of 2 paths are not in the repository at {covtool.path} "
        "(outside it, or under no Go module of it) and are kept as they are: "
        "example.com/other/b.go; --path-map FROM=TO can place them\n"
    )
    mapped = covtool(
        "report", "c.out", "-f", "json", "--path-map", "example.com/other/=third_party/"
    )
    assert sorted(json.loads(mapped.stdout)["files"]) == ["pkg/a.go", "third_party/b.go"]
    assert mapped.stderr == ""


def test_merge_keeps_go_import_paths(covtool: Covtool) -> None:
    make_repo(covtool.path)
    covtool.write("c.out", "mode: set\nexample.com/x/pkg/a.go:1.1,1.5 1 1\n")
    assert (
        covtool("merge", "c.out", "c.out").stdout
        == "mode: set\nexample.com/x/pkg/a.go:1.1,1.5 1 1\n"
    )


def test_root_setting(covtool: Covtool, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = make_repo(tmp_path_factory.mktemp("elsewhere"))
    covtool.write("c.out", "mode: set\nexample.com/x/pkg/a.go:1.1,1.5 1 1\n")
    plain = json.loads(covtool("report", "c.out", "-f", "json").stdout)
    assert list(plain["files"]) == ["example.com/x/pkg/a.go"]  # no go.mod here: nothing to place
    rooted = json.loads(covtool("report", "c.out", "-f", "json", "--root", str(other)).stdout)
    assert list(rooted["files"]) == ["pkg/a.go"]


def test_go_modules_without_git_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path / "repo")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no git to be found
    assert ("k8s.io/api", "staging/src/k8s.io/api") in go_modules(root)
    assert ("example.com/dep", "vendor/example.com/dep") not in go_modules(root)
