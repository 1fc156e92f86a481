"""The LCOV tracefile reader and writer (covtool_plugins.formats.lcov)."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from covtool import Profile, Totals, views
from covtool_plugins.formats import lcov
from support import Covtool

COUNTS = ("statements", "covered", "branches", "branches_covered")


def parse(text: str, name: str = "c.lcov") -> Profile:
    profile, _ = lcov.parse(text.encode(), name)
    return profile


def report(covtool: Covtool, name: str, *args: str) -> dict[str, Any]:
    """``covtool report NAME --format json``, which must succeed without a word on stderr."""
    result = covtool("report", name, "--format", "json", *args)
    assert (result.exit_code, result.stderr) == (0, "")
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def counts(entry: dict[str, Any]) -> tuple[int, ...]:
    """(statements, covered, branches, branches covered) of a JSON totals entry."""
    return tuple(entry.get(key, 0) for key in COUNTS)


def line_rows(profile: Profile, path: str) -> list[tuple[int, int, int, int]]:
    """(line, hits, branches, branches covered) of every line of one file."""
    view = profile[path].lines()
    return list(
        zip(
            view.line.tolist(),
            view.hits.tolist(),
            view.branches.tolist(),
            view.branches_covered.tolist(),
            strict=True,
        )
    )


# -- dialects ------------------------------------------------------------------------------
LCOV_1 = """TN:
SF:src/util.c
FN:3,add
FNDA:4,add
FNF:1
FNH:1
DA:3,4
DA:4,4
DA:7,0
DA:9,1
BRDA:4,0,0,4
BRDA:4,0,1,0
BRDA:7,0,0,-
BRDA:7,0,1,-
BRF:4
BRH:1
LF:4
LH:3
end_of_record
"""


def test_lcov_1_tracefile(covtool: Covtool) -> None:
    # 4 lines, 3 run; branches: 2 on line 4 (one taken), 2 on line 7 (block never ran).
    covtool.write("c.lcov", LCOV_1)
    data = report(covtool, "c.lcov")
    assert counts(data["totals"]) == (4, 3, 4, 1)
    assert data["totals"]["percent"] == 100 * 4 / 8
    assert line_rows(parse(LCOV_1), "src/util.c") == [
        (3, 4, 0, 0),
        (4, 4, 2, 1),
        (7, 0, 2, 0),
        (9, 1, 0, 0),
    ]


COVERAGE_PY = """SF:app/shapes.py
DA:4,1
DA:5,1
DA:6,1
DA:7,0
DA:12,1
DA:13,0
LF:6
LH:4
FN:4,7,classify
FNDA:1,classify
FN:12,13,Box.get
FNDA:1,Box.get
FNF:2
FNH:2
BRDA:5,0,jump to line 6,1
BRDA:5,0,jump to line 7,0
BRDA:12,0,line 12 didn't finish, it raised,1
BRDA:12,0,exit the function, or raise,0
BRDA:12,0,jump to line 13,-
BRF:5
BRH:2
end_of_record
"""


def test_coverage_py_textual_branch_ids_with_commas_and_function_ranges(covtool: Covtool) -> None:
    # Three distinct ids on line 12 although two contain commas; FN:START,END,NAME accepted.
    covtool.write("c.lcov", COVERAGE_PY)
    data = report(covtool, "c.lcov")
    assert counts(data["files"]["app/shapes.py"]) == (6, 4, 5, 2)
    assert line_rows(parse(COVERAGE_PY), "app/shapes.py")[4] == (12, 1, 3, 1)


LCOV_2 = """TN:unit
SF:lib/x.cpp
VER:2024-05-01
FNL:0,3,8
FNA:0,2,foo(int, char)
FNL:1,10
FNA:1,0,bar
FNF:2
FNH:1
DA:3,2
DA:4,2
DA:10,0
BRDA:4,0,0,2
BRDA:4,0,1,0
BRF:2
BRH:1
LF:3
LH:2
end_of_record
"""


def test_lcov_2_function_records(covtool: Covtool) -> None:
    covtool.write("c.info", LCOV_2)
    assert counts(report(covtool, "c.info")["totals"]) == (3, 2, 2, 1)


GCOVR = """# made by gcovr
VER:2
TN:
SF:src/mathx.c
VER:3b1f2a
FN:2,clamp
FNDA:6,clamp
FNF:1
FNH:1
BRDA:3,0,0,2
BRDA:3,0,1,4
BRDA:7,0,e0,0
BRDA:7,e0,1,-
BRF:4
BRH:2
DA:2,6,abcd
DA:3,6,ef01
DA:7,0,2345
LH:2
LF:3
end_of_record
"""


def test_gcovr_version_records_and_exception_branches(covtool: Covtool) -> None:
    # Exception branches (``e`` on the branch id, or on the block as gcovr 8 writes them)
    # count as branches: 4 branches, 2 taken; DA checksums are ignored.
    covtool.write("g.lcov", GCOVR)
    assert counts(report(covtool, "g.lcov")["totals"]) == (3, 2, 4, 2)


def test_comments_blank_lines_crlf_and_byte_order_mark(covtool: Covtool) -> None:
    text = "\ufeff# header comment\n\n#another\nTN:\n\nSF:a.c\n# inside\nDA:1,1\n\nDA:2,0\nend_of_record\n"
    (covtool.path / "w.lcov").write_bytes(text.replace("\n", "\r\n").encode())
    assert counts(report(covtool, "w.lcov")["totals"]) == (2, 1, 0, 0)


def test_backslashes_in_paths_become_slashes() -> None:
    profile = parse("SF:src\\win\\a.c\nDA:1,1\nend_of_record\n")
    assert list(profile) == ["src/win/a.c"]


def test_file_without_lines_is_kept_with_nothing_to_cover(covtool: Covtool) -> None:
    covtool.write("c.lcov", "TN:\nSF:empty.c\nend_of_record\nSF:a.c\nDA:1,0\nend_of_record\n")
    data = report(covtool, "c.lcov")
    assert counts(data["files"]["empty.c"]) == (0, 0, 0, 0)
    assert data["files"]["empty.c"]["percent"] is None


# -- several records for one file ------------------------------------------------------------
MERGING = """TN:first
SF:m.c
DA:1,2
DA:2,0
DA:3,0
BRDA:2,0,0,-
BRDA:2,0,1,-
BRDA:3,0,0,0
BRDA:3,0,1,1
end_of_record
SF:other.c
DA:5,1
end_of_record
TN:second
SF:m.c
DA:1,3
DA:2,4
DA:4,0
BRDA:2,0,0,0
BRDA:2,0,1,5
BRDA:3,0,1,2
BRDA:3,1,0,0
end_of_record
"""


def test_records_of_one_file_merge_lines_and_branch_identities(covtool: Covtool) -> None:
    # m.c: lines 1..4; hits add up (1: 5, 2: 4, 3: 0, 4: 0). Line 2: ids (0,0) and (0,1),
    # only (0,1) taken, in the second record. Line 3: ids (0,0), (0,1), (1,0); only (0,1)
    # taken (in both records). Line 3 never ran but has a taken branch: still 1 of 3.
    profile = parse(MERGING)
    assert line_rows(profile, "m.c") == [(1, 5, 0, 0), (2, 4, 2, 1), (3, 0, 3, 1), (4, 0, 0, 0)]
    covtool.write("m.lcov", MERGING)
    data = report(covtool, "m.lcov")
    assert counts(data["files"]["m.c"]) == (4, 2, 5, 2)
    assert counts(data["files"]["other.c"]) == (1, 1, 0, 0)
    assert counts(data["totals"]) == (5, 3, 5, 2)


def test_branches_on_a_line_without_da_do_not_count() -> None:
    profile = parse("SF:a.c\nDA:1,1\nBRDA:1,0,0,1\nBRDA:1,0,1,0\nBRDA:2,0,0,1\nend_of_record\n")
    assert profile.totals() == Totals(1, 1, 2, 1)
    assert line_rows(profile, "a.c") == [(1, 1, 2, 1)]


def test_repeated_da_line_within_a_record() -> None:
    profile, warning = lcov.parse(
        b"SF:a.c\nDA:2,0\nDA:1,0\nDA:2,3\nLF:2\nLH:1\nend_of_record\n", "r"
    )
    assert line_rows(profile, "a.c") == [(1, 0, 0, 0), (2, 3, 0, 0)]
    assert warning is None  # LF/LH count each line once, as the body does


def random_tracefile(seed: int) -> str:
    """Records of a few files in random order, lines and branches repeated across them."""
    rng = random.Random(seed)
    lines = []
    for _ in range(rng.randint(5, 30)):
        lines.append(f"TN:t{rng.randint(0, 3)}\nSF:dir/f{rng.randint(0, 5)}.c\n")
        for at in rng.sample(range(1, 40), rng.randint(0, 12)):
            lines.append(f"DA:{at},{rng.choice([0, 0, 1, 9])}\n")
            for _ in range(rng.choice([0, 0, 1, 3])):
                taken = rng.choice(["-", "0", "0", "1", "4"])
                lines.append(f"BRDA:{at},{rng.randint(0, 1)},{rng.randint(0, 2)},{taken}\n")
        lines.append("end_of_record\n")
    return "".join(lines)


def reference(text: str) -> dict[str, list[tuple[int, int, int, int]]]:
    """The merge rules in plain Python: hits add up, a branch id is covered if ever taken."""
    hits: dict[str, dict[int, int]] = {}
    taken: dict[tuple[str, int, str, str], int] = {}
    path = ""
    for line in text.splitlines():
        tag, _, value = line.partition(":")
        if tag == "SF":
            path = value
            hits.setdefault(path, {})
        elif tag == "DA":
            at, count = map(int, value.split(","))
            hits[path][at] = hits[path].get(at, 0) + count
        elif tag == "BRDA":
            at, block, branch, times = value.split(",")
            key = (path, int(at), block, branch)
            taken[key] = taken.get(key, 0) + (0 if times == "-" else int(times))
    return {
        path: [
            (
                at,
                count,
                sum(1 for k in taken if k[:2] == (path, at)),
                sum(1 for k, t in taken.items() if k[:2] == (path, at) and t > 0),
            )
            for at, count in sorted(lines.items())
        ]
        for path, lines in sorted(hits.items())
    }


@pytest.mark.parametrize("seed", range(8))
def test_merging_agrees_with_reference(seed: int) -> None:
    text = random_tracefile(seed)
    profile = parse(text)
    assert {path: line_rows(profile, path) for path in profile} == reference(text)


# -- summaries that disagree -----------------------------------------------------------------
def test_disagreeing_summaries_warn_once_and_the_body_wins(covtool: Covtool) -> None:
    text = LCOV_1.replace("LH:3", "LH:4").replace("BRH:1", "BRH:3")
    text += text.replace("src/util.c", "src/other.c")  # a second record that disagrees too
    covtool.write("h.lcov", text)
    result = covtool("report", "h.lcov", "--format", "json")
    assert result.exit_code == 0
    assert result.stderr == (
        "covtool: warning: h.lcov:2 (the record for src/util.c): the header says 4 of 4 "
        "lines covered, the body 3 of 4; 3 of 4 branches, the body 1 of 4; using the body "
        "(1 more record disagrees too)\n"
    )
    assert counts(json.loads(result.stdout)["totals"]) == (8, 6, 8, 2)


def test_summaries_only_compare_what_they_state(covtool: Covtool) -> None:
    # LF/LH without BRF/BRH (coverage.py without --branch): no warning about branches.
    covtool.write("c.lcov", "SF:a.c\nDA:1,1\nBRDA:1,0,0,1\nLF:1\nLH:1\nend_of_record\n")
    assert counts(report(covtool, "c.lcov")["totals"]) == (1, 1, 1, 1)
    covtool.write("d.lcov", "SF:a.c\nDA:1,1\nDA:2,0\nLF:3\nend_of_record\n")
    result = covtool("report", "d.lcov")
    assert result.stderr.count("\n") == 1
    assert "the header says 1 of 3 lines covered, the body 1 of 2" in result.stderr


# -- malformed input -------------------------------------------------------------------------
MALFORMED = {
    "da-before-sf": ("TN:\nDA:1,1\n", 2, "DA record outside a file record: expected SF:PATH"),
    "brda-after-end": (
        "SF:a.c\nDA:1,1\nend_of_record\nBRDA:1,0,0,1\n",
        4,
        "BRDA record outside a file record",
    ),
    "end-without-sf": ("TN:\nend_of_record\n", 2, "end_of_record outside a file record"),
    "da-one-field": ("SF:a.c\nDA:3\nend_of_record\n", 2, "expected DA:LINE,HITS[,CHECKSUM]"),
    "da-four-fields": ("SF:a.c\nDA:3,1,x,y\nend_of_record\n", 2, "expected DA:LINE,HITS"),
    "da-line-text": ("SF:a.c\nDA:x,1\nend_of_record\n", 2, "line number 'x' is not a non-"),
    "da-line-zero": ("SF:a.c\nDA:0,1\nend_of_record\n", 2, "line number '0' is out of range"),
    "da-negative": ("SF:a.c\nDA:3,-2\nend_of_record\n", 2, "hit count '-2' is negative"),
    "da-huge": ("SF:a.c\nDA:3,99999999999999999999\nend_of_record\n", 2, "is too large"),
    "brda-three": ("SF:a.c\nDA:1,1\nBRDA:1,0,1\nend_of_record\n", 3, "expected BRDA:LINE,BLOCK"),
    "brda-line": ("SF:a.c\nBRDA:one,0,0,1\nend_of_record\n", 2, "line number 'one'"),
    "brda-taken": ("SF:a.c\nBRDA:1,0,0,x\nend_of_record\n", 2, "taken count 'x' is not a non-"),
    "brda-negative": ("SF:a.c\nBRDA:1,0,0,-3\nend_of_record\n", 2, "taken count '-3' is negative"),
    "fn-no-name": ("SF:a.c\nFN:3\nend_of_record\n", 2, "expected FN:LINE,NAME or FN:START,END"),
    "fn-line": ("SF:a.c\nFN:x,main\nend_of_record\n", 2, "number 'x' is not a non-negative"),
    "fnda-negative": ("SF:a.c\nFNDA:-1,main\nend_of_record\n", 2, "number '-1' is negative"),
    "fnl-short": ("SF:a.c\nFNL:0\nend_of_record\n", 2, "expected FNL:INDEX,START[,END]"),
    "fna-short": ("SF:a.c\nFNA:0,1\nend_of_record\n", 2, "expected FNA:INDEX,HITS,NAME"),
    "lf-text": ("SF:a.c\nLF:many\nend_of_record\n", 2, "expected LF:COUNT"),
    "unknown": ("SF:a.c\nXYZ:1\nend_of_record\n", 2, "unknown record 'XYZ:1': expected TN, VER"),
    "no-colon": ("SF:a.c\nDA:1,1\nhello\nend_of_record\n", 3, "unknown record 'hello'"),
    "empty-path": ("SF:\nend_of_record\n", 1, "SF record without a path: expected SF:PATH"),
    "sf-in-record": (
        "SF:a.c\nDA:1,1\nSF:b.c\nend_of_record\n",
        3,
        "SF:b.c inside the record for a.c (line 1): expected end_of_record",
    ),
    "truncated": (
        "TN:\nSF:a.c\nDA:1,1\nend_of_record\nSF:b.c\nDA:1,1\nDA:2,",
        7,
        "bad DA record 'DA:2,'",
    ),
    "unclosed": (
        "TN:\nSF:a.c\nDA:1,1\nend_of_record\nSF:b.c\nDA:1,1\nDA:2,0\n",
        7,
        "the record for b.c (SF at line 5) is not closed: expected end_of_record",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_tracefile_is_one_line_with_input_error_code(covtool: Covtool, case: str) -> None:
    text, line, message = MALFORMED[case]
    name = f"{case}.lcov"
    covtool.write(name, text)
    result = covtool("report", "--input-format", "lcov", name)
    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"{name}:{line}: ")
    assert message in result.stderr


def test_malformed_sniffed_tracefile(covtool: Covtool) -> None:
    covtool.write("c.lcov", "# by hand\nTN:\nSF:a.c\nDA:1,1\nend_of_record\nDA:2,1\n")
    result = covtool("report", "c.lcov")
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr == (
        "c.lcov:6: DA record outside a file record: expected SF:PATH before it\n"
    )


def test_not_utf8_names_the_line(covtool: Covtool) -> None:
    (covtool.path / "l.lcov").write_bytes(b"TN:\nSF:ok.c\nend_of_record\nSF:caf\xe9.c\n")
    result = covtool("report", "l.lcov")
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr == "l.lcov:4: not UTF-8 text: expected an LCOV tracefile in UTF-8\n"


def test_empty_file_forced_as_lcov(covtool: Covtool) -> None:
    covtool.write("e.lcov", "\n\n")
    result = covtool("report", "--input-format", "lcov", "e.lcov")
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr.startswith("e.lcov:1: empty file: expected an LCOV tracefile")


def test_sniffing() -> None:
    assert lcov.looks_like_lcov(b"\n# comment\n\nSF:a.c\n")
    assert lcov.looks_like_lcov(b"VER:2\r\nTN:\r\n")
    assert lcov.looks_like_lcov(b"\xef\xbb\xbfTN:\n")
    assert not lcov.looks_like_lcov(b"DA:1,1\n")
    assert not lcov.looks_like_lcov(b"mode: set\na.go:1.1,2.2 1 1\n")
    assert not lcov.looks_like_lcov(b"# only a comment\n")


def test_a_go_profile_forced_as_lcov_is_refused(covtool: Covtool) -> None:
    covtool.write("c.out", "mode: set\na.go:1.1,2.2 1 1\n")
    result = covtool("report", "--input-format", "lcov", "c.out")
    assert result.exit_code == 4
    assert result.stderr.startswith("c.out:1: unknown record 'mode: set': expected TN, VER, SF")


# -- writing -----------------------------------------------------------------------------------
def test_writer_output() -> None:
    text = lcov.format_tracefile(parse(MERGING))
    assert text == (
        "TN:\nSF:m.c\nDA:1,5\nDA:2,4\nDA:3,0\nDA:4,0\n"
        "BRDA:2,0,0,1\nBRDA:2,0,1,0\n"
        "BRDA:3,0,0,1\nBRDA:3,0,1,-\nBRDA:3,0,2,-\n"
        "BRF:5\nBRH:2\nLF:4\nLH:2\nend_of_record\n"
        "TN:\nSF:other.c\nDA:5,1\nBRF:0\nBRH:0\nLF:1\nLH:1\nend_of_record\n"
    )


@pytest.mark.parametrize("text", [LCOV_1, COVERAGE_PY, LCOV_2, GCOVR, MERGING, random_tracefile(3)])
def test_writing_then_reading_gives_the_same_report(covtool: Covtool, text: str) -> None:
    covtool.write("in.lcov", text)
    first = report(covtool, "in.lcov")
    result = covtool("report", "in.lcov", "--format", "lcov", "-o", "out.lcov")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert report(covtool, "out.lcov") == first
    original, written = parse(text), parse((covtool.path / "out.lcov").read_text())
    assert {p: line_rows(original, p) for p in original} == {
        p: line_rows(written, p) for p in written
    }


GO_PROFILE = """mode: set
a.go:1.1,3.2 2 1
a.go:3.2,5.2 1 0
a.go:7.1,7.20 1 0
b.go:2.1,4.3 3 0
b.go:6.1,6.9 1 1
"""


def test_go_profile_written_as_lcov_keeps_its_line_view(covtool: Covtool) -> None:
    # a.go: lines 1-5 and 7; 1-3 ran (line 3 ends a run block, so it has hits) -> 3 of 6.
    # b.go: lines 2-4 and 6; only 6 ran -> 1 of 4.
    covtool.write("c.out", GO_PROFILE)
    result = covtool("report", "c.out", "--format", "lcov", "-o", "out.lcov")
    assert (result.exit_code, result.stderr) == (0, "")
    files = report(covtool, "out.lcov")["files"]
    assert {path: counts(entry) for path, entry in files.items()} == {
        "a.go": (6, 3, 0, 0),
        "b.go": (4, 1, 0, 0),
    }
    from covtool_plugins.formats import go

    blocks = go.parse(GO_PROFILE.encode(), "c.out")
    for path in blocks:
        view = blocks[path].lines()
        assert counts(files[path])[:2] == (view.line.shape[0], int((view.hits > 0).sum()))
    assert "LF:6\nLH:3\nend_of_record" in (covtool.path / "out.lcov").read_text()


def test_lcov_is_an_offered_format(covtool: Covtool) -> None:
    listing = covtool("plugins").stdout
    assert "lcov" in listing.rpartition("report formats: ")[2].strip().split(", ")


# -- real data -------------------------------------------------------------------------------
MODULE = '''"""A tiny module for coverage.py to measure."""


def classify(n):
    if n < 0:
        return "negative"
    elif n == 0:
        return "zero"
    return "positive"


def total(items, limit=None):
    result = 0
    for item in items:
        if limit is not None and result > limit:
            break
        result += item
    return result


def never_called(flag):
    if flag:
        return 1
    return 2


class Box:
    def __init__(self, value):
        self.value = value

    def get(self, default=None):
        while default is None:
            default = 0
        return self.value if self.value is not None else default
'''
SCRIPT = """import shapes

