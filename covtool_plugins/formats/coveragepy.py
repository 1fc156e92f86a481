"""coverage.py data: its JSON report (``coverage json``), and ``.coverage`` data files.

The JSON report (format 3) lists per file the ``executed_lines`` and ``missing_lines`` (the
statements), and with ``--branch`` the ``executed_branches`` and ``missing_branches`` as
``[from, to]`` arcs. covtool keeps one line per statement (hits 1 or 0: coverage.py records
no counts) and counts each arc on its ``from`` line, so a line that ran with an arc not taken
is PARTIAL. The combined figure is coverage.py's own: covered statements and arcs over all
statements and arcs. ``summary`` and ``totals`` are never trusted: recomputed, compared, and
a disagreement is warned of once.

A ``.coverage`` file (SQLite) records only what ran; the statements come from analysing the
source. It is read through coverage.py's own API (``Coverage.json_report``), in the current
directory with the repository's coverage configuration, so the figures are coverage.py's.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from covtool import (
    InputError,
    LineProfileBuilder,
    Profile,
    ProfileSource,
    ReportFormat,
    Run,
    Totals,
    UsageError,
    header_disagreement,
    hookimpl,
    load_json,
)

NAME = "coveragepy"
SQLITE_MAGIC = b"SQLite format 3\x00"
_JSON_HEAD = re.compile(rb'^\s*\{\s*"meta"\s*:\s*\{[^}]*"format"\s*:\s*\d')


@hookimpl
def covtool_report_formats() -> list[ReportFormat]:
    """coverage.py's formats are read, not written (``cobertura`` and ``lcov`` are)."""
    description = "coverage.py JSON report or .coverage data file (read only)"
    return [ReportFormat(NAME, description, "coverage.json", readable=True, writable=False)]


@hookimpl
def covtool_parse_profile(source: ProfileSource, run: Run) -> Profile | None:
    """Claim coverage.py JSON reports and ``.coverage`` data files."""
    if source.format not in (None, NAME):
        return None
    head = source.head(512)
    if head.startswith(SQLITE_MAGIC):
        return _parse_json(_json_from_data_file(source), source.name, run)
    if source.format == NAME or _JSON_HEAD.match(head):
        return _parse_json(source.read(), source.name, run)
    return None


def _parse_json(data: bytes, name: str, run: Run) -> Profile:
    document = load_json(data, name)
    files = _field(document, "files", dict, name)
    version = _field(_field(document, "meta", dict, name), "format", int, name, "meta")
    if version not in (2, 3):
        raise InputError(
            name, f"meta.format: coverage.py JSON format {version} is not supported (2 or 3 is)"
        )
    builder = LineProfileBuilder(NAME, name)
    claimed: Totals | None = Totals()  # None once a file has no summary to compare
    for path, data_of_file in files.items():
        where = f"files[{path!r}]"
        if not isinstance(data_of_file, dict):
            raise InputError(name, f"{where}: expected an object")
        summary = _add_file(builder, path.replace("\\", "/"), data_of_file, name, where)
        claimed = None if claimed is None or summary is None else claimed + summary
    profile = builder.build()
    message = None if claimed is None else header_disagreement(name, claimed, profile.totals())
    if message:
        run.warn(message)
    return profile


def _add_file(
    builder: LineProfileBuilder, path: str, data: dict[str, Any], name: str, where: str
) -> Totals | None:
    """Add one file's statements and arcs; returns what its ``summary`` claims, if any."""
    executed = _lines(data, "executed_lines", name, where)
    missing = _lines(data, "missing_lines", name, where)
    arcs: dict[int, list[int]] = {}  # from-line: [arcs, arcs taken]
    for key, taken in (("executed_branches", 1), ("missing_branches", 0)):
        for arc in data.get(key, []):
            if not (
                isinstance(arc, list) and len(arc) == 2 and all(isinstance(n, int) for n in arc)
            ):
                raise InputError(
                    name, f"{where}.{key}: expected [from, to] pairs of integers, got {arc!r}"
                )
            counts = arcs.setdefault(arc[0], [0, 0])
            counts[0] += 1
            counts[1] += taken
    file_id = builder.file(path)
    for line, hits in [(n, 1) for n in executed] + [(n, 0) for n in missing]:
        branches, covered = arcs.get(line, (0, 0))
        builder.add_to(file_id, line, hits, branches, covered)
    summary = data.get("summary")
    if not isinstance(summary, dict):
        return None
    return Totals(
        summary.get("num_statements", 0),
        summary.get("covered_lines", 0),
        summary.get("num_branches", 0),
        summary.get("covered_branches", 0),
    )


def _lines(data: dict[str, Any], key: str, name: str, where: str) -> list[int]:
    value = data.get(key, [])
    if not (isinstance(value, list) and all(isinstance(n, int) and n > 0 for n in value)):
        raise InputError(name, f"{where}.{key}: expected a list of line numbers")
    return value


def _field(data: Any, key: str, kind: type, name: str, parent: str = "") -> Any:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, kind):
        label = f"{parent}.{key}" if parent else key
        raise InputError(
            name, f"{label}: missing or not a {kind.__name__}; not a coverage.py JSON report?"
        )
    return value


def _json_from_data_file(source: ProfileSource) -> bytes:
    """coverage.py's own JSON report of a ``.coverage`` data file."""
    try:
        import coverage
        from coverage.exceptions import CoverageException
    except ImportError:
        raise UsageError(
            f"{source.name} is a coverage.py data file; reading it needs coverage.py: "
            "pip install 'covtool[python]'"
        ) from None
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "coverage.json"
        try:
            cov = coverage.Coverage(data_file=str(source.path))
            cov.load()
            cov.json_report(outfile=str(report))
        except CoverageException as error:
            raise InputError(source.name, f"coverage.py could not report on it: {error}") from None
        return report.read_bytes()
