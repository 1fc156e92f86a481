"""The Go cover profile reader and writer (covtool_plugins.formats.go)."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from covtool import InputError, Profile
from covtool_plugins.formats import go
from support import Covtool


def parse(text: str, name: str = "c.out") -> Profile:
    return go.parse(text.encode(), name)


def blocks(profile: Profile) -> list[tuple[str, int, int, int, int, int, int]]:
    """Every block as (path, l0, c0, l1, c1, statements, count), in profile order."""
    rows = []
    for path in profile:
        r = profile[path].regions
        for i in range(r.size):
            rows.append((path, *(int(c[i]) for c in r[:6])))
    return rows


def reference(text: str) -> tuple[str, list[tuple[str, int, int, int, int, int, int]]]:
    """x/tools' ParseProfiles in plain Python: right-to-left regex, sort, merge same spans."""
    lines = text.splitlines()
    mode = lines[0].removeprefix("mode: ")
    merged: dict[tuple[str, int, int, int, int], list[int]] = {}
    pattern = re.compile(r"^(.+):(\d+)\.(\d+),(\d+)\.(\d+) (\d+) (\d+)$")
    for line in lines[1:]:
        match = pattern.match(line)
        assert match, line
        name, *numbers = match.groups()
        l0, c0, l1, c1, statements, count = map(int, numbers)
        key = (name, l0, c0, l1, c1)
        if key in merged:
            merged[key][1] = (merged[key][1] | count) if mode == "set" else merged[key][1] + count
        else:
            merged[key] = [statements, count]
    return mode, [(*key, s, c) for key, (s, c) in sorted(merged.items())]


