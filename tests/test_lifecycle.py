"""The order in which the core calls hooks, seen by a plugin that records every call."""

from __future__ import annotations

import json
import os
import stat
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest

from covtool import Artifact, ExitCode, Profile, ProfileSource, Report, ReportFormat, hookimpl
from support import Covtool

PROFILE = "mode: count\na.go:1.1,2.2 3 1\n"


class Recorder:
    """Implements the hooks the core calls today and notes each call."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def covtool_addoption(self, parser: object) -> None:
        self.calls.append("addoption")

    @hookimpl
    def covtool_configure(self, config: object) -> None:
        self.calls.append("configure")

    @hookimpl(tryfirst=True)
    def covtool_parse_profile(self, source: ProfileSource) -> Profile | None:
        self.calls.append(f"parse {source.path.name}")
        return None  # let the Go plugin claim it

    @hookimpl
    def covtool_report_formats(self) -> list[ReportFormat]:
        return [ReportFormat("count", "number of files", "count.txt")]

    @hookimpl
    def covtool_render_report(self, report: Report, formats: list[str]) -> list[Artifact]:
        self.calls.append(f"render {','.join(formats)}")
        if "count" not in formats:
            return []
        return [Artifact("count", "count.txt", f"{len(report.profile)} files\n")]

    @hookimpl
    def covtool_report_ready(self, report: Report, artifacts: list[Artifact]) -> None:
        self.calls.append(f"ready {[a.format for a in artifacts]}")

    @hookimpl
    def covtool_run_finished(self, exit_code: ExitCode) -> None:
        self.calls.append(f"finished {exit_code.name}")


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """An instance registered through ``-p covtest_lifecycle``."""
    module = ModuleType("covtest_lifecycle")
    instance = Recorder()
    module.recorder = instance  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "covtest_lifecycle", module)

    # A module plugin whose hooks are the recorder's bound methods.
    for name in dir(Recorder):
        if name.startswith("covtool_"):
            setattr(module, name, getattr(instance, name))
    return instance


def test_successful_report(covtool: Covtool, recorder: Recorder) -> None:
    covtool.write("a.out", PROFILE)
    result = covtool("report", "a.out", "-f", "count", "-p", "covtest_lifecycle")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "1 files\n"
    assert recorder.calls == [
        "addoption",
        "configure",
        "parse a.out",
        "render count",
        "ready ['count']",
        "finished OK",
    ]


def test_failure_still_finishes_with_its_exit_code(covtool: Covtool, recorder: Recorder) -> None:
    covtool.write("bad.out", "mode: count\na.go:1.1,2.2 x 1\n")
    result = covtool("report", "bad.out", "-p", "covtest_lifecycle")
    assert result.exit_code == ExitCode.INPUT_ERROR
    assert recorder.calls[-2:] == ["parse bad.out", "finished INPUT_ERROR"]


def test_output_file_is_written_whole_or_not_at_all(covtool: Covtool, recorder: Recorder) -> None:
    covtool.write("a.out", PROFILE)
    covtool.write("report.txt", "previous\n")
    assert (
        covtool(
            "report", "a.out", "-f", "count", "-o", "report.txt", "-p", "covtest_lifecycle"
        ).exit_code
        == 0
    )
    assert (covtool.path / "report.txt").read_text() == "1 files\n"
    covtool.write("bad.out", "mode: count\na.go:1.1\n")
    assert covtool("report", "bad.out", "-o", "report.txt").exit_code == ExitCode.INPUT_ERROR
    assert (covtool.path / "report.txt").read_text() == "1 files\n"
    assert sorted(p.name for p in covtool.path.iterdir()) == ["a.out", "bad.out", "report.txt"]


def test_write_atomic_leaves_no_partial_file(tmp_path: Path) -> None:
    from covtool.reporting import write_atomic

    write_atomic(tmp_path / "out" / "r.txt", "whole\n")
    assert (tmp_path / "out" / "r.txt").read_text() == "whole\n"
    (tmp_path / "out" / "taken").mkdir()
    with pytest.raises(OSError):
        write_atomic(tmp_path / "out" / "taken", b"never seen")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["r.txt", "taken"]


def test_a_pipe_or_device_as_output_is_written_through_never_replaced(
    covtool: Covtool, tmp_path: Path
) -> None:
    """``-o /dev/null`` or ``-o`` a pipe: renaming a file over it would replace the device
    (as root, /dev/null for the whole machine), so covtool writes through it instead."""
    covtool.write("a.out", "mode: set\na.go:1.1,1.5 1 1\n")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = covtool("report", "a.out", "-f", "json", "-o", fifo)
    reader.join(timeout=10)
    assert result.exit_code == ExitCode.OK, result.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(received[0])["totals"]["statements"] == 1
    assert covtool("report", "a.out", "-o", os.devnull).exit_code == ExitCode.OK
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
