"""The plugin manager: load order, -p, -p no:, entry points, import failures, listing."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from covtool.plugins import BUILTIN_PLUGINS, PluginSelection, make_plugin_manager
from support import Covtool

RECORDER = '''
"""A third-party reporter: it only hears about finished reports."""
from covtool import hookimpl

@hookimpl
def covtool_addoption(parser):
    parser.addoption("recorder_label", default="seen", help="What to print.")

@hookimpl
def covtool_report_ready(report, artifacts, run):
    print(run.config.get("recorder_label"), report.profile.totals().statements,
          [a.format for a in artifacts], file=run.stderr)
'''
PROFILE = "mode: set\na.go:1.1,2.2 3 1\n"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on sys.path where tests install plugin modules and distributions."""
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    yield path
    for name in [m for m in sys.modules if m.startswith(("covtest_", "covtool_total"))]:
        del sys.modules[name]


def install(site: Path, module: str, source: str, entry_point: str | None = None) -> None:
    """Write a module, and with ``entry_point`` a distribution advertising it in group covtool."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    if entry_point:
        info = site / f"{module}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[covtool]\n{entry_point} = {module}\n")


def test_builtins_load_in_order_and_check_pending() -> None:
    pm = make_plugin_manager(PluginSelection(), environ={"COVTOOL_DISABLE_PLUGIN_AUTOLOAD": "1"})
    names = [name for name, _ in pm.list_name_plugin()]
    assert names == [name for name, _ in BUILTIN_PLUGINS]
    assert set(pm.origins.values()) == {"builtin"}


def test_block_a_builtin(covtool: Covtool) -> None:
    covtool.write("a.out", PROFILE)
    result = covtool("report", "a.out", "-f", "markdown", "-p", "no:markdown-report")
    assert result.exit_code == 3
    assert "unknown report format 'markdown' (available: " in result.stderr
    available = result.stderr.split("(available: ")[1].rstrip(")\n").split(", ")
    assert "markdown" not in available and {"go", "json", "text"} <= set(available)
    assert "blocked: markdown-report" in covtool("plugins", "-pno:markdown-report").stdout


def test_essential_plugin_cannot_be_blocked(covtool: Covtool) -> None:
    result = covtool("plugins", "-p", "no:core")
    assert (result.exit_code, result.stderr) == (
        3,
        "covtool: error: plugin 'core' is essential and cannot be blocked\n",
    )


def test_dotted_module_with_p(covtool: Covtool, site: Path) -> None:
    install(site, "covtest_recorder", RECORDER)
    covtool.write("a.out", PROFILE)
    result = covtool("report", "a.out", "-p", "covtest_recorder", "--recorder-label", "heard")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "heard 3 ['text']\n"
    listing = covtool("plugins", "-p", "covtest_recorder").stdout
    assert "covtest_recorder  (-p: " in listing
    assert "hooks:    covtool_addoption, covtool_report_ready" in listing
    assert "settings: recorder_label" in listing


def test_entry_point_autoload_disable_and_block(covtool: Covtool, site: Path) -> None:
    install(site, "covtest_ep", RECORDER, entry_point="recorder")
    covtool.write("a.out", PROFILE)
    assert covtool("report", "a.out").stderr == "seen 3 ['text']\n"
    assert "recorder  (entry point covtest_ep (covtest_ep 1.0)" in covtool("plugins").stdout
    off = {"COVTOOL_DISABLE_PLUGIN_AUTOLOAD": "1"}
    assert covtool("report", "a.out", env=off).stderr == ""
    assert covtool("report", "a.out", "-p", "recorder", env=off).stderr == "seen 3 ['text']\n"
    assert covtool("report", "a.out", "-p", "no:recorder").stderr == ""
    assert covtool("report", "a.out", env={"COVTOOL_PLUGINS": "no:recorder"}).stderr == ""
    covtool.write("covtool.toml", 'plugins = ["no:recorder"]\n')
    assert covtool("report", "a.out").stderr == ""


def test_plugin_that_fails_to_import_is_named(covtool: Covtool, site: Path) -> None:
    install(site, "covtest_broken", "import covtest_not_installed\n")
    result = covtool("plugins", "-p", "covtest_broken")
    assert result.exit_code == 3
    assert result.stderr == (
        "covtool: error: plugin 'covtest_broken' failed to import: "
        "No module named 'covtest_not_installed'\n"
    )
    install(site, "covtest_raises", "raise RuntimeError('no config')\n", entry_point="raiser")
    failed = covtool("plugins")
    assert failed.exit_code == 3
    assert (
        "plugin 'raiser' (entry point covtest_raises (covtest_raises 1.0)) failed to import: RuntimeError: no config"
        in failed.stderr
    )


def test_unknown_plugin_name(covtool: Covtool) -> None:
    result = covtool("plugins", "--plugins", "covtest_nowhere")
    assert (result.exit_code, result.stderr) == (
        3,
        "covtool: error: plugin 'covtest_nowhere': no module or entry point named 'covtest_nowhere'\n",
    )


def test_misspelt_hook_is_an_error(covtool: Covtool, site: Path) -> None:
    install(site, "covtest_typo", "def covtool_report_redy(report):\n    pass\n")
    result = covtool("plugins", "-p", "covtest_typo")
    assert result.exit_code == 3
    assert "plugin 'covtest_typo': unknown hook 'covtool_report_redy'" in result.stderr


def test_setting_declared_twice_names_both_plugins(covtool: Covtool, site: Path) -> None:
    install(
        site,
        "covtest_clash",
        "def covtool_addoption(parser):\n    parser.addoption('plugins', help='x')\n",
    )
    result = covtool("plugins", "-p", "covtest_clash")
    assert result.exit_code == 3
    assert (
        "setting 'plugins' is declared by both plugin 'core' and plugin 'covtest_clash'"
        in result.stderr
    )


def test_listing_shows_every_builtin(covtool: Covtool) -> None:
    listing = covtool("plugins").stdout
    for name, _ in BUILTIN_PLUGINS:
        assert f"\n{name}  (builtin: " in "\n" + listing
    assert "go-format  (builtin: " in listing
    assert (
        "hooks:    covtool_parse_profile, covtool_render_report, covtool_report_formats" in listing
    )
    assert (
        "settings: allow_test_failures, artifacts, baseline, changes, coverage_threshold, "
        "html_name, html_url, job_name, marker_name, metadata_name, path_map, plugins, "
        "postsubmit_gcs_bucket, pr_path_pattern, presubmit_store, profile_name, "
        "record_local_runs, reports, root, runner, sensitivity, shard_group, shard_wait, "
        "stdout_name, target, test_file_map, verbose" in listing
    )
    reads, writes = listing.rstrip().splitlines()[-2:]
    assert reads.startswith("reads:  ") and writes.startswith("writes: ")
    assert {"go", "coveragepy", "covtool"} <= set(reads[8:].split(", "))
    assert {"go", "covtool", "json", "markdown", "text"} <= set(writes[8:].split(", "))
    assert "coveragepy" not in writes


def test_documented_example_plugin_works(covtool: Covtool, site: Path) -> None:
    docs = (Path(__file__).parent.parent / "docs" / "plugins.md").read_text()
    example = docs.split("```python\n", 1)[1].split("```", 1)[0]
    module = example.splitlines()[0].removeprefix("# ").removesuffix(".py")
    install(site, module, example, entry_point="total")
    covtool.write("a.out", "mode: set\na.go:1.1,2.2 3 1\nb.go:1.1,2.2 1 0\n")
    assert covtool("report", "a.out").stderr == "total 75.0%\n"
    assert covtool("report", "a.out", "--total-prefix", "all:").stderr == "all: 75.0%\n"
    assert covtool("report", "a.out", env={"COVTOOL_TOTAL_PREFIX": "env"}).stderr == "env 75.0%\n"
    assert covtool("report", "a.out", "-p", "no:total").stderr == ""
