"""Running a repository's test command: output streamed live and saved, children cleaned up.

Every line the command prints goes to the terminal as it comes and into the run's test log
(``stdout.txt``). On a terminal a status line shows the runner, the time so far and, when the
runner can tell, how many packages are done; in CI (no terminal) there are plain lines only.
The command runs in its own process group, so when covtool stops — it finished, it failed,
or it was sent SIGTERM or Ctrl-C — no test process is left behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from covtool.errors import UsageError

if TYPE_CHECKING:
    from covtool.run import Run

#: Seconds a test process group gets to end after SIGTERM before SIGKILL.
GRACE_SECONDS = 5.0


class Terminated(BaseException):
    """covtool received SIGTERM. A BaseException, so no ``except Exception`` swallows it."""


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into ``Terminated`` while the block runs, so cleanup code runs."""

    def handler(signum: int, frame: object) -> None:
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_command(
    run: Run,
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    label: str = "",
    done: Callable[[str], bool] | None = None,
) -> int:
    """Run ``argv``, streaming its output; returns its exit status.

    :param label: what the status line calls the command (the runner's name).
    :param done: called with each output line; True when it reports one more package done.
    A command that cannot be started is a ``UsageError`` naming it and why.
    """
    shown = " ".join(argv)
    run.test_log_write(f"$ {shown}\n")
    try:
        child = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one
        )
    except OSError as error:
        raise UsageError(f"cannot run {shown!r} in {cwd}: {error.strerror}") from None
    try:
        assert child.stdout is not None
        _stream(run, child.stdout, label or argv[0], done)
        return child.wait()
    finally:
        _stop(child)


def _stream(run: Run, pipe: IO[bytes], label: str, done: Callable[[str], bool] | None) -> None:
    started = time.monotonic()
    finished = 0
    console = Console(file=run.stdout, force_terminal=run.color) if run.color else None
    status = console.status(f"{label}: running") if console else None
    if status:
        status.start()
    try:
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", "replace")
            run.test_log_write(line)
            if done is not None and done(line):
                finished += 1
            if console and status:
                console.print(Text(line.rstrip("\n")), highlight=False)
                elapsed = time.monotonic() - started
                plural = "" if finished == 1 else "s"
                packages = f", {finished} package{plural} done" if done else ""
                status.update(f"{label}: {elapsed:.0f}s{packages}")
            else:
                run.stdout.write(line)
                run.stdout.flush()
    finally:
        if status:
            status.stop()


def _stop(child: subprocess.Popen[bytes]) -> None:
    """End the child's whole process group: SIGTERM, then SIGKILL after a grace period.

    Also after a normal finish, for anything the tests left running in the background.
    """
    _signal_group(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline:
        if child.poll() is not None and not _group_alive(child.pid):
            return
        time.sleep(0.02)
    _signal_group(child.pid, signal.SIGKILL)
    child.wait()


def _signal_group(group: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(group, sig)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
