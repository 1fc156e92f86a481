"""The JaCoCo XML reader (covtool_plugins.formats.jacoco)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from covtool import InputError, ProfileSource
from covtool_plugins.formats import jacoco
from support import Covtool

DOCTYPE = '<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">'
PROLOGUE = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{DOCTYPE}\n'

#: Two files: Cart.java in a package two groups deep, Main.java in the default package.
#: Cart.java: 4 lines, 3 covered (ci > 0; line 14 has no mi), 6 branches, 3 covered.
#: Main.java: 4 lines, 1 covered (line 3: ci without mi; line 4: mi without ci; line 5 and
#: line 6 have no instruction counters at all), 2 branches, 1 covered.
#: The report's own counters (the last two) agree: 4 of 8 lines, 4 of 8 branches.
SHOP = (
    PROLOGUE
    + """<report name="shop">
  <sessioninfo id="host-1" start="1700000000000" dump="1700000001000"/>
  <group name="backend">
    <group name="core">
      <package name="com/shop/cart">
        <class name="com/shop/cart/Cart" sourcefilename="Cart.java">
          <method name="add" desc="(I)V" line="10">
            <counter type="INSTRUCTION" missed="0" covered="7"/>
            <counter type="LINE" missed="0" covered="2"/>
          </method>
          <counter type="LINE" missed="1" covered="3"/>
        </class>
        <sourcefile name="Cart.java">
          <line nr="10" mi="0" ci="4" mb="0" cb="0"/>
          <line nr="11" mi="2" ci="3" mb="1" cb="3"/>
          <line nr="12" mi="5" ci="0" mb="2" cb="0"/>
          <line nr="14" ci="2"/>
          <counter type="INSTRUCTION" missed="7" covered="9"/>
          <counter type="LINE" missed="1" covered="3"/>
          <counter type="BRANCH" missed="3" covered="3"/>
        </sourcefile>
        <counter type="LINE" missed="1" covered="3"/>
      </package>
      <counter type="LINE" missed="1" covered="3"/>
    </group>
    <package name="">
      <sourcefile name="Main.java">
        <line nr="3" ci="1"/>
        <line nr="4" mi="2"/>
        <line nr="5"/>
        <line nr="6" mb="1" cb="1"/>
        <counter type="LINE" missed="3" covered="1"/>
      </sourcefile>
    </package>
  </group>
  <counter type="INSTRUCTION" missed="14" covered="10"/>
  <counter type="LINE" missed="4" covered="4"/>
  <counter type="BRANCH" missed="4" covered="4"/>
