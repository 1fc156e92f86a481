"""Go cover profiles (``go test -coverprofile``): read and write, with x/tools' rules.

    mode: count
    example.com/shop/cart/cart.go:12.34,14.16 2 5

Exactly one ``mode: set|count|atomic`` line first; then one block per line, parsed from the
right because file names may contain ``:``; blocks with the same span (one per test binary
under ``-coverpkg``) merge: ``set`` ORs, ``count``/``atomic`` add up.

Parsing is vectorised: the file is cut into chunks of a few MiB at line boundaries, and
each chunk's separators, numbers and file names are found with whole-array operations.
Lines are only looked at one by one to explain the first malformed one.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from covtool import (
    GO_MODES,
    Artifact,
    InputError,
    Profile,
    ProfileSource,
    Regions,
    Report,
    ReportFormat,
    UsageError,
    hookimpl,
)

NAME = "go"
FILENAME = "coverage_profile.txt"
CHUNK_BYTES = 4 << 20
EXPECTED = "expected FILE:LINE.COL,LINE.COL STATEMENTS COUNT"
_NL, _COLON, _COMMA, _DOT, _SPACE, _ZERO = (ord(c) for c in "\n:,. 0")
_MAX_DIGITS = 18  # every 18-digit number fits in an int64
_INT32_MAX = 2**31 - 1
_POW10 = 10 ** np.arange(_MAX_DIGITS + 1, dtype=np.int64)


@hookimpl
def covtool_parse_profile(source: ProfileSource) -> Profile | None:
    """Claim files that start with ``mode:``, or any file read with ``--input-format go``."""
    if source.format is not None and source.format != NAME:
        return None
    if source.format is None and not source.head(64).startswith(b"mode:"):
        return None
    return parse(source.read(), source.name)


@hookimpl
def covtool_report_formats() -> list[ReportFormat]:
    """The Go profile is also an output format (``merge``, ``filter``, ``convert``)."""
    description = "Go cover profile, as go test -coverprofile writes it"
    return [ReportFormat(NAME, description, FILENAME, readable=True)]


@hookimpl
def covtool_render_report(report: Report, formats: list[str]) -> list[Artifact]:
    """Write the report's profile as a Go cover profile."""
    if NAME not in formats:
        return []
    profile = report.profile
    _require_go_blocks(profile)  # now, before any file is opened
    return [Artifact(NAME, FILENAME, lambda: iter_profile(profile))]


