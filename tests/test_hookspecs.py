"""The hook specifications are the plugin API: each must be documented and tested."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from covtool import hookspecs

ROOT = Path(__file__).parent.parent
HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("covtool_"))
#: Hooks the workflows of later milestones call; no builtin implements them yet. A hook
#: listed here that gains an implementation must leave the list (and get a test).
AWAITING_IMPLEMENTATION: set[str] = set()


def test_the_spec_module_declares_every_phase() -> None:
    assert len(HOOKS) == 18
    for phase in ("start-up", "profile", "baseline", "diff", "gate", "report", "end"):
        assert re.search(rf"^# {phase}\b", inspect.getsource(hookspecs), re.M), phase


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_a_full_docstring(name: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert len(doc.split("\n\n")[0]) > 20, f"{name}: no summary line"
    assert "Called" in doc, f"{name}: does not say when it is called"
    assert "Return value" in doc, f"{name}: does not say what a return value means"
    for parameter in inspect.signature(getattr(hookspecs, name)).parameters:
        assert f":param {parameter}:" in doc, f"{name}: parameter {parameter} undocumented"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_kind_matches_its_docstring(name: str) -> None:
    function = getattr(hookspecs, name)
    opts = function.covtool_spec
    doc = inspect.getdoc(function) or ""
    assert opts["firstresult"] == ("(firstresult)" in doc), name
    assert opts["historic"] == ("historic" in doc), name


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_in_the_plugin_reference(name: str) -> None:
    reference = (ROOT / "docs" / "plugins.md").read_text()
    assert f"`{name}" in reference, f"{name} missing from docs/plugins.md"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_called_and_tested_or_is_awaited(name: str) -> None:
    core = "\n".join(
        p.read_text() for p in (ROOT / "covtool").glob("*.py") if p.name != "hookspecs.py"
    )
    tests = "\n".join(
        p.read_text()
        for p in (ROOT / "tests").glob("**/test_*.py")
        if p.name != Path(__file__).name
    )
    called = re.search(rf"hook\.{name}\b", core) is not None
    if name in AWAITING_IMPLEMENTATION:
        assert not called, f"{name} is called now: remove it from AWAITING_IMPLEMENTATION"
    else:
        assert called, f"the core never calls {name}"
        assert name in tests, f"{name} has no test that names it"


def test_plugin_reference_is_generated_from_the_specs() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "hookref.py"), "--check"], check=False
    )
    assert result.returncode == 0, "docs/plugins.md is stale: run python docs/hookref.py"