</report>
"""
)


def write(tmp_path: Path, text: str, name: str = "jacoco.xml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def report_json(covtool: Covtool, *args: object) -> dict[str, Any]:
    result = covtool("report", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def counts(totals: dict[str, Any]) -> tuple[int, int, int, int]:
    return totals["statements"], totals["covered"], totals["branches"], totals["branches_covered"]


# -- the reader ----------------------------------------------------------------------------
def test_paths_lines_and_branches(tmp_path: Path) -> None:
    profile, warning = jacoco.read(
        ProfileSource(write(tmp_path, SHOP), name="jacoco.xml"), ("src/main/java",)
    )
    assert warning is None
    assert profile.paths == ("Main.java", "com/shop/cart/Cart.java")
    assert profile.unit == "line"
    assert profile.source_format == "jacoco"
    assert profile.roots == ("src/main/java",)
    rows = {
        path: [tuple(int(c[i]) for c in profile[path].regions) for i in range(4)]
        for path in profile
    }
    # (line, col, end line, end col, statements, hits, branches, branches covered)
    assert rows["com/shop/cart/Cart.java"] == [
        (10, 0, 10, 0, 1, 4, 0, 0),
        (11, 0, 11, 0, 1, 3, 4, 3),
        (12, 0, 12, 0, 1, 0, 2, 0),
        (14, 0, 14, 0, 1, 2, 0, 0),
    ]
    assert rows["Main.java"] == [
        (3, 0, 3, 0, 1, 1, 0, 0),
        (4, 0, 4, 0, 1, 0, 0, 0),
        (5, 0, 5, 0, 1, 0, 0, 0),
        (6, 0, 6, 0, 1, 0, 2, 1),
    ]


def test_same_file_in_two_groups_merges(tmp_path: Path) -> None:
    part = '<package name="a"><sourcefile name="B.java"><line nr="1" mi="0" ci="{}"/><line nr="{}" mi="1" ci="0"/></sourcefile></package>'
    text = f"{PROLOGUE}<report name='r'><group name='x'>{part.format(2, 5)}</group><group name='y'>{part.format(3, 6)}</group></report>"
    profile, warning = jacoco.read(ProfileSource(write(tmp_path, text), name="j.xml"))
    assert warning is None  # no report counters: nothing to compare with
    r = profile["a/B.java"].regions
    assert (r.start_line.tolist(), r.hits.tolist()) == ([1, 5, 6], [5, 0, 0])


def test_sourcefile_without_lines_is_a_file_with_nothing_to_cover(tmp_path: Path) -> None:
    text = f'{PROLOGUE}<report name="r"><package name="p"><sourcefile name="Empty.java"><counter type="LINE" missed="0" covered="0"/></sourcefile></package></report>'
    profile, _ = jacoco.read(ProfileSource(write(tmp_path, text), name="j.xml"))
    assert list(profile) == ["p/Empty.java"]
    assert profile["p/Empty.java"].totals.statements == 0


@pytest.mark.parametrize(
    "head",
    [
        f"{PROLOGUE}<report name='x'>",
        '\ufeff<?xml version="1.0"?>\n<!-- made by hand -->\n' + DOCTYPE + "\n\n<report>",
        "  <report/>",
        "<!DOCTYPE report SYSTEM 'https://www.jacoco.org/jacoco/trunk/coverage/report.dtd'><report name='GCOVR report'>",
        "<?xml version='1.0'?><?xml-stylesheet href='x.xsl'?><report\n name='x'>",
        "<report",  # the head may end right after the name
    ],
)
def test_sniffs_a_report_root(head: str) -> None:
    assert jacoco.is_jacoco(head.encode())


@pytest.mark.parametrize(
    "head",
    [
        '<?xml version="1.0"?><coverage line-rate="1">',
        "<reports>",
        "<!-- <report> -->",
        "<!-- an unfinished comment <report>",
        "TN:\nSF:report.c\n",
        "mode: set\n",
        "",
        "text before <report>",
    ],
)
def test_does_not_sniff_other_documents(head: str) -> None:
    assert not jacoco.is_jacoco(head.encode())


# -- through the CLI -------------------------------------------------------------------------
def test_exact_totals(covtool: Covtool) -> None:
    covtool.write("jacoco.xml", SHOP)
    covtool.write("src/main/java/com/shop/cart/Cart.java", "class Cart {}\n")
    covtool.write("src/main/java/Main.java", "class Main {}\n")
    data = report_json(covtool, "jacoco.xml")
    assert data["unit"] == "line"
    assert counts(data["totals"]) == (8, 4, 8, 4)
    assert data["totals"]["percent"] == 50.0
    files = {path: counts(totals) for path, totals in data["files"].items()}
    assert files == {
        "src/main/java/com/shop/cart/Cart.java": (4, 3, 6, 3),
        "src/main/java/Main.java": (4, 1, 2, 1),
    }
    assert data["files"]["src/main/java/com/shop/cart/Cart.java"]["percent"] == 60.0


def test_without_branches_the_json_has_no_branch_counts(covtool: Covtool) -> None:
    covtool.write(
        "j.xml",
        f'{PROLOGUE}<report name="r"><package name="p"><sourcefile name="A.java"><line nr="1" mi="0" ci="1" mb="0" cb="0"/><line nr="2" mi="3" ci="0"/><line nr="3" mi="0" ci="9"/></sourcefile></package><counter type="LINE" missed="1" covered="2"/></report>',
    )
    data = report_json(covtool, "j.xml")
    assert data["totals"]["statements"] == 3
    assert data["totals"]["covered"] == 2
    assert "branches" not in data["totals"]


def test_source_roots_setting_places_paths(covtool: Covtool) -> None:
    covtool.write(
        "j.xml",
        f'{PROLOGUE}<report name="r"><package name="com/x"><sourcefile name="A.kt"><line nr="1" mi="0" ci="1"/></sourcefile><sourcefile name="B.java"><line nr="1" mi="1" ci="0"/></sourcefile></package></report>',
    )
    covtool.write("src/main/kotlin/com/x/A.kt", "class A\n")
    covtool.write("app/src/com/x/B.java", "class B {}\n")
    default = report_json(covtool, "j.xml")
    assert "src/main/kotlin/com/x/A.kt" in default["files"]
    flagged = report_json(covtool, "j.xml", "--jacoco-source-roots", "app/src,src/main/kotlin")
    assert sorted(flagged["files"]) == ["app/src/com/x/B.java", "src/main/kotlin/com/x/A.kt"]
    result = covtool("report", "j.xml", env={"COVTOOL_JACOCO_SOURCE_ROOTS": "app/src"})
    assert result.exit_code == 0, result.stderr
    assert "app/src/com/x/B.java" in result.stdout


def test_setting_shows_in_config(covtool: Covtool) -> None:
    result = covtool("config")
    assert result.exit_code == 0, result.stderr
    assert (
        "jacoco_source_roots = src/main/java,src/main/kotlin  (default; plugin jacoco-format)"
        in result.stdout.splitlines()
    )


def test_forced_format_reads_a_report_that_does_not_sniff(covtool: Covtool) -> None:
    # A head longer than the sniffed bytes (a long comment) hides the root element.
    text = SHOP.replace("<report", "<!--" + "x" * 5000 + "-->\n<report", 1)
    covtool.write("long.xml", text)
    assert covtool("report", "long.xml").exit_code == 4
    result = covtool("report", "long.xml", "--input-format", "jacoco", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert counts(json.loads(result.stdout)["totals"]) == (8, 4, 8, 4)


def test_header_disagreement_is_one_warning(covtool: Covtool) -> None:
    lying = SHOP.replace(
        '<counter type="LINE" missed="4" covered="4"/>\n  <counter type="BRANCH" missed="4" covered="4"/>',
        '<counter type="LINE" missed="1" covered="9"/>\n  <counter type="BRANCH" missed="0" covered="8"/>',
    )
    assert lying != SHOP
    covtool.write("lying.xml", lying)
    result = covtool("report", "lying.xml", "--format", "json")
    assert result.exit_code == 0
    assert counts(json.loads(result.stdout)["totals"]) == (8, 4, 8, 4)  # the body wins
    assert result.stderr == (
        "covtool: warning: lying.xml: the header says 9 of 10 lines covered, the body 4 of 8; "
        "8 of 8 branches, the body 4 of 8; using the body "
        "(2 lines have no mi/ci counters and count as not covered)\n"
    )


def test_only_the_report_counters_are_the_header(covtool: Covtool) -> None:
    # Package, group, sourcefile, class and method counters differ from the body: ignored.
    text = SHOP.replace(
        '<counter type="LINE" missed="1" covered="3"/>',
        '<counter type="LINE" missed="0" covered="1"/>',
    )
    text = text.replace('type="BRANCH" missed="3"', 'type="BRANCH" missed="30"')
    covtool.write("j.xml", text)
    result = covtool("report", "j.xml")
    assert (result.exit_code, result.stderr) == (0, "")


def test_a_missing_report_counter_is_zero(covtool: Covtool) -> None:
    # JaCoCo leaves out counters with nothing to count: no BRANCH counter means no branches.
    covtool.write("j.xml", SHOP.replace('<counter type="BRANCH" missed="4" covered="4"/>', ""))
    result = covtool("report", "j.xml")
    assert result.exit_code == 0
    assert result.stderr == (
        "covtool: warning: j.xml: the header says 0 of 0 branches, the body 4 of 8; using the body "
        "(2 lines have no mi/ci counters and count as not covered)\n"
    )


# -- bad input -----------------------------------------------------------------------------
def one_file(body: str) -> str:
    return f'{PROLOGUE}<report name="r">\n<package name="p">\n<sourcefile name="A.java">\n{body}\n</sourcefile>\n</package>\n</report>\n'


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (one_file('<line nr="1" mi="0" ci="1">'), 6, "malformed XML: mismatched tag"),
        (PROLOGUE + "<report name='r'><package name='p'>", 2, "malformed XML: no element found"),
        (one_file('<line mi="0" ci="1"/>'), 5, "<line> without an 'nr' attribute"),
        (one_file('<line nr="" ci="1"/>'), 5, "<line> nr='' is not a line number"),
        (one_file('<line nr="0" ci="1"/>'), 5, "<line> nr='0' is not a line number (1 or more)"),
        (one_file('<line nr="x1" ci="1"/>'), 5, "<line> nr='x1' is not a line number"),
        (
            one_file('<line nr="3" mi="0" ci="many"/>'),
            5,
            "<line nr='3'> ci='many' is not a non-negative integer",
        ),
        (
            one_file('<line nr="3" mi="-1" ci="2"/>'),
            5,
            "<line nr='3'> mi='-1' is not a non-negative integer",
        ),
        (
            one_file('<line nr="3" mi="0" ci="+2"/>'),
            5,
            "<line nr='3'> ci='+2' is not a non-negative integer",
        ),
        (
            one_file('<line nr="3" ci="1" mb="1.5" cb="0"/>'),
            5,
            "<line nr='3'> mb='1.5' is not a non-negative integer",
        ),
        (
            one_file('<line nr="3" ci="1" cb=""/>'),
            5,
            "<line nr='3'> cb='' is not a non-negative integer",
        ),
        (
            one_file('<line nr="3" mi="" ci="1"/>'),
            5,
            "<line nr='3'> mi='' is not a non-negative integer",
        ),
        (
            one_file('<line nr="3" ci="1" cb="99999999999"/>'),
            5,
            "<line nr='3'> has counters too large to hold",
        ),
        (
            one_file('<line nr="99999999999" ci="1"/>'),
            5,
            "<line> nr='99999999999' is not a line number",
        ),
        (
            f"{PROLOGUE}<report name='r'>\n<sourcefile name='A.java'/></report>",
            3,
            "<sourcefile> outside a <package>",
        ),
        (
            f"{PROLOGUE}<report name='r'>\n<package name='p'>\n<line nr='1' ci='1'/></package></report>",
            4,
            "<line> outside a <sourcefile>",
        ),
        (
            f"{PROLOGUE}<report name='r'>\n<package>\n</package></report>",
            3,
            "<package> without a 'name' attribute",
        ),
        (
            f"{PROLOGUE}<report name='r'>\n<package name='p'><sourcefile/></package></report>",
            3,
            "<sourcefile> without a 'name' attribute",
        ),
        (
            f"{PROLOGUE}<report name='r'>\n<counter type='LINE' missed='1' covered='two'/></report>",
            3,
            "<counter type='LINE'> covered='two' is not a non-negative integer",
        ),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE report [<!ENTITY lol "lol">]>\n<report name="&lol;"/>',
            2,
            "refused, never expanded",
        ),
    ],
)
def test_bad_input_is_one_line_with_input_error_code(
    covtool: Covtool, text: str, line: int, message: str
) -> None:
    covtool.write("bad.xml", text)
    result = covtool("report", "bad.xml", "--input-format", "jacoco")
    assert result.exit_code == 4, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"bad.xml:{line}:"), result.stderr
    assert message in result.stderr


def test_bad_input_is_found_when_sniffed_too(covtool: Covtool) -> None:
    covtool.write("bad.xml", one_file('<line nr="2" mi="0" ci="1"/>\n<line nr="3" ci="oops"/>'))
    result = covtool("report", "bad.xml")
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr == "bad.xml:6:1: <line nr='3'> ci='oops' is not a non-negative integer\n"


@pytest.mark.parametrize("name", ["coverage", "package", "line"])
def test_forcing_jacoco_on_another_document(covtool: Covtool, name: str) -> None:
    covtool.write("other.xml", f"<?xml version='1.0'?>\n<{name} name='x' nr='1'/>")
    result = covtool("report", "other.xml", "--input-format", "jacoco")
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr == (
        f"other.xml:2:1: not a JaCoCo report: the root element is <{name}>, not <report>\n"
    )


def test_reader_errors_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        jacoco.read(
            ProfileSource(write(tmp_path, one_file('<line nr="1" ci="-3"/>')), name="j.xml")
        )
    assert raised.value.location == "j.xml:5:1"


def test_report_without_any_instruction_counters_is_refused(covtool: Covtool) -> None:
    """gcovr's JaCoCo shape: per-file counters only, which cannot say which lines ran."""
    body = '<line nr="3"/><line nr="5" mb="0" cb="2"/><counter type="LINE" missed="0" covered="2"/>'
    covtool.write("g.xml", one_file(body))
    result = covtool("report", "g.xml")
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr == (
        "g.xml: none of its 2 <line> elements has instruction counters (mi/ci), so which lines "
        "ran is unknown (gcovr writes JaCoCo this way); read the producer's Cobertura or LCOV "
        "output instead\n"
    )