shapes.classify(5)
shapes.classify(-1)
shapes.total([1, 2, 3])
shapes.Box(3).get()
"""


def coverage(tmp: Path, *args: str) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    result = subprocess.run(
        [sys.executable, "-m", "coverage", *args],
        cwd=tmp,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.realdata
def test_coverage_py_lcov_has_coverage_py_totals(covtool: Covtool) -> None:
    if importlib.util.find_spec("coverage") is None:
        pytest.fail(
            "coverage.py is not installed: the test extra (pip install -e '.[test]') has it"
        )
    tmp = covtool.path
    (tmp / "shapes.py").write_text(MODULE)
    (tmp / "script.py").write_text(SCRIPT)
    coverage(tmp, "run", "--branch", "script.py")
    coverage(tmp, "lcov", "-o", "cov.lcov")
    coverage(tmp, "json", "-o", "cov.json")
    text_report = coverage(tmp, "report", "--precision=4")
    expected = json.loads((tmp / "cov.json").read_text())
    data = report(covtool, "cov.lcov")
    for path, entry in expected["files"].items():
        summary = entry["summary"]
        assert counts(data["files"][path]) == (
            summary["num_statements"],
            summary["covered_lines"],
            summary["num_branches"],
            summary["covered_branches"],
        )
    totals = expected["totals"]
    assert totals["missing_lines"] > 0 and totals["num_branches"] > totals["covered_branches"]
    assert counts(data["totals"]) == (
        totals["num_statements"],
        totals["covered_lines"],
        totals["num_branches"],
        totals["covered_branches"],
    )
    shown = views.format_percent(Totals(*counts(data["totals"])), 4)
    assert text_report.splitlines()[-1].split()[-1] == shown
