"""The measurement harness shared by the benchmark scripts in this directory.

Each command is run as a subprocess exactly as a user would run it; its wall time comes from
``time.perf_counter`` around the run and its peak resident memory from ``os.wait4``'s
``ru_maxrss`` for the exact child. A command is within budget while its peak RSS is under
``MEMORY_BUDGET_MIB`` and, if its time is a *budget* (not a *target*, which is only reported),
while its median wall time is under that time.

The scripts import it as ``from harness import ...``: run as ``python bench/X.py`` they have
this directory on ``sys.path`` (they also put it there themselves, for ``python -P`` or ``-m``).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

MIB = 1024 * 1024
MEMORY_BUDGET_MIB = 1024.0

#: What a command's time is: a ``budget`` is enforced, a ``target`` only reported.
TimeKind = Literal["budget", "target"]


@dataclass
class Result:
    """Measurements of one command."""

    name: str
    argv: list[str]
    times_s: list[float]
    peak_rss_mib: float
    time_s: float | None
    time_kind: TimeKind = "budget"

    @property
    def median_s(self) -> float:
        """The median wall time over the runs."""
        return statistics.median(self.times_s)

    @property
    def within_budget(self) -> bool:
        """Whether the peak memory, and the median time if it is a budget, are within budget."""
        fast = self.time_kind == "target" or self.time_s is None or self.median_s < self.time_s
        return fast and self.peak_rss_mib < MEMORY_BUDGET_MIB

    def to_json(self) -> dict[str, object]:
        """The measurements as JSON, the time under ``budget_s`` or ``target_s``."""
        return {
            "name": self.name,
            "argv": self.argv,
            "times_s": self.times_s,
            "peak_rss_mib": self.peak_rss_mib,
            f"{self.time_kind}_s": self.time_s,
            "median_s": self.median_s,
            "within_budget": self.within_budget,
        }


# --- Measurement ------------------------------------------------------------------------------


def covtool_argv() -> list[str]:
    """The ``covtool`` executable next to this Python, else ``python -m covtool``."""
    exe = Path(sys.executable).parent / "covtool"
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "covtool"]


def run_once(argv: Sequence[str]) -> tuple[float, int, str]:
    """Run ``argv``; its wall seconds, the child's peak RSS in KiB and its output.

    The output is what the command wrote to standard output and error, together. Exits (after
    writing that output to standard error) if the command fails.
    """
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        output = err.read().decode(errors="replace")
    if code != 0:
        sys.stderr.write(output)
        sys.exit(f"command failed with status {code}: {' '.join(argv)}")
    return elapsed, usage.ru_maxrss, output


def measure(
    name: str,
    argv: list[str],
    repeat: int,
    time_s: float | None,
    time_kind: TimeKind = "budget",
    echo: bool = False,
) -> Result:
    """Run one command ``repeat`` times and collect its times and peak memory.

    Each run is logged to standard error; with ``echo``, so is its output, if it has any.
    """
    times, peaks = [], []
    for _ in range(repeat):
        elapsed, rss_kib, output = run_once(argv)
        if echo and output:
            sys.stderr.write(output)
        times.append(elapsed)
        peaks.append(rss_kib)
        print(f"  {name}: {elapsed:.3f} s, {rss_kib / 1024:.0f} MiB", file=sys.stderr)
    return Result(name, argv, times, max(peaks) / 1024, time_s, time_kind)


# --- Output -----------------------------------------------------------------------------------


def machine() -> dict[str, str | int]:
    """Where the benchmark ran."""
    return {
        "nproc": os.cpu_count() or 0,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def machine_line() -> str:
    """Where the benchmark ran, as one line for the report."""
    info = machine()
    return f"Machine: nproc={info['nproc']}, Python {info['python']}, {info['platform']}"


def table(results: Sequence[Result], time_kind: TimeKind = "budget") -> str:
    """The results as a markdown table, the time column titled after ``time_kind``."""
    rows = [
        f"| command | median wall (s) | runs | peak RSS (MiB) | {time_kind} (s) | within budget |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        ok = "yes" if r.within_budget else "**NO**"
        limit = "—" if r.time_s is None else f"{r.time_s:.1f}"
        rows.append(
            f"| {r.name} | {r.median_s:.3f} | {len(r.times_s)} | {r.peak_rss_mib:.0f} "
            f"| {limit} | {ok} |"
        )
    return "\n".join(rows)


def write_json(
    path: Path, params: dict[str, object], gen_s: float | None, results: Sequence[Result]
) -> None:
    """Write the parameters, the machine and every measurement as JSON."""
    data = {
        **params,
        "generation_s": gen_s,
        "memory_budget_mib": MEMORY_BUDGET_MIB,
        "machine": machine(),
        "results": [r.to_json() for r in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def exit_status(results: Sequence[Result], no_fail: bool) -> int:
    """Print the commands over budget, if any; 1 if there are some and ``no_fail`` is off."""
    over = [r.name for r in results if not r.within_budget]
    if over:
        print(f"Over budget: {', '.join(over)}")
    return 1 if over and not no_fail else 0
