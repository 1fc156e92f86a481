"""Benchmark covtool's presubmit comparison: two large Go profiles and a real git change.

Measures the wall time (median of several runs) and the peak resident memory (max over the
runs, from ``os.wait4``'s ``ru_maxrss`` for the exact child) of the whole presubmit comparison,
run as a subprocess exactly as a user would run it, inside the generated git repository
(plug-in loading, ``go.mod`` discovery, ``git merge-base`` and ``git diff`` included; no
network):

* ``diff-presubmit``: ``covtool diff --base base.out --head head.out
  --changes git:BASE..HEAD -f json -o diff.json``; budget 5.0 s
* ``diff-presubmit-noisy``: the same with ``head-noisy.out``, in which about 10% of every
  file's counts flip, so every file the change did not touch differs too (the worst case
  for the indirect-change search); its 5.0 s is a target, reported, not enforced
* ``comment-presubmit``: ``covtool comment`` over the same change: the comparison, the
  gate (informational, so the exit code stays 0), and the PR comment for 2,000 changed
  files shortened to GitHub's 65,536 characters, written to ``bot-post`` (posting is off:
  no network); budget 5.0 s

The inputs are generated deterministically (seeded ``random``): by default two profiles of
1,000,000 blocks over 20,000 files, ``mode: count``, with the paths, spans and counts of
``bench_core``; and a git repository (``go.mod`` of ``k8s.io/kubernetes`` at its root, one
source file per profiled file) with a base commit and a head commit that edits every 10th
file (5 lines inserted between two blocks, one later line rewritten), deletes 20 other files
and renames 20 more with a one-line edit. The head profile follows the edits: blocks after
the insertion move down, a new block covers the inserted lines, about 10% of an edited
file's counts flip, and about 1% of the untouched files get a few coverage flips (indirect
changes). Inputs are reused on later runs while a stamp file says they were made with the
same parameters (``--regenerate`` forces a rewrite). Before measuring, the command is run
once (untimed) and its JSON checked: the touched files, the indirect ones, patch lines.

Budget: peak RSS < 1 GiB for every command and a median under 5.0 s for ``diff-presubmit``
and ``comment-presubmit`` (exit 1 if exceeded, unless ``--no-fail``).

Run it, after installing covtool (``pip install -e .``), from the repository root::

    python bench/bench_diff.py                       # 3 runs each, exit 1 if over budget
    python bench/bench_diff.py --repeat 3 --no-fail --json bench/out/diff/results.json
    python bench/bench_diff.py --blocks 100000 --files 2000 --changed 200 --out /tmp/diffbench
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for harness, even under python -P
from bench_core import blocks_per_file, draw_count, file_path, make_spans, write_chunk
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

GENERATOR_VERSION = 1
SEED = 20240918
MODULE = "k8s.io/kubernetes"
DELETED = 20
RENAMED = 20
INSERTED = 5  # lines the change inserts into an edited file
TRAILING_LINES = 10  # source lines after a file's last block
FLIP_RATE = 0.10  # share of an edited file's counts that flip (every file's, when noisy)
INDIRECT_RATE = 0.01  # share of untouched files whose coverage moves anyway
MAX_INDIRECT_FLIPS = 3
FLUSH_EVERY_FILES = 500
PROFILES = ("base", "head", "head-noisy")
STAMP_NAME = "inputs.stamp.json"
BUDGET_S = 5.0
#: GitHub refuses a longer comment (UTF-16 code units).
GITHUB_LIMIT = 65_536
TARGET_S = 5.0
#: Identity and settings for the generated commits, whatever the user's git configuration.
GIT_OPTIONS = (
    "-c",
    "user.name=covtool bench",
    "-c",
    "user.email=bench@covtool.invalid",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "core.autocrlf=false",
)
#: Fixed dates make the commit ids, like everything else generated, the same on every run.
GIT_DATES = {
    "GIT_AUTHOR_DATE": "2024-09-18T12:00:00Z",
    "GIT_COMMITTER_DATE": "2024-09-18T12:00:00Z",
}

#: One block: start line, start column, end line, end column, statements.
Block = tuple[int, int, int, int, int]
Rngs = dict[str, Callable[[], float]]


# --- What the change does ---------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Which source files (by index) the head commit edits, deletes and renames."""

    edited: frozenset[int]
    deleted: frozenset[int]
    renamed: frozenset[int]


