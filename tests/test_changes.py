"""Reading git's diffs: paths as git quotes them, every kind of file change, and hunks that
map each unchanged line to its own baseline line — checked against real ``git diff``."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import numpy as np
import pytest

from covtool import Hunk, git_changes, hunks_from_patch
from covtool.changes import unquote
from covtool.linemap import LineMap, line_ranges
from support import commit, git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    return tmp_path


AWKWARD = ["tab\there.go", 'quote"d.go', "back\\slash.go", "sp ace.go", "ünï cødé.go", "a b/c d.go"]


def test_awkward_names_come_back_as_they_are(repo: Path) -> None:
    for name in AWKWARD:
        (repo / name).parent.mkdir(exist_ok=True)
        (repo / name).write_text("one\ntwo\n")
    base = commit(repo)
    for name in AWKWARD:
        (repo / name).write_text("one\n2\n")
    files = git_changes(repo, base).files
    assert sorted(f.path for f in files) == sorted(AWKWARD)
    assert {f.hunks for f in files} == {(Hunk(2, 1, 2, 1),)}


def test_every_kind_of_change(repo: Path) -> None:
    lines = "".join(f"line {i}\n" for i in range(20))
    (repo / "mode.sh").write_text("echo\n")
    (repo / "gone.txt").write_text("bye\n")
    (repo / "old name.txt").write_text(lines)
    (repo / "pure.txt").write_text(lines.upper())
    (repo / "pic.bin").write_bytes(b"\0\1\2")
    (repo / "link").write_text("was a file\n")
    base = commit(repo)
    (repo / "mode.sh").chmod(0o755)
    (repo / "gone.txt").unlink()
    (repo / "old name.txt").rename(repo / "new name.txt")
    (repo / "new name.txt").write_text(lines.replace("line 5\n", "line five\n"))
    (repo / "pure.txt").rename(repo / "moved_pure.txt")
    (repo / "pic.bin").write_bytes(b"\0\1\3")
    (repo / "empty.txt").write_text("")
    (repo / "link").unlink()
    (repo / "link").symlink_to("mode.sh")
    files = {f.path: f for f in git_changes(repo, base).files}
    assert files["mode.sh"].status == "modified" and files["mode.sh"].hunks == ()
    assert files["gone.txt"].status == "deleted"
    renamed = files["new name.txt"]
    assert (renamed.status, renamed.old_path, renamed.hunks) == (
        "renamed",
        "old name.txt",
        (Hunk(6, 1, 6, 1),),
    )
    assert files["moved_pure.txt"].old_path == "pure.txt" and files["moved_pure.txt"].hunks == ()
    assert files["pic.bin"].binary
    assert files["empty.txt"].status == "added"
    assert files["link"].status == "modified"  # a file that became a symlink: one entry
    assert len(files) == 7


def test_untracked_files_count_as_added(repo: Path) -> None:
    (repo / "a.txt").write_text("a\n")
    base = commit(repo)
    (repo / "new file.txt").write_text("x\n")
    (repo / ".gitignore").write_text("*.log\n")
    (repo / "noise.log").write_text("x\n")
    added = {f.path for f in git_changes(repo, base).files if f.status == "added"}
    assert added == {"new file.txt", ".gitignore"}


def test_unquote() -> None:
    assert unquote(b'"a/\\303\\274 \\"q\\" \\t\\\\"') == 'a/ü "q" \t\\'
    assert unquote(b"plain name") == "plain name"


def test_hunks_from_a_patch_with_context() -> None:
    patch = (
        "@@ -1,7 +1,8 @@\n"
        " a\n"
        "-b\n"
        "+B\n"
        "+B2\n"
        " c\n"
        " d\n"
        "-e\n"
        " f\n"
        "@@ -20,2 +21,3 @@ def g():\n"
        " x\n"
        "+y\n"
        " z\n"
        "\\ No newline at end of file"
    )
    assert hunks_from_patch(patch) == (Hunk(2, 1, 2, 2), Hunk(5, 1, 5, 0), Hunk(20, 0, 22, 1))


def random_text(rng: random.Random, lines: int) -> list[str]:
    return [f"l{rng.randrange(12)}" for _ in range(lines)]


def edit(rng: random.Random, text: list[str]) -> list[str]:
    out = list(text)
    for _ in range(rng.randrange(1, 6)):
        at = rng.randrange(len(out) + 1)
        kind = rng.choice(("insert", "delete", "replace"))
        if kind == "insert":
            out[at:at] = [f"n{rng.randrange(99)}" for _ in range(rng.randrange(1, 4))]
        elif out:
            end = min(len(out), at + rng.randrange(1, 4))
            out[at:end] = [] if kind == "delete" else [f"r{rng.randrange(99)}"]
    return out


def test_line_map_agrees_with_git_on_random_edits(tmp_path: Path) -> None:
    """Every head line outside the hunks has the same text as the base line it maps to,
    every base line is either removed or mapped to exactly, over 60 random edits."""
    rng = random.Random(7)
    for case in range(60):
        old, new = random_text(rng, rng.randrange(0, 30)), []
        new = edit(rng, old)
        a, b = tmp_path / f"a{case}", tmp_path / f"b{case}"
        a.write_text("".join(f"{s}\n" for s in old))
        b.write_text("".join(f"{s}\n" for s in new))
        done = subprocess.run(
            ["git", "diff", "--no-index", "-U0", str(a), str(b)],
            capture_output=True,
            text=True,
            check=False,
        )
        hunks = hunks_from_git(done.stdout)
        line_map = LineMap(hunks)
        head = np.arange(1, len(new) + 1)
        kept = head[~line_map.changed(head)]
        mapped = line_map.to_base(kept)
        assert [new[n - 1] for n in kept] == [old[o - 1] for o in mapped], case
        base = np.arange(1, len(old) + 1)
        removed = line_map.removed(base)
        assert sorted(mapped.tolist()) == base[~removed].tolist(), case
        assert np.array_equal(line_map.inverse().to_base(mapped), kept), case


def hunks_from_git(patch: str) -> list[Hunk]:
    from covtool.changes import parse_diff

    files = parse_diff(patch.encode())
    return list(files[0].hunks or ()) if files else []


def test_line_ranges() -> None:
    assert line_ranges(np.array([3, 4, 5, 9, 11, 12])) == ((3, 5), (9, 9), (11, 12))
    assert line_ranges(np.array([], np.int64)) == ()


def test_hunks_of_whole_file_patches() -> None:
    """An added file's patch starts at old line 0, a deleted file's at new line 0, as git
    -U0 states them."""
    assert hunks_from_patch("@@ -0,0 +1,2 @@\n+a\n+b") == (Hunk(0, 0, 1, 2),)
    assert hunks_from_patch("@@ -1,2 +0,0 @@\n-a\n-b") == (Hunk(1, 2, 0, 0),)