def random_profile(seed: int, files: int = 40, mode: str = "count") -> str:
    """Blocks of several files, shuffled and partly duplicated, names with ``:`` and spaces."""
    rng = random.Random(seed)
    names = [f"example.com/m{rng.randint(0, 3)}/dir {i % 7}/f:{i}.go" for i in range(files)]
    lines = []
    for name in names:
        line = 1
        for _ in range(rng.randint(1, 30)):
            end = line + rng.randint(0, 4)
            count = rng.choice([0, 0, 1, 7, 123456789012]) if mode != "set" else rng.randint(0, 1)
            lines.append(
                f"{name}:{line}.{rng.randint(1, 90)},{end}.{rng.randint(1, 90)} {rng.randint(0, 9)} {count}"
            )
            line = end + 1
    lines += rng.sample(lines, len(lines) // 3)  # duplicates, as -coverpkg writes them
    rng.shuffle(lines)
    return f"mode: {mode}\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("mode", ["set", "count", "atomic"])
@pytest.mark.parametrize("seed", range(5))
def test_parse_agrees_with_reference(seed: int, mode: str) -> None:
    text = random_profile(seed, mode=mode)
    expected_mode, expected = reference(text)
    profile = parse(text)
    assert profile.mode == expected_mode
    assert blocks(profile) == expected


@pytest.mark.parametrize("chunk", [16, 100, 4096])
def test_chunk_boundaries_do_not_change_the_result(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    text = random_profile(7, files=60)
    whole = blocks(parse(text))
    monkeypatch.setattr(go, "CHUNK_BYTES", chunk)
    assert blocks(parse(text)) == whole


def test_names_alike_in_length_and_tail_stay_apart() -> None:
    # Same length, same last 8 bytes: the run fingerprint collides and the exact check
    # must split them.
    text = "mode: set\n" + "".join(
        f"{d}/x/file.go:{i}.1,{i}.9 1 {i % 2}\n" for i in range(1, 9) for d in ("a", "b")
    )
    profile = parse(text)
    assert list(profile) == ["a/x/file.go", "b/x/file.go"]
    assert [profile[p].regions.size for p in profile] == [8, 8]


def test_duplicate_blocks_merge_by_mode() -> None:
    line = "a.go:1.1,2.2 3 {}\n"
    assert parse("mode: set\n" + line.format(1) + line.format(0))["a.go"].totals.covered == 3
    count = parse("mode: count\n" + line.format(2) + line.format(5))
    assert int(count["a.go"].regions.hits[0]) == 7
    assert count["a.go"].totals.statements == 3  # merged, not added up


def test_inconsistent_statement_counts_are_an_error() -> None:
    with pytest.raises(InputError) as error:
        parse("mode: count\na.go:1.1,2.2 3 1\nb.go:1.1,1.5 1 1\na.go:1.1,2.2 4 1\n")
    assert error.value.location == "c.out:4"
    assert "4 statements here but 3 at c.out:2" in error.value.message


def test_crlf_blank_lines_and_missing_final_newline() -> None:
    profile = parse("mode: atomic\r\na.go:1.1,2.2 3 1\r\n\r\nb.go:4.1,5.2 1 0")
    assert list(profile) == ["a.go", "b.go"]
    assert profile.totals().statements == 4


def test_writer_round_trips_and_escapes_percent() -> None:
    text = random_profile(3, mode="atomic").replace("dir 1", "100% dir")
    once = go.format_profile(parse(text))
    assert once == go.format_profile(parse(once))
    assert reference(once)[1] == reference(text)[1]
    assert "100% dir" in once


def test_writer_refuses_line_profiles() -> None:
    from covtool import Regions

    lines = Profile(
        ["a.py"], np.array([0, 1]), Regions.from_columns([1], [0], [1], [0], [1], [1]), unit="line"
    )
    with pytest.raises(Exception, match="go format holds Go blocks"):
        go.format_profile(lines)


MALFORMED = {
    "bad-mode.out": ("mode: sometimes\na.go:1.1,2.2 1 1\n", 1, "bad mode line 'mode: sometimes'"),
    "no-mode.out": ("a.go:1.1,2.2 1 1\n", 1, "not a coverage profile in a known format ("),
    "empty.out": ("", 1, "empty file"),
    "blank.out": ("\n\n", 1, "empty file"),
    "truncated.out": ("mode: set\na.go:1.1,2.2 1 1\na.go:3.1,4", 3, "truncated or malformed block"),
    "no-count.out": ("mode: set\na.go:1.1,2.2 1\n", 2, "truncated or malformed block"),
    "negative.out": ("mode: count\na.go:1.1,2.2 1 -3\n", 2, "count '-3' is negative"),
    "letters.out": (
        "mode: count\na.go:1.1,2.2 x 3\n",
        2,
        "number of statements 'x' is not a non-negative integer",
    ),
    "position.out": ("mode: count\na.go:1.1.2,2.2 1 3\n", 2, "bad block position '1.1.2,2.2'"),
    "huge.out": ("mode: count\na.go:1.1,2.2 1 1234567890123456789012\n", 2, "is too large"),
    "big-line.out": ("mode: count\na.go:99999999999.1,2.2 1 1\n", 2, "bad block position"),
    "no-name.out": ("mode: count\n:1.1,2.2 1 1\n", 2, "FILE:LINE.COL"),
    "second-mode.out": ("mode: count\na.go:1.1,2.2 1 1\nmode: count\n", 3, "FILE:LINE.COL"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_profile_is_one_line_with_input_error_code(covtool: Covtool, name: str) -> None:
    text, line, message = MALFORMED[name]
    covtool.write(name, text)
    result = covtool("report", name)
    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"{name}:{line}: ")
    assert message in result.stderr


def test_binary_garbage(covtool: Covtool) -> None:
    (covtool.path / "garbage.out").write_bytes(bytes(range(256)) * 4)
    result = covtool("report", "garbage.out")
    assert (result.exit_code, result.stderr) == (
        4,
        "garbage.out:1: binary data, not a coverage profile\n",
    )


def test_binary_garbage_forced_as_go(covtool: Covtool) -> None:
    (covtool.path / "garbage.out").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    result = covtool("report", "--input-format", "go", "garbage.out")
    assert result.exit_code == 4
    assert result.stderr.startswith("garbage.out:1: bad mode line")


def test_file_name_not_utf8(covtool: Covtool) -> None:
    (covtool.path / "latin1.out").write_bytes(
        b"mode: set\nok.go:1.1,1.2 1 1\ncaf\xe9.go:1.1,1.2 1 1\n"
    )
    result = covtool("report", "latin1.out")
    assert (result.exit_code, result.stderr) == (4, "latin1.out:3: file name is not valid UTF-8\n")


def test_missing_file_and_directory(covtool: Covtool) -> None:
    assert covtool("report", "nowhere.out").stderr == "nowhere.out: no such file\n"
    (covtool.path / "adir").mkdir()
    result = covtool("report", "adir")
    assert (result.exit_code, result.stderr) == (4, "adir: is a directory, not a coverage file\n")
