"""The text, markdown and JSON reports: golden files, colour on a terminal, escaping."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from support import Covtool

EXAMPLE = Path(__file__).parent.parent / "examples" / "shop" / "coverage.out"
# The example after a change: Remove got a test, pay.go lost Tax, a new file appeared.
CHANGED = """mode: count
example.com/shop/cart/cart.go:22.37,23.23 1 3
example.com/shop/cart/cart.go:26.2,26.25 1 2
example.com/shop/cart/cart.go:32.2,33.12 2 1
example.com/shop/cart/cart.go:23.23,25.3 1 1
example.com/shop/cart/cart.go:26.25,27.33 1 1
example.com/shop/cart/cart.go:27.33,30.4 2 1
example.com/shop/cart/cart.go:37.40,38.25 1 2
example.com/shop/cart/cart.go:44.2,44.14 1 1
example.com/shop/cart/cart.go:38.25,39.28 1 2
example.com/shop/cart/cart.go:39.28,42.4 2 1
example.com/shop/cart/cart.go:48.28,50.31 2 1
example.com/shop/cart/cart.go:53.2,53.14 1 1
example.com/shop/cart/cart.go:50.31,52.3 1 1
example.com/shop/pay/pay.go:5.39,6.18 1 2
example.com/shop/pay/pay.go:9.2,9.20 1 1
example.com/shop/pay/pay.go:12.2,12.38 1 1
example.com/shop/pay/pay.go:6.18,8.3 1 1
example.com/shop/pay/pay.go:9.20,11.3 1 0
example.com/shop/ship/ship.go:3.30,5.2 2 0
"""
Golden = Callable[[str, str], None]


def test_text_report_golden(covtool: Covtool, golden: Golden) -> None:
    result = covtool("report", EXAMPLE)
    assert result.exit_code == 0
    golden("report.txt", result.stdout)


def test_markdown_report_golden(covtool: Covtool, golden: Golden) -> None:
    golden("report.md", covtool("report", EXAMPLE, "--format", "markdown").stdout)


def test_diff_goldens(covtool: Covtool, golden: Golden) -> None:
    covtool.write("changed.out", CHANGED)
    golden("diff.txt", covtool("diff", EXAMPLE, "changed.out").stdout)
    golden("diff.md", covtool("diff", EXAMPLE, "changed.out", "-f", "markdown").stdout)


def test_json_report_numbers(covtool: Covtool) -> None:
    data = json.loads(covtool("report", EXAMPLE, "-f", "json").stdout)
    assert data["format_version"] == 1 and data["mode"] == "count"
    assert data["totals"] == {"statements": 23, "covered": 16, "percent": 1600 / 23}
    assert data["files"]["example.com/shop/pay/pay.go"] == {
        "statements": 6,
        "covered": 4,
        "percent": 400 / 6,
    }
    assert set(data["directories"]) == {"example.com/shop/cart", "example.com/shop/pay"}


def test_several_profiles_are_merged_before_reporting(covtool: Covtool) -> None:
    data = json.loads(covtool("report", EXAMPLE, EXAMPLE, "-f", "json").stdout)
    assert data["totals"]["statements"] == 23


def test_markdown_escapes_file_names(covtool: Covtool) -> None:
    covtool.write("odd.out", "mode: set\na|b/<script>`x`](y).go:1.1,1.5 1 1\n")
    text = covtool("report", "odd.out", "-f", "markdown").stdout
    assert "a\\|b/&lt;script&gt;\\`x\\`\\](y).go | 1 | 1 | 100.0%" in text  # no link can start
    assert "<script>" not in text


def test_percentages_never_round_to_100_or_0(covtool: Covtool) -> None:
    covered = "".join(f"a.go:{i}.1,{i}.2 1 1\n" for i in range(1, 2000))
    covtool.write("almost.out", "mode: set\n" + covered + "a.go:3000.1,3000.2 1 0\n")
    assert covtool("report", "almost.out").stdout.splitlines()[-1].split()[-1] == "99.9%"
    covtool.write(
        "barely.out", "mode: set\n" + covered.replace(" 1\n", " 0\n") + "a.go:3000.1,3000.2 1 1\n"
    )
    assert covtool("report", "barely.out").stdout.splitlines()[-1].split()[-1] == "0.1%"


def run_on_terminal(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """covtool's output when its standard output is a pseudo-terminal."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "covtool", *args],
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait()
    os.close(leader)
    return b"".join(chunks).decode()


def test_colour_on_a_terminal_unless_no_color(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVTOOL_") and k != "NO_COLOR"}
    env["TERM"] = "xterm"
    coloured = run_on_terminal(
        ["report", str(EXAMPLE), "--coverage-threshold", "70"], env, tmp_path
    )
    assert "\x1b[31m" in coloured and "\x1b[32m" in coloured  # red below 70 %, green above
    assert "example.com/shop/pay/pay.go" in coloured
    plain = run_on_terminal(["report", str(EXAMPLE)], env | {"NO_COLOR": "1"}, tmp_path)
    assert "\x1b[" not in plain and "TOTAL" in plain
