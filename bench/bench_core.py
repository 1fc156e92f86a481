"""Benchmark covtool's CLI on large synthetic Go cover profiles.

Measures the wall time (median of several runs) and the peak resident memory (max over the
runs, from ``os.wait4``'s ``ru_maxrss`` for the exact child) of these commands, each run as a
subprocess exactly as a user would run it, plug-in auto-loading and start-up included:

* ``report``: ``covtool report base.out --format json``
* ``merge``:  ``covtool merge shard1.out shard2.out shard3.out``
* ``filter``: ``covtool filter base.out --include-path ... --exclude-path ...``
* ``diff``:   ``covtool diff base.out head.out --format json``
* ``merge-disjoint``: ``covtool merge`` of three shards that cover different files (tests
  sharded by package), 3,000,000 blocks out; no budget is set for it, it is measured to
  keep the general merge path honest (the budgeted merge takes the same-blocks path)
* ``junit``: ``covtool report base.out --format junit``, the TestGrid XML of 21,001 rows
  (overall, 20,000 files, 1,000 directories); no budget is set for it

The inputs are generated deterministically (seeded ``random``): by default 1,000,000 blocks
over 20,000 files, ``mode: count``. They are reused on later runs while a stamp file says they
were made with the same parameters (``--regenerate`` forces a rewrite).

Run it, after installing covtool (``pip install -e .``), from the repository root::

    python bench/bench_core.py                      # 3 runs each, exit 1 if over budget
    python bench/bench_core.py --repeat 5 --no-fail --json bench/out/results.json
    python bench/bench_core.py --blocks 100000 --files 2000 --out /tmp/covbench
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for harness, even under python -P
from harness import covtool_argv, exit_status, machine_line, measure, table, write_json

GENERATOR_VERSION = 2
SEED = 20240611
FILES_PER_DIR = 20
PATH_PREFIX = "k8s.io/kubernetes/pkg"
PROFILES = ("base", "head", "shard1", "shard2", "shard3")
#: Shards of other packages: a shard's blocks moved under another path prefix.
DISJOINT = {
    "pkgshard2": ("shard2", "k8s.io/kubernetes/staging"),
    "pkgshard3": ("shard3", "k8s.io/kubernetes/cmd"),
}
STAMP_NAME = "profiles.stamp.json"
FLUSH_EVERY_FILES = 500
HEAD_CHANGE_RATE = 0.10
BUDGETS_S: dict[str, float | None] = {
    "report": 1.0,
    "merge": 2.0,
    "filter": 1.2,
    "diff": 1.5,
    "merge-disjoint": None,
    "junit": None,
}


# --- Generation -------------------------------------------------------------------------------


def file_path(index: int) -> str:
    """The realistic Go path of source file ``index`` (20 files per directory)."""
    return f"{PATH_PREFIX}/dir{index // FILES_PER_DIR:04d}/sub/file{index:05d}.go"


def blocks_per_file(blocks: int, files: int) -> Iterator[int]:
    """Split ``blocks`` over ``files`` as evenly as possible, the first files taking the rest."""
    share, rest = divmod(blocks, files)
    for index in range(files):
        yield share + (1 if index < rest else 0)


def make_spans(rng: random.Random, path: str, count: int) -> list[str]:
    """``count`` non-overlapping ``path:SL.SC,EL.EC NUMSTMT`` prefixes, in source order."""
    r = rng.random
    spans = []
    line, col = 3 + int(r() * 30), 1
    for _ in range(count):
        if r() < 0.25 and col < 60:  # starts on the line the previous block ended on
            start_line, start_col = line, col + 1 + int(r() * 4)
        else:
            start_line, start_col = line + 1 + int(r() * 6), 2 + int(r() * 30)
        end_line = start_line + int(r() * r() * 40)
        if end_line == start_line:
            end_col = start_col + 2 + int(r() * (80 - start_col))
        else:
            end_col = 2 + int(r() * 60)
        statements = min(5, int(r() * r() * 7))
        spans.append(f"{path}:{start_line}.{start_col},{end_line}.{end_col} {statements} ")
        line, col = end_line, end_col
    return spans


def draw_count(r: Callable[[], float]) -> int:
    """A hit count: mostly 0 or small, sometimes large (up to about a million)."""
    x = r()
    if x < 0.40:
        return 0
    if x < 0.85:
        return 1 + int(r() * 10)
    if x < 0.98:
        return 11 + int(r() * 990)
    return 1001 + int(r() * 999_000)


def head_count(r: Callable[[], float], base: int) -> int:
    """``base``, or (about 10% of the time) a changed count that flips coverage half the time."""
    if r() >= HEAD_CHANGE_RATE:
        return base
    if base == 0:
        return 1 + int(r() * 50)
    return 0 if r() < 0.5 else base + 1 + int(r() * 100)


def write_chunk(outs: Mapping[str, TextIO], lines: dict[str, list[str]]) -> None:
    """Write and clear the buffered lines of every profile."""
    for name, buffered in lines.items():
        outs[name].write("".join(buffered))
        buffered.clear()


def file_lines(
    spans: list[str], rngs: dict[str, random.Random], lines: dict[str, list[str]]
) -> None:
    """Append one source file's blocks, with each profile's counts, to ``lines``."""
    base_r, head_r = rngs["base"].random, rngs["head"].random
    base = [draw_count(base_r) for _ in spans]
    counts = {
        "base": base,
        "head": [head_count(head_r, c) for c in base],
        **{s: [draw_count(rngs[s].random) for _ in spans] for s in PROFILES[2:]},
    }
    for name, values in counts.items():
        lines[name].extend([f"{span}{value}\n" for span, value in zip(spans, values, strict=True)])


def write_profiles(out: Path, blocks: int, files: int) -> None:
    """Write all profiles in one pass over the source files, sharing the block spans."""
    span_rng = random.Random(f"{SEED}-spans")
    rngs = {name: random.Random(f"{SEED}-{name}") for name in PROFILES}
    lines: dict[str, list[str]] = {name: [] for name in PROFILES}
    with contextlib.ExitStack() as stack:
        outs = {n: stack.enter_context(open(out / f"{n}.out", "w")) for n in PROFILES}
        for f in outs.values():
            f.write("mode: count\n")
        for index, count in enumerate(blocks_per_file(blocks, files)):
            file_lines(make_spans(span_rng, file_path(index), count), rngs, lines)
            if index % FLUSH_EVERY_FILES == FLUSH_EVERY_FILES - 1:
                write_chunk(outs, lines)
        write_chunk(outs, lines)
    for name, (source, prefix) in DISJOINT.items():
        text = (out / f"{source}.out").read_text()
        (out / f"{name}.out").write_text(text.replace(f"\n{PATH_PREFIX}/", f"\n{prefix}/"))


def ensure_profiles(out: Path, blocks: int, files: int, regenerate: bool) -> float | None:
    """Generate the profiles unless the stamp matches; the seconds taken, or None if reused."""
    params = {"version": GENERATOR_VERSION, "seed": SEED, "blocks": blocks, "files": files}
    stamp = out / STAMP_NAME
    present = all((out / f"{n}.out").is_file() for n in (*PROFILES, *DISJOINT))
    if not regenerate and present and stamp.is_file():
        with contextlib.suppress(ValueError):
            if json.loads(stamp.read_text()) == params:
                return None
    out.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    start = time.perf_counter()
    write_profiles(out, blocks, files)
    elapsed = time.perf_counter() - start
    stamp.write_text(json.dumps(params, indent=2) + "\n")
    return elapsed


# --- Commands ---------------------------------------------------------------------------------


def commands(out: Path) -> dict[str, list[str]]:
    """The argument vectors of the benchmarked commands, without the ``covtool`` prefix."""
    return {
        "report": ["report", f"{out}/base.out", "--format", "json", "-o", f"{out}/report.json"],
        "junit": ["report", f"{out}/base.out", "--format", "junit", "-o", f"{out}/junit.xml"],
        "merge": ["merge", *(f"{out}/shard{i}.out" for i in (1, 2, 3)), "-o", f"{out}/merged.out"],
        "filter": [
            "filter",
            f"{out}/base.out",
            "--include-path",
            "pkg/dir0[0-4]",
            "--exclude-path",
            "file0001",
            "-o",
            f"{out}/filtered.out",
        ],
        "diff": [
            "diff",
            f"{out}/base.out",
            f"{out}/head.out",
            "--format",
            "json",
            "-o",
            f"{out}/diff.json",
        ],
        "merge-disjoint": [
            "merge",
            f"{out}/shard1.out",
            *(f"{out}/{name}.out" for name in DISJOINT),
            "-o",
            f"{out}/merged-disjoint.out",
        ],
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = Path(__file__).resolve().parent / "out"
    parser.add_argument("--out", type=Path, default=default_out, help="output directory")
    parser.add_argument("--blocks", type=int, default=1_000_000, help="blocks per profile")
    parser.add_argument("--files", type=int, default=20_000, help="source files per profile")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command")
    parser.add_argument("--regenerate", action="store_true", help="rewrite the profiles")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even if over budget")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = parser.parse_args(argv)
    if args.files < 1 or args.blocks < 0 or args.repeat < 1:
        parser.error("--files and --repeat must be positive, --blocks non-negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the inputs, run every command, print the table; 1 if over budget."""
    args = parse_args(argv)
    out = args.out.resolve()
    gen_s = ensure_profiles(out, args.blocks, args.files, args.regenerate)
    if gen_s is None:
        print(f"Reusing the profiles in {out} (same parameters).")
    else:
        print(f"Generated {len(PROFILES)} profiles of {args.blocks:,} blocks in {gen_s:.1f} s.")
    prefix = covtool_argv()
    results = [
        measure(name, prefix + cmd, args.repeat, BUDGETS_S[name])
        for name, cmd in commands(out).items()
    ]
    print(table(results))
    print(f"\n{machine_line()}")
    print(f"Inputs: {args.blocks:,} blocks over {args.files:,} files; budgets: peak RSS < 1 GiB.")
    if args.json:
        params = {"blocks": args.blocks, "files": args.files, "repeat": args.repeat}
        write_json(args.json, params, gen_s, results)
    return exit_status(results, args.no_fail)


if __name__ == "__main__":
    sys.exit(main())