# -- reading -------------------------------------------------------------------------------
def parse(data: bytes, name: str) -> Profile:
    """Parse a Go cover profile; a malformed one raises ``InputError`` at ``name:LINE``."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
    first_end = data.find(b"\n")
    first_end = len(data) if first_end < 0 else first_end
    mode = _parse_mode(data[:first_end], name)
    if not data.endswith(b"\n"):
        data += b"\n"
    table = _Table()
    # Chunks run from one newline to another; the mode line's newline starts the first.
    start, line_number = first_end, 2
    while start < len(data) - 1:
        end = data.find(b"\n", min(start + CHUNK_BYTES, len(data) - 1))
        line_number = _parse_chunk(data, start, end, line_number, name, table)
        start = end
    return table.profile(mode, name)


def _parse_mode(line: bytes, name: str) -> str:
    if not line.strip():
        raise InputError(f"{name}:1", "empty profile: expected a 'mode:' line")
    mode = line[len(b"mode: ") :].decode("utf-8", "replace")
    if not line.startswith(b"mode: ") or mode not in GO_MODES:
        shown = _show(line)
        raise InputError(
            f"{name}:1",
            f"bad mode line {shown}: expected 'mode: set', 'mode: count' or 'mode: atomic'",
        )
    return mode


class _Table:
    """Columns accumulated chunk by chunk, with one file name per run of lines."""

    def __init__(self) -> None:
        self.columns: list[list[np.ndarray]] = [[] for _ in range(6)]
        self.line_numbers: list[np.ndarray] = []
        self.run_names: list[bytes] = []
        self.run_lengths: list[int] = []

    def profile(self, mode: str, name: str) -> Profile:
        ids: dict[bytes, int] = {}
        run_ids = [ids.setdefault(run, len(ids)) for run in self.run_names]
        file_ids = np.repeat(np.array(run_ids, np.int64), np.array(self.run_lengths, np.int64))
        columns = [np.concatenate(c) if c else np.zeros(0, np.int32) for c in self.columns]
        numbers = np.concatenate(self.line_numbers) if self.line_numbers else np.zeros(0)
        paths = [_decode_path(raw, name, numbers, file_ids, i) for raw, i in ids.items()]
        return Profile.build(
            paths,
            file_ids,
            Regions.from_columns(*columns),
            mode=mode,
            source_format=NAME,
            origin=lambda row: f"{name}:{numbers[row]}",
        )


def _decode_path(raw: bytes, name: str, numbers: np.ndarray, ids: np.ndarray, i: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        line = numbers[int(np.argmax(ids == i))]
        raise InputError(f"{name}:{line}", "file name is not valid UTF-8") from None


def _parse_chunk(body: bytes, lo: int, hi: int, first_line: int, name: str, table: _Table) -> int:
    """Parse the lines between the newlines at ``body[lo]`` and ``body[hi]`` into ``table``.

    Returns the line number of the next chunk's first line.
    """
    buf = np.frombuffer(body, np.uint8, count=hi - lo + 1, offset=lo)
    newlines = np.flatnonzero(buf == _NL)
    starts, ends = newlines[:-1] + 1, newlines[1:]
    numbers = first_line + np.arange(starts.shape[0])
    filled = ends > starts  # blank lines are skipped
    starts, ends, numbers = starts[filled], ends[filled], numbers[filled]
    if starts.size:
        values, colons, bad = _scan_numbers(buf, starts, ends)
        if bad.any():
            first = int(np.argmax(bad))
            line = body[lo + starts[first] : lo + ends[first]]
            raise InputError(f"{name}:{numbers[first]}", _explain(line))
        for column, value in zip(table.columns, values, strict=True):
            column.append(value)
        table.line_numbers.append(numbers)
        _name_runs(body, buf, lo, starts, ends, colons, table)
    return first_line + newlines.shape[0] - 1


#: The separator in front of each number, right to left: count, statements, end column,
#: end line, start column, start line.
_SEPARATORS = (_SPACE, _SPACE, _DOT, _COMMA, _DOT, _COLON)


def _scan_numbers(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The six numbers of every line, read from the right as x/tools does.

    Returns the columns (start line, start column, end line, end column, statements,
    count), the position of each line's colon (its file name ends there) and which lines
    do not match ``FILE:L.C,L.C N N``.
    """
    cursor = ends
    bad = np.zeros(ends.shape, bool)
    values = []
    for separator in _SEPARATORS:
        value, cursor, field_bad = _scan_number(buf, cursor)
        bad |= field_bad | (buf.take(cursor, mode="clip") != separator)
        values.append(value)
    bad |= cursor <= starts  # an empty file name
    values.reverse()
    for i in range(5):
        bad |= values[i] > _INT32_MAX
        values[i] = values[i].astype(np.int32)
    return values, cursor, bad