def plan_change(files: int, changed: int) -> Plan:
    """Edit every ``files // changed``-th file; delete and rename a seeded sample of the rest."""
    stride = files // changed
    edited = set(range(0, stride * changed, stride))
    others = [i for i in range(files) if i not in edited]
    picked = random.Random(f"{SEED}-plan").sample(others, DELETED + RENAMED)
    return Plan(frozenset(edited), frozenset(picked[:DELETED]), frozenset(picked[DELETED:]))


@dataclass(frozen=True)
class Edit:
    """An edited file's change: lines inserted after line ``after`` (the end of block
    ``block``, or 0 in a file without blocks) and line ``rewritten`` (base numbering)
    given new text."""

    after: int
    block: int
    rewritten: int


def pick_edit(r: Callable[[], float], blocks: Sequence[Block], last_line: int) -> Edit:
    """Insert after a block whose successor starts on a later line, so no block is split;
    rewrite a line of a later block (or of an earlier one, when there is none)."""
    if not blocks:
        return Edit(0, -1, last_line)
    gaps = [
        k for k in range(len(blocks)) if k == len(blocks) - 1 or blocks[k + 1][0] > blocks[k][2]
    ]
    i = gaps[int(r() * len(gaps))]
    others = range(i + 1, len(blocks)) or range(i + 1)
    start, _, end, _, _ = blocks[others[int(r() * len(others))]]
    return Edit(blocks[i][2], i, start + int(r() * (end - start + 1)))


def edited_blocks(r: Callable[[], float], blocks: Sequence[Block], edit: Edit) -> list[Block]:
    """The head's blocks: those after the insertion moved down, a new one over the new lines."""
    first, last = edit.after + 1, edit.after + INSERTED
    new = (first, 2, last, 2 + int(r() * 60), 1 + int(r() * 3))
    moved = [
        (sl + INSERTED, sc, el + INSERTED, ec, n) for sl, sc, el, ec, n in blocks[edit.block + 1 :]
    ]
    return [*blocks[: edit.block + 1], new, *moved]


# --- Source text ------------------------------------------------------------------------------


def source_lines(index: int, last_line: int) -> list[str]:
    """A file's base text, one short line per line number.

    The file's index in every line makes each file's lines its own: git's rename detection
    then pairs a renamed file with its source only, and no two files share a blob.
    """
    return [f"// {index}:{n}\n" for n in range(1, last_line + 1)]


def edited_text(index: int, last_line: int, edit: Edit) -> str:
    """The head text of an edited file: one line rewritten, ``INSERTED`` lines inserted."""
    lines = source_lines(index, last_line)
    lines[edit.rewritten - 1] = f"// {index}:{edit.rewritten} rewritten\n"
    lines[edit.after : edit.after] = [f"// {index}:{edit.after}+{k}\n" for k in range(INSERTED)]
    return "".join(lines)


def repo_path(go_path: str) -> str:
    """The repository path of a Go import path under the module."""
    return go_path.removeprefix(MODULE + "/")


def renamed_path(go_path: str) -> str:
    """Where the change moves a renamed file: the same directory, another name."""
    return go_path.replace("/file", "/renamed")


# --- Counts -----------------------------------------------------------------------------------


def flip(r: Callable[[], float], count: int) -> int:
    """A count of the other coverage state: covered becomes 0, 0 becomes a small count."""
    return 1 + int(r() * 10) if count == 0 else 0


