"""Benchmark covtool's CLI on large synthetic Go cover profiles.

Measures the wall time (median of several runs) and the peak resident memory (max over the
runs, from ``os.wait4``'s ``ru_maxrss`` for the exact child) of four commands, each run as a
subprocess exactly as a user would run it, plug-in auto-loading and start-up included:

* ``report``: ``covtool report base.out --format json``
* ``merge``:  ``covtool merge shard1.out shard2.out shard3.out``
* ``filter``: ``covtool filter base.out --include-path ... --exclude-path ...``
* ``diff``:   ``covtool diff base.out head.out --format json``
* ``merge-disjoint``: ``covtool merge`` of three shards that cover different files (tests
  sharded by package), 3,000,000 blocks out; no budget is set for it, it is measured to
  keep the general merge path honest (the budgeted merge takes the same-blocks path)

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
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

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
MIB = 1024 * 1024
MEMORY_BUDGET_MIB = 1024.0
BUDGETS_S: dict[str, float | None] = {
    "report": 1.0,
    "merge": 2.0,
    "filter": 1.2,
    "diff": 1.5,
    "merge-disjoint": None,
}


@dataclass
class Result:
    """Measurements of one command."""

    name: str
    argv: list[str]
    times_s: list[float]
    peak_rss_mib: float
    budget_s: float | None

    @property
    def median_s(self) -> float:
        """The median wall time over the runs."""
        return statistics.median(self.times_s)

    @property
    def within_budget(self) -> bool:
        """Whether both the median time and the peak memory are within their budgets."""
        fast = self.budget_s is None or self.median_s < self.budget_s
        return fast and self.peak_rss_mib < MEMORY_BUDGET_MIB


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


def write_chunk(outs: dict[str, TextIO], lines: dict[str, list[str]]) -> None:
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


# --- Measurement ------------------------------------------------------------------------------


def covtool_argv() -> list[str]:
    """The ``covtool`` executable next to this Python, else ``python -m covtool``."""
    exe = Path(sys.executable).parent / "covtool"
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "covtool"]


def commands(out: Path) -> dict[str, list[str]]:
    """The argument vectors of the benchmarked commands, without the ``covtool`` prefix."""
    return {
        "report": ["report", f"{out}/base.out", "--format", "json", "-o", f"{out}/report.json"],
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


def run_once(argv: Sequence[str]) -> tuple[float, int]:
    """Run ``argv``; its wall seconds and the child's peak RSS in KiB. Exits if it fails."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            sys.stderr.write(err.read().decode(errors="replace"))
            sys.exit(f"command failed with status {code}: {' '.join(argv)}")
    return elapsed, usage.ru_maxrss


def measure(name: str, argv: list[str], repeat: int, budget_s: float | None) -> Result:
    """Run one command ``repeat`` times and collect its times and peak memory."""
    times, peaks = [], []
    for _ in range(repeat):
        elapsed, rss_kib = run_once(argv)
        times.append(elapsed)
        peaks.append(rss_kib)
        print(f"  {name}: {elapsed:.3f} s, {rss_kib / 1024:.0f} MiB", file=sys.stderr)
    return Result(name, argv, times, max(peaks) / 1024, budget_s)


# --- Output -----------------------------------------------------------------------------------


def machine() -> dict[str, str | int]:
    """Where the benchmark ran."""
    return {
        "nproc": os.cpu_count() or 0,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def table(results: Sequence[Result]) -> str:
    """The results as a markdown table."""
    rows = [
        "| command | median wall (s) | runs | peak RSS (MiB) | budget (s) | within budget |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        ok = "yes" if r.within_budget else "**NO**"
        budget = "—" if r.budget_s is None else f"{r.budget_s:.1f}"
        rows.append(
            f"| {r.name} | {r.median_s:.3f} | {len(r.times_s)} | {r.peak_rss_mib:.0f} "
            f"| {budget} | {ok} |"
        )
    return "\n".join(rows)


def write_json(path: Path, args: argparse.Namespace, gen_s: float | None, rs: list[Result]) -> None:
    """Write the parameters, the machine and every measurement as JSON."""
    data = {
        "blocks": args.blocks,
        "files": args.files,
        "repeat": args.repeat,
        "generation_s": gen_s,
        "memory_budget_mib": MEMORY_BUDGET_MIB,
        "machine": machine(),
        "results": [
            {**asdict(r), "median_s": r.median_s, "within_budget": r.within_budget} for r in rs
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


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
    info = machine()
    print(table(results))
    print(f"\nMachine: nproc={info['nproc']}, Python {info['python']}, {info['platform']}")
    print(f"Inputs: {args.blocks:,} blocks over {args.files:,} files; budgets: peak RSS < 1 GiB.")
    if args.json:
        write_json(args.json, args, gen_s, results)
    over = [r.name for r in results if not r.within_budget]
    if over:
        print(f"Over budget: {', '.join(over)}")
    return 1 if over and not args.no_fail else 0


if __name__ == "__main__":
    sys.exit(main())
