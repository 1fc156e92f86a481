"""Benchmark covtool's HTML reports on a repository the size of Kubernetes.

Measures the wall time (median of several runs) and the peak resident memory (max over the
runs, from ``os.wait4``'s ``ru_maxrss`` for the exact child) of these commands, each run as a
subprocess exactly as a user would run it, inside the generated repository:

* ``html``: ``covtool report big.out --format html -o site``: the index and 20,000 file
  pages, every source read from the checkout; budget 30 s
* ``html-page``: ``covtool report big.out --format html-page``: the same 20,000 files on one
  page (``line-cov.html`` of a run without a comparison); no budget, measured
* ``html-page-50k``: the single page of one 50,000-line file; no budget, measured

Then, when Playwright's Python package is installed, the pages are opened in Debian's
Chromium (headless) and the times a reader waits are measured in the browser, each until the
result is painted: on the 50,000-line page its load, the "uncovered" filter and ``j`` to the
next uncovered line; on the site's index its load and a sort by coverage. These are targets
(reported, not enforced).

The inputs are generated deterministically (seeded ``random``): a Go module of 20,000 files
in 1,000 directories, whose lengths follow a log-normal distribution (median 150 lines,
about 5,000,000 lines in all; Go-like lines with tabs), and a Go cover profile whose blocks
cover about three quarters of each file's lines, about a third of them never run; and one
file of 50,000 lines with its own profile. They are reused while a stamp file says they were
made with the same parameters (``--regenerate`` forces a rewrite).

Run it, after installing covtool (``pip install -e .``), from the repository root::

    python bench/bench_html.py                      # 3 runs each, exit 1 if over budget
    python bench/bench_html.py --repeat 1 --no-fail --json bench/out/html/results.json
    python bench/bench_html.py --files 2000 --out /tmp/htmlbench
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for harness, even under python -P
from harness import covtool_argv, exit_status, machine_line, measure, table, write_json

GENERATOR_VERSION = 2
SEED = 20261121
MODULE = "example.com/big"
FILES_PER_DIR = 20
MEDIAN_LINES = 150
MAX_LINES = 5_000
HUGE_LINES = 50_000
STAMP_NAME = "inputs.stamp.json"
BUDGETS_S: dict[str, float | None] = {"html": 30.0, "html-page": None, "html-page-50k": None}
CHROMIUM = "/usr/bin/chromium"
BROWSER_TARGET_S = 2.0
#: One line's kind of code: most are statements, some blank or comments.
STATEMENTS = (
    "\tresult{n} := compute(value, {n}) // step {n}",
    '\tif err := check(ctx, "{n}"); err != nil {{',
    '\t\treturn nil, fmt.Errorf("step {n}: %w", err)',
    "\t}}",
    "\tfor i := 0; i < len(items); i++ {{ total += items[i] * {n} }}",
    '\tlog.Printf("réglage %d — ok", {n})',
)


# --- Inputs -----------------------------------------------------------------------------------


def file_path(index: int) -> str:
    """The repository path of source file ``index``."""
    return f"pkg/d{index // FILES_PER_DIR:04d}/file{index:05d}.go"


def source_text(index: int, lines: int) -> str:
    """A Go-like file of ``lines`` lines: a header, then functions of statements."""
    out = [f"package d{index // FILES_PER_DIR:04d}", ""]
    n = 2
    while n < lines:
        if n % 25 == 2:
            out.append(f"func step{n}(ctx context.Context, value int) (int, error) {{")
        elif n % 25 == 0:
            out.append("}")
        elif n % 7 == 0:
            out.append("")
        else:
            out.append(STATEMENTS[n % len(STATEMENTS)].format(n=n))
        n += 1
    return "\n".join(out[:lines]) + "\n"


def blocks(rng: random.Random, lines: int) -> Iterator[tuple[int, int, int, int]]:
    """Blocks ``(start, end, statements, count)`` over about three quarters of the lines."""
    line = 3
    while line < lines:
        end = min(lines, line + rng.randint(0, 7))
        count = 0 if rng.random() < 0.3 else rng.randint(1, 50)
        yield line, end, end - line + 1, count
        line = end + 1 + rng.choice((0, 0, 1, 3))


def profile_lines(rng: random.Random, path: str, lines: int) -> Iterator[str]:
    """A file's lines of a Go cover profile."""
    for start, end, statements, count in blocks(rng, lines):
        yield f"{MODULE}/{path}:{start}.2,{end}.20 {statements} {count}\n"