def flipped(r: Callable[[], float], counts: Sequence[int], rate: float) -> list[int]:
    """``counts`` with about ``rate`` of them flipped."""
    return [flip(r, c) if r() < rate else c for c in counts]


def few_flips(r: Callable[[], float], blocks: Sequence[Block], counts: Sequence[int]) -> list[int]:
    """``counts`` with 1 to 3 blocks flipped, among those with statements (a block without
    statements moves no coverage)."""
    real = [k for k, block in enumerate(blocks) if block[4] > 0]
    wanted = min(len(real), 1 + int(r() * MAX_INDIRECT_FLIPS))
    chosen: set[int] = set()
    while len(chosen) < wanted:
        chosen.add(real[int(r() * len(real))])
    return [flip(r, c) if k in chosen else c for k, c in enumerate(counts)]


def parse_span(span: str, go_path: str) -> Block:
    """The numbers of one ``path:SL.SC,EL.EC NUMSTMT `` prefix from ``make_spans``."""
    position, statements = span[len(go_path) + 1 :].split()
    start, end = position.split(",")
    start_line, start_col = start.split(".")
    end_line, end_col = end.split(".")
    return int(start_line), int(start_col), int(end_line), int(end_col), int(statements)


def profile_lines(go_path: str, blocks: Sequence[Block], counts: Sequence[int]) -> list[str]:
    """A file's lines of a Go cover profile."""
    return [
        f"{go_path}:{sl}.{sc},{el}.{ec} {n} {c}\n"
        for (sl, sc, el, ec, n), c in zip(blocks, counts, strict=True)
    ]


# --- One file ---------------------------------------------------------------------------------


@dataclass
class HeadFile:
    """A file as the head commit and the head profiles have it (``path`` None: deleted).

    ``text`` is the head text when the change rewrites the file, else None.
    """

    path: str | None
    blocks: list[Block]
    counts: list[int]
    noisy: list[int]
    text: str | None = None
    indirect: bool = False


def head_file(
    index: int, blocks: list[Block], counts: list[int], plan: Plan, rngs: Rngs
) -> HeadFile:
    """What the change (and the tests' noise) does to file ``index``."""
    go_path = file_path(index)
    last_line = max((b[2] for b in blocks), default=0) + TRAILING_LINES
    edit_r, head_r, noisy_r = rngs["edit"], rngs["head"], rngs["noisy"]
    if index in plan.deleted:
        return HeadFile(None, [], [], [])
    if index in plan.edited:
        edit = pick_edit(edit_r, blocks, last_line)
        new_blocks = edited_blocks(edit_r, blocks, edit)
        new_count = 1 + int(edit_r() * 10) if edit_r() < 0.5 else 0
        moved = flipped(head_r, counts, FLIP_RATE)
        moved.insert(edit.block + 1, new_count)
        return HeadFile(go_path, new_blocks, moved, moved, edited_text(index, last_line, edit))
    noisy = flipped(noisy_r, counts, FLIP_RATE)
    if index in plan.renamed:
        edit = pick_edit(edit_r, blocks, last_line)
        lines = source_lines(index, last_line)
        lines[edit.rewritten - 1] = f"// {index}:{edit.rewritten} renamed\n"
        return HeadFile(renamed_path(go_path), blocks, counts, noisy, "".join(lines))
    if head_r() < INDIRECT_RATE and any(b[4] > 0 for b in blocks):
        return HeadFile(go_path, blocks, few_flips(head_r, blocks, counts), noisy, indirect=True)
    return HeadFile(go_path, blocks, counts, noisy)


# --- Generation -------------------------------------------------------------------------------


@dataclass
class Generated:
    """What generation made: the head commit's file changes and renames, how many untouched
    files were given coverage flips (for the sanity check) and the commit ids."""

    changes: dict[str, str | None] = field(default_factory=dict)  # repo path -> text, None: gone
    renames: dict[str, str] = field(default_factory=dict)  # old repo path -> new repo path
    indirect: int = 0
    commits: dict[str, str] = field(default_factory=dict)


