"""How ``covtool run`` tells its steps: one plain line each in a CI log, styled on a terminal.

A CI log is read later, often searched: every line starts with ``covtool:`` and a step
says where it is (``[2/5]``). On a terminal the same steps are drawn with rich, each with
a tick and its time when it is done. Test output and warnings go to their own streams in
between, so nothing here redraws a line.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape

from covtool.run import Run


class Steps:
    """Announces the steps of one run, numbered from 1 to ``total``."""

    def __init__(self, run: Run, total: int) -> None:
        self.run = run
        self.total = total
        self.count = 0
        self.started = time.perf_counter()
        terminal = run.stderr.isatty() and run.environ.get("TERM") != "dumb"
        self.console = Console(file=run.stderr, highlight=False) if terminal else None

    def say(self, text: str) -> None:
        """One line of news that is no step (what the run is, what it waits for)."""
        if self.console is not None:
            self.console.print(f"[dim]covtool:[/] {escape(text)}")
        else:
            print(f"covtool: {text}", file=self.run.stderr, flush=True)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        """Announce the next step while it runs; on a terminal, tick it off when done."""
        self.count += 1
        where = f"[{self.count}/{self.total}]"
        began = time.perf_counter()
        if self.console is None:
            print(f"covtool: {where} {title}", file=self.run.stderr, flush=True)
            yield
            return
        self.console.print(f"[bold cyan]{escape(where)} {escape(title)}[/] …")
        yield
        seconds = time.perf_counter() - began
        self.console.print(f"[green]✓[/] {escape(title)} [dim]{seconds:.1f}s[/]")

    def elapsed(self) -> float:
        """Seconds since the first announcement was made possible."""
        return time.perf_counter() - self.started