def file_lengths(rng: random.Random, files: int) -> list[int]:
    """Log-normal file lengths: median ``MEDIAN_LINES``, between 20 and ``MAX_LINES``."""
    return [
        int(min(MAX_LINES, max(20, rng.lognormvariate(math.log(MEDIAN_LINES), 1.0))))
        for _ in range(files)
    ]


def write_inputs(out: Path, files: int) -> int:
    """The repository (``out/repo``) and its profiles; returns the number of source lines."""
    repo = out / "repo"
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    # Its own (empty) git repository: under bench/out it would otherwise be part of
    # covtool's checkout, where it is ignored and its go.mod is not listed.
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "go.mod").write_text(f"module {MODULE}\n\ngo 1.19\n")
    rng = random.Random(SEED)
    lengths = file_lengths(rng, files)
    with (out / "big.out").open("w") as profile:
        profile.write("mode: count\n")
        for index, lines in enumerate(lengths):
            path = file_path(index)
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_text(source_text(index, lines))
            profile.writelines(profile_lines(rng, path, lines))
    huge = "pkg/huge/huge.go"
    (repo / huge).parent.mkdir(parents=True)
    (repo / huge).write_text(source_text(0, HUGE_LINES))
    with (out / "huge.out").open("w") as profile:
        profile.write("mode: count\n")
        profile.writelines(profile_lines(rng, huge, HUGE_LINES))
    return sum(lengths)


def ensure_inputs(out: Path, files: int, regenerate: bool) -> float | None:
    """Generate the inputs unless the stamp matches; the seconds taken, or None if reused."""
    params = {"version": GENERATOR_VERSION, "seed": SEED, "files": files}
    stamp = out / STAMP_NAME
    if not regenerate and stamp.is_file() and (out / "huge.out").is_file():
        with contextlib.suppress(ValueError):
            if json.loads(stamp.read_text()).get("params") == params:
                return None
    out.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    start = time.perf_counter()
    lines = write_inputs(out, files)
    elapsed = time.perf_counter() - start
    stamp.write_text(json.dumps({"params": params, "lines": lines}, indent=2) + "\n")
    return elapsed


# --- Commands and checks ----------------------------------------------------------------------


def commands(out: Path) -> dict[str, list[str]]:
    """The argument vectors of the benchmarked commands, without the ``covtool`` prefix."""
    root = ("--root", f"{out}/repo")
    return {
        "html": ["report", f"{out}/big.out", "--format", "html", "-o", f"{out}/site", *root],
        "html-page": [
            *("report", f"{out}/big.out", "--format", "html-page"),
            *("-o", f"{out}/page.html", *root),
        ],
        "html-page-50k": [
            *("report", f"{out}/huge.out", "--format", "html-page"),
            *("-o", f"{out}/huge.html", *root),
        ],
    }


def check_outputs(out: Path, files: int) -> None:
    """Exit if the site lacks a page, or a page lacks its source or a line of it."""
    site = out / "site"
    pages = sum(1 for _ in site.glob("*.html"))
    if pages != files + 1:
        sys.exit(f"the site has {pages} pages, expected {files + 1}")
    first = next(site.glob("pkg_d0000_file00000.go_*.html")).read_text()
    if "<code>package d0000</code>" not in first or "The source is not shown" in first:
        sys.exit("the first file's page does not show its source")
    huge = (out / "huge.html").read_text()
    rows = huge.count('<div id="f0-L')
    if rows != HUGE_LINES or "The source is not shown" in huge:
        sys.exit(f"the 50,000-line page has {rows} line rows, or no source")


