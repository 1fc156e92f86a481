"""covtool's own profile JSON: every block or line of a profile, lossless and versioned.

    {"format": "covtool-profile", "format_version": 1,
     "unit": "block", "mode": "count", "source_format": "go",
     "files": {"pkg/a.go": [[12, 34, 14, 16, 2, 5], ...]}}

Each row of a ``block`` profile is ``[start line, start column, end line, end column,
statements, hits]``; each row of a ``line`` profile is ``[line, hits, branches, branches
covered]``. Files are sorted, rows sorted by position. Unlike the ``json`` summary report,
this file can be read back: ``covtool convert x.json -o y.xml --format cobertura``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from covtool import (
    Artifact,
    InputError,
    Profile,
    ProfileSource,
    Regions,
    Report,
    ReportFormat,
    hookimpl,
    load_json,
)

NAME = "covtool"
FORMAT = "covtool-profile"
FORMAT_VERSION = 1
FILENAME = "coverage.covtool.json"
_HEAD = re.compile(rb'^\s*\{\s*"format"\s*:\s*"covtool-profile"')
_BLOCK_FIELDS = ("start_line", "start_col", "end_line", "end_col", "statements", "hits")
_LINE_FIELDS = ("start_line", "hits", "branches", "branches_covered")


@hookimpl
def covtool_report_formats() -> list[ReportFormat]:
    """Offer covtool's profile JSON, which this plugin also reads."""
    return [
        ReportFormat(NAME, "covtool's lossless profile JSON, versioned", FILENAME, readable=True)
    ]


@hookimpl
def covtool_render_report(report: Report, formats: list[str]) -> list[Artifact]:
    """Write the report's profile, file by file."""
    if NAME not in formats:
        return []
    profile = report.profile
    return [Artifact(NAME, FILENAME, lambda: iter_document(profile))]


@hookimpl
def covtool_parse_profile(source: ProfileSource) -> Profile | None:
    """Claim documents whose first key is ``"format": "covtool-profile"``."""
    if source.format not in (None, NAME):
        return None
    if source.format is None and not _HEAD.match(source.head(256)):
        return None
    return parse(source.read(), source.name)


def _fields(unit: str) -> tuple[str, ...]:
    return _LINE_FIELDS if unit == "line" else _BLOCK_FIELDS


def iter_document(profile: Profile) -> Iterator[str]:
    """The document in pieces: the header, then one piece per file."""
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "unit": profile.unit,
        "mode": profile.mode,
        "source_format": profile.source_format,
    }
    yield json.dumps(header)[:-1] + ', "files": {'
    columns = [getattr(profile.regions, field) for field in _fields(profile.unit)]
    rows = np.stack(columns, axis=1).astype(np.int64) if profile.block_count else None
    offsets = profile.offsets.tolist()
    for i, path in enumerate(profile.paths):
        body = [] if rows is None else rows[offsets[i] : offsets[i + 1]].tolist()
        yield ("" if i == 0 else ", ") + f"{json.dumps(path)}: {json.dumps(body)}"
    yield "}}\n"


def parse(data: bytes, name: str) -> Profile:
    """Read a covtool profile document; any structural problem names the key."""
    document = load_json(data, name)
    _check_header(document, name)
    unit = document["unit"]
    width = len(_fields(unit))
    files = document["files"]
    if not isinstance(files, dict):
        raise InputError(name, "files: expected an object of path: rows")
    paths, sizes, rows = [], [], []
    for path, file_rows in files.items():
        if not _is_table(file_rows, width):
            raise InputError(
                name, f"files[{path!r}]: expected a list of rows of {width} non-negative integers"
            )
        paths.append(path)
        sizes.append(len(file_rows))
        rows.extend(file_rows)
    table = np.array(rows, np.int64).reshape(-1, width)
    ids = np.repeat(np.arange(len(paths)), sizes)
    return Profile.build(
        paths,
        ids,
        _regions(unit, table),
        unit=unit,
        mode=document.get("mode"),
        source_format=document.get("source_format") or NAME,
        origin=lambda row: name,
    )


def _check_header(document: Any, name: str) -> None:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InputError(name, f"format: expected {FORMAT!r}")
    if document.get("format_version") != FORMAT_VERSION:
        version = document.get("format_version")
        raise InputError(
            name, f"format_version: {version!r} is not supported ({FORMAT_VERSION} is)"
        )
    if document.get("unit") not in ("block", "line") or "files" not in document:
        raise InputError(name, "unit: expected 'block' or 'line', with a files object")


def _is_table(rows: Any, width: int) -> bool:
    return isinstance(rows, list) and all(
        isinstance(row, list)
        and len(row) == width
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in row)
        for row in rows
    )


def _regions(unit: str, table: np.ndarray) -> Regions:
    if unit == "line":
        line, hits, branches, covered = table.T
        zeros = np.zeros(table.shape[0], np.int32)
        return Regions.from_columns(
            line, zeros, line, zeros, np.ones(table.shape[0]), hits, branches, covered
        )
    return Regions.from_columns(*table.T)
