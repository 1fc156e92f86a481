"""The example third-party plugin (examples/covtool-badge), installed for real with pip and
found through its entry point, the way a plugin added to the Prow image is."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from prow_scenario import GO_PROJECT, make_repository
from support import go_env, leaks

EXAMPLE = Path(__file__).parents[2] / "examples" / "covtool-badge"

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory the example is pip-installed into (offline, from a copy of its source),
    for ``PYTHONPATH``."""
    root = tmp_path_factory.mktemp("badge")
    source = shutil.copytree(EXAMPLE, root / "source")
    target = root / "site"
    command = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
    command += ["--no-build-isolation", "--disable-pip-version-check", "--target", str(target)]
    done = subprocess.run([*command, str(source)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def covtool(
    cwd: Path, site: Path, *args: str, env: Mapping[str, str] = {}
) -> subprocess.CompletedProcess[str]:
    """The installed covtool in a fresh process, with the example on its path."""
    environ = {k: v for k, v in os.environ.items() if not leaks(k)} | dict(env)
    environ["PYTHONPATH"] = str(site)
    return subprocess.run(
        [sys.executable, "-m", "covtool", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_entry_point_is_found_and_listed(site: Path, tmp_path: Path) -> None:
    listed = covtool(tmp_path, site, "plugins")
    assert listed.returncode == 0, listed.stderr
    block = listed.stdout.split("\nbadge  ", 1)[1].split("\n")[:3]
    assert block[0].startswith("(entry point") and "covtool_badge" in block[0]
    assert block[1].split() == ["hooks:", "covtool_addoption,", "covtool_report_ready"]
    assert block[2].split() == ["settings:", "badge_label,", "badge_name"]
    blocked = covtool(tmp_path, site, "plugins", "-p", "no:badge")
    assert "\nbadge  " not in blocked.stdout and "blocked: badge" in blocked.stdout


def test_it_receives_report_ready_in_a_run_and_is_switched_off(site: Path, tmp_path: Path) -> None:
    repo = tmp_path / "shop"
    make_repository(repo, GO_PROJECT)
    env = go_env(tmp_path)
    run = covtool(repo, site, "run", "--badge-label", "cov <&>", env=env)
    assert run.returncode == 0, run.stderr
    badge = (repo / "artifacts" / "coverage-badge.svg").read_text()
    total = json.loads((repo / "artifacts" / "covtool.json").read_text())["totals"]["percent"]
    assert f">{total:.1f}%</text>" in badge and "cov &lt;&amp;&gt;" in badge
    assert f"wrote artifacts/coverage-badge.svg ({total:.1f}%)" in run.stderr

    (repo / "artifacts" / "coverage-badge.svg").unlink()
    off = covtool(repo, site, "run", "-p", "no:badge", env=env)
    assert off.returncode == 0, off.stderr
    assert not (repo / "artifacts" / "coverage-badge.svg").exists()