# --- The browser ------------------------------------------------------------------------------


def browse(out: Path, repeat: int) -> dict[str, float] | None:
    """Median seconds a reader waits in Chromium: on the 50,000-line page, the load, the
    filter and the next uncovered line; on the site's index, the load and a sort by
    coverage. None without Playwright or Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    runs: dict[str, list[float]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        for _ in range(repeat):
            for url, steps in (
                ((out / "huge.html").as_uri(), PAGE_STEPS),
                ((out / "site" / "index.html").as_uri(), INDEX_STEPS),
            ):
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                for name, seconds in _reading(page, url, steps).items():
                    runs.setdefault(name, []).append(seconds)
                page.close()
        browser.close()
    return {name: statistics.median(times) for name, times in runs.items()}


#: What a reader does on a page: (name, action), each timed until the result is painted.
Steps = tuple[tuple[str, Callable[[Any, str], Any]], ...]
PAGE_STEPS: Steps = (
    ("50k-line page: load", lambda page, url: page.goto(url, wait_until="load")),
    ("50k-line page: uncovered filter", lambda page, _: page.click("[data-filter=uncovered]")),
    ("50k-line page: j to the next", lambda page, _: page.keyboard.press("j")),
)
INDEX_STEPS: Steps = (
    ("index: load", lambda page, url: page.goto(url, wait_until="load")),
    ("index: sort by coverage", lambda page, _: page.click("#tree th:nth-child(5) button")),
)


def _reading(page: Any, url: str, steps: Steps) -> dict[str, float]:
    """Seconds each step takes until the page has painted its result."""
    painted = "() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))"
    seconds = {}
    for name, step in steps:
        start = time.perf_counter()
        step(page, url)
        page.evaluate(painted)
        seconds[name] = time.perf_counter() - start
    return seconds


# --- Main -------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = Path(__file__).resolve().parent / "out" / "html"
    parser.add_argument("--out", type=Path, default=default_out, help="output directory")
    parser.add_argument("--files", type=int, default=20_000, help="source files")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command")
    parser.add_argument("--regenerate", action="store_true", help="rewrite the inputs")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even if over budget")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = parser.parse_args(argv)
    if args.files < 1 or args.repeat < 1:
        parser.error("--files and --repeat must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the inputs, run every command, open the big page; 1 if over budget."""
    args = parse_args(argv)
    out = args.out.resolve()
    gen_s = ensure_inputs(out, args.files, args.regenerate)
    lines = json.loads((out / STAMP_NAME).read_text())["lines"]
    if gen_s is None:
        print(f"Reusing the inputs in {out} (same parameters).")
    else:
        print(f"Generated {args.files:,} files ({lines:,} lines) in {gen_s:.1f} s.")
    prefix = covtool_argv()
    with contextlib.chdir(out / "repo"):
        results = [
            measure(name, prefix + cmd, args.repeat, BUDGETS_S[name])
            for name, cmd in commands(out).items()
        ]
    check_outputs(out, args.files)
    print(table(results))
    browser = browse(out, args.repeat)
    if browser is None:
        print("\nChromium: not measured (no playwright package or no /usr/bin/chromium).")
    else:
        print(f"\nChromium (median of {args.repeat}; target {BROWSER_TARGET_S:.1f} s each):")
        for name, seconds in browser.items():
            print(f"- {name}: {seconds:.3f} s")
    print(f"\n{machine_line()}")
    print(f"Inputs: {args.files:,} files, {lines:,} lines; budgets: peak RSS < 1 GiB.")
    if args.json:
        params = {"files": args.files, "lines": lines, "repeat": args.repeat, "browser": browser}
        write_json(args.json, params, gen_s, results)
    return exit_status(results, args.no_fail)


if __name__ == "__main__":
    sys.exit(main())