def git(repo: Path, *args: str) -> str:
    """``git -C REPO ARGS`` with a fixed identity and fixed dates; its stripped output."""
    done = subprocess.run(
        ["git", "-C", str(repo), *GIT_OPTIONS, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **GIT_DATES},
    )
    if done.returncode != 0:
        sys.exit(f"git {args[0]} failed in {repo}: {done.stderr.strip()}")
    return done.stdout.strip()


def write_file(repo: Path, path: str, text: str) -> None:
    """Write one source file of the repository, making its directory."""
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def write_inputs(out: Path, repo: Path, blocks: int, files: int, plan: Plan) -> Generated:
    """Write the base tree and the three profiles in one pass; collect the head's edits."""
    span_rng = random.Random(f"{SEED}-spans")
    rngs: Rngs = {n: random.Random(f"{SEED}-{n}").random for n in ("base", "edit", "head", "noisy")}
    made = Generated()
    lines: dict[str, list[str]] = {name: [] for name in PROFILES}
    with contextlib.ExitStack() as stack:
        outs = {n: stack.enter_context(open(out / f"{n}.out", "w")) for n in PROFILES}
        for f in outs.values():
            f.write("mode: count\n")
        for index, count in enumerate(blocks_per_file(blocks, files)):
            go_path = file_path(index)
            spans = [parse_span(s, go_path) for s in make_spans(span_rng, go_path, count)]
            counts = [draw_count(rngs["base"]) for _ in spans]
            last_line = max((b[2] for b in spans), default=0) + TRAILING_LINES
            write_file(repo, repo_path(go_path), "".join(source_lines(index, last_line)))
            lines["base"].extend(profile_lines(go_path, spans, counts))
            head = head_file(index, spans, counts, plan, rngs)
            record_head(made, go_path, head)
            if head.path is not None:
                lines["head"].extend(profile_lines(head.path, head.blocks, head.counts))
                lines["head-noisy"].extend(profile_lines(head.path, head.blocks, head.noisy))
            if index % FLUSH_EVERY_FILES == FLUSH_EVERY_FILES - 1:
                write_chunk(outs, lines)
        write_chunk(outs, lines)
    return made


def record_head(made: Generated, go_path: str, head: HeadFile) -> None:
    """Note what the head commit must do to this file, and whether it is an indirect change."""
    old = repo_path(go_path)
    made.indirect += head.indirect
    if head.path is None:
        made.changes[old] = None
    elif head.path != go_path:
        made.renames[old] = repo_path(head.path)
        made.changes[old] = None
        made.changes[repo_path(head.path)] = head.text
    elif head.text is not None:
        made.changes[old] = head.text


def commit_change(repo: Path, made: Generated) -> None:
    """Commit the base tree, apply the change, commit it; the commit ids go in ``made``."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    made.commits["base"] = git(repo, "rev-parse", "HEAD")
    for path, text in made.changes.items():
        if text is None:
            (repo / path).unlink()
        else:
            write_file(repo, path, text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "head: edit, delete and rename files")
    made.commits["head"] = git(repo, "rev-parse", "HEAD")


def generate(out: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Write the repository and the profiles; what the sanity check expects of them."""
    repo = out / "repo"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "gc.auto", "0")  # no packing in the middle of a measured run
    (repo / "go.mod").write_text(f"module {MODULE}\n\ngo 1.22\n")
    plan = plan_change(params["files"], params["changed"])
    made = write_inputs(out, repo, params["blocks"], params["files"], plan)
    commit_change(repo, made)
    return {
        "commits": made.commits,
        "files": len(plan.edited) + len(plan.deleted) + len(plan.renamed),
        "indirect": made.indirect,
    }