def _scan_number(buf: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The decimal number ending just before ``end`` on each line, scanning leftwards.

    One step per digit position for all lines at once. Returns the values, the position of
    the character in front of each number, and which lines have no digits there (or more
    than fit in 64 bits).
    """
    value = np.zeros(end.shape, np.int64)
    position = end - 1
    active = np.ones(end.shape, bool)
    for power in _POW10[:_MAX_DIGITS]:
        digit = buf.take(position, mode="clip") - np.uint8(_ZERO)
        active &= digit <= 9
        if not active.any():
            break
        value += np.where(active, digit, 0) * power
        position -= active
    else:  # a 19th digit is one too many
        active &= buf.take(position, mode="clip") - np.uint8(_ZERO) <= 9
    return value, position, active | (position == end - 1)


def _name_runs(
    body: bytes,
    buf: np.ndarray,
    lo: int,
    starts: np.ndarray,
    ends: np.ndarray,
    colons: np.ndarray,
    table: _Table,
) -> None:
    """Append the file name of each run of consecutive lines that share one.

    Runs are guessed from each name's length and last 8 bytes, then checked exactly: one
    ``bytes.count`` of ``\\nNAME:`` over the run must find every line of it. A run that
    fails the check (two names alike in both) is split line by line.
    """
    lengths = colons - starts
    if buf.shape[0] >= 8:
        tails = sliding_window_view(buf, 8)[np.maximum(colons - 8, 0)]
        fingerprints = np.ascontiguousarray(tails).view(np.uint64).ravel()
    else:
        fingerprints = np.zeros(lengths.shape, np.uint64)
    change = np.ones(lengths.shape[0], bool)
    change[1:] = (lengths[1:] != lengths[:-1]) | (fingerprints[1:] != fingerprints[:-1])
    run_starts = np.flatnonzero(change)
    run_ends = np.append(run_starts[1:], lengths.shape[0])
    first_starts = (lo + starts[run_starts]).tolist()
    first_colons = (lo + colons[run_starts]).tolist()
    last_ends = (lo + ends[run_ends - 1]).tolist()
    for n, (i, j) in enumerate(zip(run_starts.tolist(), run_ends.tolist(), strict=True)):
        name = body[first_starts[n] : first_colons[n]]
        if body.count(b"\n" + name + b":", first_starts[n] - 1, last_ends[n]) == j - i:
            table.run_names.append(name)
            table.run_lengths.append(j - i)
            continue
        for k in range(i, j):  # a fingerprint collision: name every line exactly
            table.run_names.append(body[lo + int(starts[k]) : lo + int(colons[k])])
            table.run_lengths.append(1)


def _show(line: bytes) -> str:
    text = line.decode("utf-8", "replace")
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _explain(line: bytes) -> str:
    """Why one line is not a block, in words."""
    text = line.decode("utf-8", "replace")
    name, colon, rest = text.rpartition(":")
    if not colon or not name:
        return f"{EXPECTED}, got {_show(line)}"
    fields = rest.split(" ")
    if len(fields) != 3:
        return f"truncated or malformed block: {EXPECTED}, got {_show(line)}"
    span, statements, count = fields
    for label, value in (("number of statements", statements), ("count", count)):
        problem = _number_problem(value)
        if problem:
            return f"{label} {value!r} {problem}"
    for position in span.split(","):
        numbers = position.split(".")
        if (
            span.count(",") != 1
            or len(numbers) != 2
            or any(_number_problem(n, 10) for n in numbers)
        ):
            return f"bad block position {span!r}: expected LINE.COL,LINE.COL"
    return f"line or column number too large in {span!r}"


def _number_problem(value: str, max_digits: int = _MAX_DIGITS) -> str:
    if value.startswith("-") and value[1:].isdigit():
        return "is negative"
    if not (value.isascii() and value.isdigit()):
        return "is not a non-negative integer"
    if len(value) > max_digits:
        return "is too large"
    return ""


# -- writing -------------------------------------------------------------------------------
#: Blocks formatted per piece of output: large enough to amortise the per-piece work, small
#: enough that the Python integers of one piece stay a few MiB.
WRITE_ROWS = 65536


def _require_go_blocks(profile: Profile) -> None:
    if profile.unit != "block" or profile.mode not in GO_MODES:
        raise UsageError(
            f"the go format holds Go blocks; this profile holds {profile.unit}s"
            + (f" from {profile.source_format}" if profile.source_format else "")
        )


def format_profile(profile: Profile) -> str:
    """The profile as Go cover profile text, files and blocks sorted."""
    return "".join(iter_profile(profile))


def iter_profile(profile: Profile) -> Iterator[str]:
    """The profile as Go cover profile text, in pieces of about ``WRITE_ROWS`` blocks.

    Each file's lines come from one ``%`` formatting of a repeated line template over a flat
    tuple of that file's numbers, so no Python code runs per block.
    """
    _require_go_blocks(profile)
    yield f"mode: {profile.mode}\n"
    r = profile.regions
    columns = (r.start_line, r.start_col, r.end_line, r.end_col, r.statements, r.hits)
    offsets = profile.offsets.tolist()
    first = 0
    while first < len(profile.paths):
        last = int(np.searchsorted(profile.offsets, offsets[first] + WRITE_ROWS, "right")) - 1
        last = max(last, first + 1)
        lo, hi = offsets[first], offsets[last]
        numbers = np.stack([c[lo:hi] for c in columns], axis=1).astype(np.int64).ravel().tolist()
        parts = []
        for i in range(first, last):
            a, b = (offsets[i] - lo) * 6, (offsets[i + 1] - lo) * 6
            template = profile.paths[i].replace("%", "%%") + ":%d.%d,%d.%d %d %d\n"
            parts.append((template * ((b - a) // 6)) % tuple(numbers[a:b]))
        yield "".join(parts)
        first = last
