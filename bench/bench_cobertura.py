"""Benchmark covtool's Cobertura reader (and writer) on a large synthetic Cobertura file.

Measures the wall time (median of several runs) and the peak resident memory (max over the
runs, from ``os.wait4``'s ``ru_maxrss`` for the exact child) of each command, run as a
subprocess exactly as a user would run it, interpreter start-up and plug-in loading included:

* ``read``:  ``covtool report big.xml --format json``: stream 1,000,000 ``<line>`` elements
  through expat into the columnar profile, totals per file and directory, JSON
* ``write``: ``covtool report big.xml --format cobertura``: the same read, then the whole
  profile written back as Cobertura XML, streamed a few hundred classes at a time

The input is generated deterministically (seeded ``random``): by default 20,000 classes (one
per file, 20 files a package) holding 1,000,000 lines, about 10% of them branch lines with a
``condition-coverage``, and, in every other class, a ``<methods>`` section repeating some of
its lines (which a reader must not count twice). Its header totals agree with its body. It is
reused on later runs while a stamp file says it was made with the same parameters
(``--regenerate`` forces a rewrite).

Budget: peak RSS < 1 GiB for every command (exit 1 if exceeded, unless ``--no-fail``). The
reader's speed target, 3 s for a million lines, is reported, not enforced: timings on a
shared machine vary too much to fail on.

Run it, after installing covtool (``pip install -e .``), from the repository root::

    python bench/bench_cobertura.py                  # 3 runs each
    python bench/bench_cobertura.py --repeat 5 --no-fail --json bench/out/cobertura.json
    python bench/bench_cobertura.py --lines 100000 --classes 2000 --out /tmp/cobbench
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for harness, even under python -P
from harness import MIB, covtool_argv, exit_status, machine_line, measure, table, write_json

GENERATOR_VERSION = 1
SEED = 20241121
CLASSES_PER_PACKAGE = 20
BRANCH_RATE = 0.10
STAMP_NAME = "big.stamp.json"
INPUT_NAME = "big.xml"
FLUSH_EVERY_CLASSES = 500
TARGETS_S: dict[str, float | None] = {"read": 3.0, "write": None}
_LINE = '\t\t\t\t\t\t<line number="%d" hits="%d"/>\n'
_BRANCH = (
    '\t\t\t\t\t\t<line number="%d" hits="%d" branch="true" condition-coverage="%d%% (%d/%d)"/>\n'
)
_METHOD_LINE = '\t\t\t\t\t\t\t\t<line number="%d" hits="%d"/>\n'


@dataclass
class Totals:
    """What the generated body holds, for the header to state."""

    lines: int = 0
    covered: int = 0
    branches: int = 0
    branches_covered: int = 0


# --- Generation -------------------------------------------------------------------------------


def lines_per_class(lines: int, classes: int) -> Iterator[int]:
    """Split ``lines`` over ``classes`` as evenly as possible, the first classes taking the rest."""
    share, rest = divmod(lines, classes)
    for index in range(classes):
        yield share + (1 if index < rest else 0)


def draw_hits(x: float) -> int:
    """A hit count from a uniform ``x``: mostly 0 or small, sometimes large."""
    if x < 0.30:
        return 0
    if x < 0.85:
        return 1 + int(x * 1000) % 9
    if x < 0.98:
        return 10 + int(x * 100_000) % 990
    return 1000 + int(x * 10**9) % 10**6


def class_xml(rng: random.Random, index: int, count: int, totals: Totals) -> str:
    """One ``<class>`` of ``count`` lines, its totals added to ``totals``."""
    r = rng.random
    package = index // CLASSES_PER_PACKAGE
    path = f"src/pkg{package:04d}/module{index:05d}.py"
    parts: list[str] = []
    method_lines: list[str] = []
    line = 1 + int(r() * 20)
    for _ in range(count):
        hits = draw_hits(r())
        totals.lines += 1
        totals.covered += hits > 0
        if r() < BRANCH_RATE:
            total = 2 + int(r() * 3)
            covered = min(total, int(r() * (total + 1))) if hits else 0
            totals.branches += total
            totals.branches_covered += covered
            parts.append(_BRANCH % (line, hits, 100 * covered // total, covered, total))
        else:
            parts.append(_LINE % (line, hits))
        if index % 2 and len(method_lines) < 8:
            method_lines.append(_METHOD_LINE % (line, hits))
        line += 1 + int(r() * r() * 4)
    head = (
        f'\t\t\t\t<class name="module{index:05d}.py" filename="{path}" complexity="0" '
        'line-rate="0" branch-rate="0">\n'
    )
    if method_lines:
        methods = (
            '\t\t\t\t\t<methods>\n\t\t\t\t\t\t<method name="run" signature="()V">\n'
            f"\t\t\t\t\t\t\t<lines>\n{''.join(method_lines)}\t\t\t\t\t\t\t</lines>\n"
            "\t\t\t\t\t\t</method>\n\t\t\t\t\t</methods>\n"
        )
    else:
        methods = "\t\t\t\t\t<methods/>\n"
    body = "".join(parts)
    return f"{head}{methods}\t\t\t\t\t<lines>\n{body}\t\t\t\t\t</lines>\n\t\t\t\t</class>\n"


def write_body(stream: TextIO, lines: int, classes: int) -> Totals:
    """Write the ``<packages>`` of the document; returns what they hold."""
    rng = random.Random(SEED)
    totals = Totals()
    buffered: list[str] = []
    for index, count in enumerate(lines_per_class(lines, classes)):
        if index % CLASSES_PER_PACKAGE == 0:
            if index:
                buffered.append("\t\t\t</classes>\n\t\t</package>\n")
            name = f"src.pkg{index // CLASSES_PER_PACKAGE:04d}"
            buffered.append(f'\t\t<package name="{name}" complexity="0">\n\t\t\t<classes>\n')
        buffered.append(class_xml(rng, index, count, totals))
        if index % FLUSH_EVERY_CLASSES == FLUSH_EVERY_CLASSES - 1:
            stream.write("".join(buffered))
            buffered.clear()
    buffered.append("\t\t\t</classes>\n\t\t</package>\n")
    stream.write("".join(buffered))
    return totals


def write_input(path: Path, lines: int, classes: int) -> None:
    """Write the document: the body goes to a scratch file first, so the header can state
    its totals (as every producer's header does)."""
    with tempfile.TemporaryFile("w+", dir=path.parent) as body:
        totals = write_body(body, lines, classes)
        body.seek(0)
        with path.open("w") as out:
            out.write(
                '<?xml version="1.0" ?>\n'
                f'<coverage version="bench" timestamp="0" lines-valid="{totals.lines}" '
                f'lines-covered="{totals.covered}" line-rate="0" '
                f'branches-valid="{totals.branches}" '
                f'branches-covered="{totals.branches_covered}" branch-rate="0" complexity="0">\n'
                "\t<sources>\n\t\t<source>/home/bench/project</source>\n\t</sources>\n"
                "\t<packages>\n"
            )
            while chunk := body.read(1 << 20):
                out.write(chunk)
            out.write("\t</packages>\n</coverage>\n")


def ensure_input(out: Path, lines: int, classes: int, regenerate: bool) -> float | None:
    """Generate the input unless the stamp matches; the seconds taken, or None if reused."""
    params = {"version": GENERATOR_VERSION, "seed": SEED, "lines": lines, "classes": classes}
    stamp = out / STAMP_NAME
    if not regenerate and (out / INPUT_NAME).is_file() and stamp.is_file():
        with contextlib.suppress(ValueError):
            if json.loads(stamp.read_text()) == params:
                return None
    out.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    start = time.perf_counter()
    write_input(out / INPUT_NAME, lines, classes)
    elapsed = time.perf_counter() - start
    stamp.write_text(json.dumps(params, indent=2) + "\n")
    return elapsed


# --- Commands ---------------------------------------------------------------------------------


def commands(out: Path) -> dict[str, list[str]]:
    """The argument vectors of the benchmarked commands, without the ``covtool`` prefix."""
    big = f"{out}/{INPUT_NAME}"
    return {
        "read": ["report", big, "--format", "json", "-o", f"{out}/report.json"],
        "write": ["report", big, "--format", "cobertura", "-o", f"{out}/written.xml"],
    }


def check_totals(out: Path, lines: int) -> None:
    """The report must count every line once: methods' copies are not lines of their own."""
    data = json.loads((out / "report.json").read_text())
    counted = data["totals"]["statements"]
    if counted != lines:
        sys.exit(f"the report counts {counted:,} lines; the input holds {lines:,}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = Path(__file__).resolve().parent / "out" / "cobertura"
    parser.add_argument("--out", type=Path, default=default_out, help="output directory")
    parser.add_argument("--lines", type=int, default=1_000_000, help="<line> elements in all")
    parser.add_argument("--classes", type=int, default=20_000, help="classes (files)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command")
    parser.add_argument("--regenerate", action="store_true", help="rewrite the input")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even if over budget")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = parser.parse_args(argv)
    if args.classes < 1 or args.lines < 0 or args.repeat < 1:
        parser.error("--classes and --repeat must be positive, --lines non-negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the input, run every command, print the table; 1 if over budget."""
    args = parse_args(argv)
    out = args.out.resolve()
    gen_s = ensure_input(out, args.lines, args.classes, args.regenerate)
    size = (out / INPUT_NAME).stat().st_size / MIB
    if gen_s is None:
        print(f"Reusing {out / INPUT_NAME} ({size:.0f} MiB, same parameters).")
    else:
        print(f"Generated {out / INPUT_NAME} ({size:.0f} MiB) in {gen_s:.1f} s.")
    prefix = covtool_argv()
    # The generated header agrees with its body: the commands should say nothing (echo it if so).
    results = [
        measure(name, prefix + cmd, args.repeat, TARGETS_S[name], "target", echo=True)
        for name, cmd in commands(out).items()
    ]
    check_totals(out, args.lines)
    print(table(results, "target"))
    print(f"\n{machine_line()}")
    print(
        f"Input: {args.lines:,} lines over {args.classes:,} classes, {size:.0f} MiB; "
        "budget: peak RSS < 1 GiB; the read target is reported, not enforced."
    )
    if args.json:
        params = {
            "lines": args.lines,
            "classes": args.classes,
            "repeat": args.repeat,
            "input_bytes": (out / INPUT_NAME).stat().st_size,
        }
        write_json(args.json, params, gen_s, results)
    return exit_status(results, args.no_fail)


if __name__ == "__main__":
    sys.exit(main())