def input_params(blocks: int, files: int, changed: int) -> dict[str, Any]:
    """What the generated inputs depend on: the stamp that lets a later run reuse them."""
    return {
        "version": GENERATOR_VERSION,
        "seed": SEED,
        "blocks": blocks,
        "files": files,
        "changed": changed,
        "deleted": DELETED,
        "renamed": RENAMED,
    }


def ensure_inputs(
    out: Path, params: dict[str, Any], regenerate: bool
) -> tuple[dict[str, Any], float | None]:
    """Generate the inputs unless the stamp matches; the expectations and the seconds taken
    (None if reused)."""
    stamp = out / STAMP_NAME
    present = all((out / f"{n}.out").is_file() for n in PROFILES) and (out / "repo/.git").is_dir()
    if not regenerate and present and stamp.is_file():
        with contextlib.suppress(ValueError, KeyError):
            saved = json.loads(stamp.read_text())
            if saved["params"] == params:
                return saved["expected"], None
    out.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    if (out / "repo").exists():
        shutil.rmtree(out / "repo")  # only ever the repository this script made; not timed
    start = time.perf_counter()
    expected = generate(out, params)
    elapsed = time.perf_counter() - start
    stamp.write_text(json.dumps({"params": params, "expected": expected}, indent=2) + "\n")
    return expected, elapsed


# --- Commands and checks ----------------------------------------------------------------------


def command(out: Path, head: str, commits: dict[str, str], result: str) -> list[str]:
    """The presubmit comparison of ``base.out`` with ``HEAD.out``, without ``covtool``."""
    return [
        "diff",
        "--base",
        f"{out}/base.out",
        "--head",
        f"{out}/{head}.out",
        "--changes",
        f"git:{commits['base']}..{commits['head']}",
        "-f",
        "json",
        "-o",
        f"{out}/{result}",
    ]


def comment_command(out: Path, commits: dict[str, str]) -> list[str]:
    """The presubmit's comment for ``head.out``, written to ``OUT/comment/bot-post``."""
    return [
        "comment",
        "--base",
        f"{out}/base.out",
        "--head",
        f"{out}/head.out",
        "--changes",
        f"git:{commits['base']}..{commits['head']}",
        "--artifacts",
        f"{out}/comment",
        "--comment-mode",
        "off",
        "--no-commit-status",
        "--informational",
    ]


def check_comment(path: Path) -> int:
    """The comment's length, checked: with the marker, shortened, within GitHub's limit."""
    body = path.read_text()
    length = len(body.encode("utf-16-le")) // 2
    problems = []
    if not body.startswith("<!-- covtool:comment job="):
        problems.append("no marker")
    if "Not shown: " not in body:
        problems.append("the table was not shortened")
    if length > GITHUB_LIMIT:
        problems.append(f"{length:,} characters, over GitHub's {GITHUB_LIMIT:,}")
    if problems:
        sys.exit(f"{path}: " + "; ".join(problems))
    return length


def summary(path: Path) -> dict[str, int]:
    """The figures a comparison's JSON is checked by: files, indirect files, patch lines."""
    data = json.loads(path.read_text())
    patch = data["patch"] or {}
    return {
        "files": len(data["files"]),
        "indirect": len(data["indirect"]),
        "patch_lines": patch.get("lines", 0),
        "patch_covered": patch.get("covered", 0),
    }


def sanity_check(argv: list[str], result: Path, expected: dict[str, Any]) -> dict[str, int]:
    """Run the comparison once, untimed, and check what it found against what was made.

    Every touched file is reported; the indirect files are those given flips (a few may not
    count, when a flipped block's lines are also covered by a neighbour); the change adds
    executable lines. Exits when a figure is off.
    """
    _, _, output = run_once(argv)
    sys.stderr.write(output)
    found = summary(result)
    print(
        f"Sanity: {found['files']:,} files (expected {expected['files']:,}), "
        f"{found['indirect']:,} indirect (expected {expected['indirect']:,}), "
        f"patch {found['patch_covered']:,}/{found['patch_lines']:,} lines covered."
    )
    problems = []
    if found["files"] != expected["files"]:
        problems.append("touched files")
    if not 0.9 * expected["indirect"] <= found["indirect"] <= expected["indirect"]:
        problems.append("indirect files")
    if found["patch_lines"] <= 0:
        problems.append("patch lines")
    if problems:
        sys.exit(f"sanity check failed ({', '.join(problems)}): see {result}")
    return found


