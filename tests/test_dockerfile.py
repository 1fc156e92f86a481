"""The Prow image's Dockerfile, read with a real Dockerfile parser (no Docker engine here)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def instructions() -> list[dict[str, Any]]:
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    return list(parser.structure)


def of(instructions: list[dict[str, Any]], kind: str) -> list[str]:
    return [i["value"] for i in instructions if i["instruction"] == kind]


def test_a_slim_python_base(instructions: list[dict[str, Any]]) -> None:
    [base] = of(instructions, "FROM")
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", base), base


def test_the_entrypoint_is_covtool_run_in_exec_form(instructions: list[dict[str, Any]]) -> None:
    [entrypoint] = of(instructions, "ENTRYPOINT")
    assert json.loads(entrypoint) == ["covtool", "run"]
    assert instructions[-1]["instruction"] == "ENTRYPOINT"


def test_it_runs_as_a_user_that_it_creates_and_is_not_root(
    instructions: list[dict[str, Any]],
) -> None:
    users = of(instructions, "USER")
    assert users, "no USER: the image would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    kinds = [i["instruction"] for i in instructions]
    assert kinds.index("USER") > max(i for i, k in enumerate(kinds) if k == "RUN")
    created = " ".join(of(instructions, "RUN"))
    assert re.search(rf"useradd\b[^&]*--uid {user}\b", created), created


def test_git_an_optional_go_and_covtool_from_the_repository(
    instructions: list[dict[str, Any]],
) -> None:
    runs = of(instructions, "RUN")
    assert any(re.search(r"apt-get install\b.*\bgit\b", run) for run in runs)
    [go] = [a for a in of(instructions, "ARG") if a.startswith("GO_VERSION")]
    assert go == 'GO_VERSION=""'  # no Go unless asked for
    assert any("$GO_VERSION" in run and "go.dev/dl/go${GO_VERSION}" in run for run in runs)
    [copied] = of(instructions, "COPY")
    source, destination = copied.split()
    assert source == "."
    [install] = [run for run in runs if "pip install" in run]
    extras = re.search(rf'"{re.escape(destination)}\[(\w+)\]"', install)
    assert extras is not None, install
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert extras[1] in declared["optional-dependencies"]


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".covtool", "artifacts"} <= set(ignored)
