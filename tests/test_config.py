"""Configuration layers: defaults < covtool.toml / pyproject.toml < COVTOOL_* < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from covtool.config import Config, ConfigFile, Parser
from covtool.errors import UsageError
from support import Covtool


def settings() -> Parser:
    parser = Parser().for_plugin("demo")
    parser.addoption("threshold", type="percent", default=80.0, help="h")
    parser.addoption("names", type="list", default=(), help="h")
    parser.addoption("strict", type="bool", default=False, help="h")
    parser.addoption("level", type="str", default="low", choices=("low", "high"), help="h")
    return parser


def shown(covtool: Covtool, *args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """``covtool config`` as {name: "value  (source...)"}."""
    result = covtool("config", *args, env=env)
    assert result.exit_code == 0, result.stderr
    return dict(line.split(" = ", 1) for line in result.stdout.splitlines()[1:])


def test_layers_in_order() -> None:
    parser = settings()
    file = ConfigFile(
        path=Path("covtool.toml"),
        label="covtool.toml",
        values={"threshold": 70, "names": ["a", "b"], "level": "high"},
    )
    config = Config.load(
        parser.settings,
        file,
        {"COVTOOL_THRESHOLD": "60%", "COVTOOL_STRICT": "yes"},
        {"threshold": "50"},
    )
    assert config.get("threshold") == 50.0 and config.source("threshold") == "flag --threshold"
    assert (
        config.get("strict") is True
        and config.source("strict") == "environment variable COVTOOL_STRICT"
    )
    assert (
        config.get("names") == ("a", "b") and config.source("names") == "covtool.toml: key 'names'"
    )
    assert config.get("level") == "high"
    assert Config.load(parser.settings).get("threshold") == 80.0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("threshold", "abc", "expected a percentage such as 70, 70% or 0.7, got 'abc'"),
        ("threshold", 101, "expected a percentage from 0 to 100"),
        ("strict", "maybe", "expected true or false"),
        ("names", 3, "expected a list of strings"),
        ("level", "medium", "expected one of low, high, got 'medium'"),
    ],
)
def test_bad_values_name_their_origin(name: str, value: object, message: str) -> None:
    file = ConfigFile(path=Path("c.toml"), label="c.toml", values={name: value})
    with pytest.raises(UsageError, match=f"c.toml: key '{name}': {message}"):
        Config.load(settings().settings, file)


def test_two_plugins_cannot_declare_one_setting() -> None:
    parser = settings()
    with pytest.raises(UsageError, match="declared by both plugin 'demo' and plugin 'other'"):
        parser.for_plugin("other").addoption("threshold", help="again")


def test_covtool_toml_hyphens_and_unknown_key(covtool: Covtool) -> None:
    covtool.write("covtool.toml", "coverage-threshold = 75\n")
    assert shown(covtool)["coverage_threshold"].startswith("75.0  (")
    covtool.write("covtool.toml", "coverage-treshold = 75\n")
    result = covtool("config")
    assert result.exit_code == 3
    assert result.stderr == (
        f"covtool: error: {covtool.path / 'covtool.toml'}: unknown key 'coverage-treshold' "
        "(did you mean 'coverage_threshold'?)\n"
    )


def test_pyproject_tool_section(covtool: Covtool) -> None:
    covtool.write(
        "pyproject.toml", "[project]\nname='x'\n[tool.covtool]\ncoverage_threshold = '65%'\n"
    )
    assert shown(covtool)["coverage_threshold"].startswith("65.0  (")
    covtool.write("pyproject.toml", "[tool.covtool]\nthreshold = 1\n")
    assert "pyproject.toml [tool.covtool]: unknown key 'threshold'" in covtool("config").stderr


def test_config_file_found_in_parent_but_not_beyond_repository(covtool: Covtool) -> None:
    covtool.write("covtool.toml", "coverage_threshold = 55\n")
    sub = covtool.path / "repo" / "pkg"
    sub.mkdir(parents=True)
    nested = Covtool(sub, covtool._capsys)
    assert shown(nested)["coverage_threshold"].startswith("55.0")
    (covtool.path / "repo" / ".git").mkdir()
    assert shown(nested)["coverage_threshold"].startswith("80.0  (default")


def test_environment_and_flag_spellings(covtool: Covtool) -> None:
    env = {"COVTOOL_COVERAGE_THRESHOLD": "60"}
    assert shown(covtool, env=env)["coverage_threshold"].startswith("60.0  (environment variable")
    for flag in (
        "--coverage_threshold=70%",
        "--coverage-threshold=70",
        "--cov-threshold-percentage=70",
    ):
        assert shown(covtool, flag, env=env)["coverage_threshold"].startswith("70.0  (flag")


def test_unknown_environment_variable_and_bad_toml(covtool: Covtool) -> None:
    result = covtool("config", env={"COVTOOL_COVERAGE_THRESHOL": "1"})
    assert result.exit_code == 3
    assert (
        "COVTOOL_COVERAGE_THRESHOL: unknown setting (did you mean 'COVTOOL_COVERAGE_THRESHOLD'?)"
        in result.stderr
    )
    covtool.write("covtool.toml", "coverage_threshold = \n")
    bad = covtool("config")
    assert (
        bad.exit_code == 3 and "covtool.toml: invalid TOML" in bad.stderr and "line 1" in bad.stderr
    )


def test_explicit_config_path(covtool: Covtool) -> None:
    covtool.write("ci/cov.toml", "coverage_threshold = 42\n")
    assert shown(covtool, "--config", "ci/cov.toml")["coverage_threshold"].startswith("42.0")
    missing = covtool("config", "--config", "nope.toml")
    assert (
        missing.exit_code == 3 and "configuration file nope.toml does not exist" in missing.stderr
    )
