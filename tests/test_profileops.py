"""merge, filter, aggregate and diff on small profiles with hand-computed answers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from covtool.profileops import _union, merge
from covtool_plugins.formats.go import parse
from support import Covtool

A = """mode: count
example.com/shop/cart/cart.go:3.20,5.2 2 1
example.com/shop/cart/cart.go:7.30,9.16 2 0
example.com/shop/cart/cart.go:9.16,11.3 1 0
example.com/shop/pay/pay.go:3.20,5.2 4 3
example.com/shop/cart/cart.go:3.20,5.2 2 2
"""
B = """mode: count
example.com/shop/cart/cart.go:3.20,5.2 2 1
example.com/shop/cart/cart.go:7.30,9.16 2 5
example.com/shop/new.go:1.1,2.2 1 0
"""


def lines(covtool: Covtool, name: str) -> list[str]:
    return (covtool.path / name).read_text().splitlines()


def test_merge_adds_counts_and_unions_blocks(covtool: Covtool) -> None:
    covtool.write("a.out", A)
    covtool.write("b.out", B)
    result = covtool("merge", "a.out", "b.out", "-o", "m.out")
    assert result.exit_code == 0, result.stderr
    assert lines(covtool, "m.out") == [
        "mode: count",
        "example.com/shop/cart/cart.go:3.20,5.2 2 4",
        "example.com/shop/cart/cart.go:7.30,9.16 2 5",
        "example.com/shop/cart/cart.go:9.16,11.3 1 0",
        "example.com/shop/new.go:1.1,2.2 1 0",
        "example.com/shop/pay/pay.go:3.20,5.2 4 3",
    ]


def test_merge_expands_globs_and_expects_a_count(covtool: Covtool) -> None:
    covtool.write("shards/1-of-3/a.out", A)
    covtool.write("shards/3-of-3/b.out", B)
    assert covtool("merge", "shards/*/*.out", "-o", "g.out").exit_code == 0
    assert (
        covtool("merge", "shards/1-of-3/a.out", "shards/3-of-3/b.out", "-o", "m.out").exit_code == 0
    )
    assert lines(covtool, "g.out") == lines(covtool, "m.out")

    nothing = covtool("merge", "none/*.out")
    assert (nothing.exit_code, nothing.stderr.strip()) == (4, "none/*.out: matches no file")
    short = covtool("merge", "shards/*/*.out", "--expect", "3", "-o", "x.out")
    assert short.exit_code == 7
    assert "2 of 3 expected profiles after waiting 0s" in short.stderr
    assert "missing shard 2/3. Nothing was merged" in short.stderr
    assert not (covtool.path / "x.out").exists()
    extra = covtool("merge", "shards/*/*.out", "--expect", "1")
    assert extra.exit_code == 3 and "--expect 1, but the inputs match 2 profiles" in extra.stderr


def test_merge_three_times_triples(covtool: Covtool) -> None:
    covtool.write("a.out", A)
    assert covtool("merge", "a.out", "a.out", "a.out", "-o", "m.out").exit_code == 0
    assert [line.rsplit(" ", 1)[1] for line in lines(covtool, "m.out")[1:]] == ["9", "0", "0", "9"]


def test_merge_set_mode_ors(covtool: Covtool) -> None:
    covtool.write("s1.out", "mode: set\na.go:1.1,2.2 1 1\na.go:3.1,4.2 1 0\n")
    covtool.write("s2.out", "mode: set\na.go:1.1,2.2 1 1\na.go:3.1,4.2 1 1\n")
    assert covtool("merge", "s1.out", "s2.out", "-o", "m.out").exit_code == 0
    assert lines(covtool, "m.out") == ["mode: set", "a.go:1.1,2.2 1 1", "a.go:3.1,4.2 1 1"]


def test_merge_refuses_different_modes(covtool: Covtool) -> None:
    covtool.write("a.out", A)
    covtool.write("s.out", "mode: set\na.go:1.1,2.2 1 1\n")
    result = covtool("merge", "a.out", "s.out", "-o", "m.out")
    assert result.exit_code == 4
    assert (
        result.stderr
        == "s.out: mode 'set' differs from 'count' in a.out; profiles must agree on mode\n"
    )
    assert not (covtool.path / "m.out").exists()


def test_merge_refuses_overlapping_blocks_naming_file_and_spans(covtool: Covtool) -> None:
    covtool.write("old.out", "mode: count\na.go:3.20,5.2 2 1\n")
    covtool.write("new.out", "mode: count\na.go:3.21,5.2 2 1\n")
    result = covtool("merge", "old.out", "new.out")
    assert result.exit_code == 4
    assert result.stderr.startswith(
        "new.out: blocks overlap but differ in a.go: 3.20,5.2 (old.out) and 3.21,5.2;"
    )


def test_merge_refuses_different_statement_counts(covtool: Covtool) -> None:
    covtool.write("x.out", "mode: count\na.go:3.20,5.2 2 1\n")
    covtool.write("y.out", "mode: count\na.go:3.20,5.2 3 1\n")
    result = covtool("merge", "x.out", "y.out")
    assert result.exit_code == 4
    assert result.stderr == "y.out: block a.go:3.20,5.2 has 3 statements here but 2 at x.out\n"


def test_filter_include_then_exclude_unanchored(covtool: Covtool) -> None:
    covtool.write("a.out", A + "example.com/shop/cart/cart_gen.go:1.1,1.2 1 1\n")
    result = covtool(
        "filter", "a.out", "--include-path", "cart", "--exclude-path", "_gen\\.go$", "-o", "f.out"
    )
    assert result.exit_code == 0, result.stderr
    assert [line.split(":")[0] for line in lines(covtool, "f.out")[1:]] == [
        "example.com/shop/cart/cart.go"
    ] * 3
    several = covtool("filter", "a.out", "--include-path", "^nothing", "--include-path", "pay")
    assert several.stdout.splitlines()[1:] == ["example.com/shop/pay/pay.go:3.20,5.2 4 3"]


def test_filter_that_leaves_nothing_is_an_error(covtool: Covtool) -> None:
    covtool.write("a.out", A)
    result = covtool("filter", "a.out", "--exclude-path", "shop", "-o", "f.out")
    assert result.exit_code == 3
    assert result.stderr == "covtool: error: no file of a.out (2 files) is left after filtering\n"
    assert not (covtool.path / "f.out").exists()
    bad = covtool("filter", "a.out", "--include-path", "(")
    assert bad.exit_code == 3 and "--include-path '(': not a regular expression" in bad.stderr


def test_aggregate_counts_profiles_that_covered_each_block(covtool: Covtool) -> None:
    covtool.write("a.out", A)
    covtool.write("b.out", B)
    covtool.write("s.out", "mode: set\nexample.com/shop/new.go:1.1,2.2 1 1\n")
    assert covtool("aggregate", "a.out", "b.out", "s.out", "-o", "g.out").exit_code == 0
    assert lines(covtool, "g.out") == [
        "mode: count",
        "example.com/shop/cart/cart.go:3.20,5.2 2 2",
        "example.com/shop/cart/cart.go:7.30,9.16 2 1",
        "example.com/shop/cart/cart.go:9.16,11.3 1 0",
        "example.com/shop/new.go:1.1,2.2 1 1",
        "example.com/shop/pay/pay.go:3.20,5.2 4 1",
    ]


def test_diff_json(covtool: Covtool) -> None:
    covtool.write("a.out", A)
    covtool.write("b.out", B)
    result = covtool("diff", "a.out", "b.out", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["format_version"] == 1 and data["kind"] == "diff"
    files = data["files"]
    cart = files["example.com/shop/cart/cart.go"]
    assert {k: cart[k] for k in ("status", "old", "new", "delta")} == {
        "status": "changed",
        "old": {"statements": 5, "covered": 2, "percent": 40.0},
        "new": {"statements": 4, "covered": 4, "percent": 100.0},
        "delta": 60.0,
    }
    assert files["example.com/shop/new.go"]["status"] == "added"
    assert files["example.com/shop/new.go"]["old"] is None
    assert files["example.com/shop/pay/pay.go"]["status"] == "deleted"
    assert data["totals"]["old"]["covered"] == 6 and data["totals"]["new"]["covered"] == 4
    assert abs(data["totals"]["delta"] - (80 - 200 / 3)) < 1e-12
    assert cart["change"] == "none" and data["changes"] is None and data["patch"] is None


def test_diff_of_identical_profiles_is_unchanged(covtool: Covtool) -> None:
    covtool.write("a.out", A)
    data = json.loads(covtool("diff", "a.out", "a.out", "-f", "json").stdout)
    assert {f["status"] for f in data["files"].values()} == {"unchanged"}
    assert data["totals"]["delta"] == 0


def shard(mode: str, seed: int) -> str:
    """One of several shards with the same blocks and different counts."""
    top = 2 if mode == "set" else 9
    blocks = [f"p/f{i % 7}.go:{i}.1,{i}.9 {i % 3} {seed * i % 3 % top}" for i in range(1, 200)]
    return f"mode: {mode}\n" + "\n".join(blocks) + "\n"


@pytest.mark.parametrize("mode", ["set", "count"])
def test_same_layout_fast_path_equals_general_merge(mode: str) -> None:
    profiles = [parse(shard(mode, seed).encode(), f"{seed}.out") for seed in (1, 2, 3)]
    names = ["1.out", "2.out", "3.out"]
    fast = merge(profiles, names)
    general = _union(profiles, names, mode)
    assert fast.paths == general.paths
    assert all(np.array_equal(a, b) for a, b in zip(fast.regions, general.regions, strict=True))
    assert fast.regions.hits.any() and not fast.regions.hits.all()