def report_targets(results: Sequence[Result]) -> None:
    """Name the commands slower than their target; harness counts them within budget."""
    for r in results:
        if r.time_kind == "target" and r.time_s is not None and r.median_s >= r.time_s:
            print(f"Target missed (not enforced): {r.name}, {r.median_s:.2f} s >= {r.time_s} s")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = Path(__file__).resolve().parent / "out" / "diff"
    parser.add_argument("--out", type=Path, default=default_out, help="output directory")
    parser.add_argument("--blocks", type=int, default=1_000_000, help="blocks per profile")
    parser.add_argument("--files", type=int, default=20_000, help="source files per profile")
    parser.add_argument("--changed", type=int, default=2_000, help="files the change edits")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command")
    parser.add_argument("--regenerate", action="store_true", help="rewrite the inputs")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even if over budget")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = parser.parse_args(argv)
    if args.blocks < 0 or args.repeat < 1 or args.changed < 1:
        parser.error("--changed and --repeat must be positive, --blocks non-negative")
    if args.files < args.changed + DELETED + RENAMED:
        parser.error(f"--files must leave {DELETED + RENAMED} files besides --changed")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the inputs, check the comparison, time both commands, print the tables."""
    args = parse_args(argv)
    out = args.out.resolve()
    params = input_params(args.blocks, args.files, args.changed)
    expected, gen_s = ensure_inputs(out, params, args.regenerate)
    if gen_s is None:
        print(f"Reusing the inputs in {out} (same parameters).")
    else:
        print(f"Generated the repository and {len(PROFILES)} profiles in {gen_s:.1f} s.")
    prefix, commits = covtool_argv(), expected["commits"]
    presubmit = prefix + command(out, "head", commits, "diff.json")
    noisy = prefix + command(out, "head-noisy", commits, "diff-noisy.json")
    comment = prefix + comment_command(out, commits)
    # covtool finds the repository (and its go.mod) around the working directory.
    with contextlib.chdir(out / "repo"):
        found = sanity_check(presubmit, out / "diff.json", expected)
        results: list[Result] = [
            measure("diff-presubmit", presubmit, args.repeat, BUDGET_S, echo=True),
            measure("comment-presubmit", comment, args.repeat, BUDGET_S),
            measure("diff-presubmit-noisy", noisy, args.repeat, TARGET_S, "target", echo=True),
        ]
    found_noisy = summary(out / "diff-noisy.json")
    found["comment_chars"] = check_comment(out / "comment" / "bot-post")
    print(table(results[:2]))
    print()
    print(table(results[2:], "target"))
    print(f"\n{machine_line()}")
    print(
        f"Inputs: {args.blocks:,} blocks over {args.files:,} files (mode: count); the change "
        f"edits {args.changed:,} files, deletes {DELETED}, renames {RENAMED}; found "
        f"{found['files']:,} files, {found['indirect']:,} indirect "
        f"({found_noisy['indirect']:,} when noisy), {found['patch_lines']:,} patch lines; "
        f"the comment has {found['comment_chars']:,} characters. "
        "Budgets: peak RSS < 1 GiB; the noisy time is a target, reported, not enforced."
    )
    report_targets(results)
    if args.json:
        sanity = {"presubmit": found, "noisy": found_noisy, "expected": expected}
        write_json(args.json, {**params, "repeat": args.repeat, "sanity": sanity}, gen_s, results)
    return exit_status(results, args.no_fail)


if __name__ == "__main__":
    sys.exit(main())
