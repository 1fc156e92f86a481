"""The settings of covtool's core. An essential plugin: ``-p no:core`` is refused."""

from __future__ import annotations

from covtool.config import Parser
from covtool.hookimpl import hookimpl


@hookimpl
def covtool_addoption(parser: Parser) -> None:
    """Declare the settings the core itself reads."""
    parser.addoption(
        "plugins",
        type="list",
        default=(),
        help="Plugins to add (NAME: entry point or module) or block (no:NAME).",
    )
    parser.addoption(
        "coverage_threshold",
        type="percent",
        default=80.0,
        help="Per-file coverage threshold in percent; reports colour files below it.",
        aliases=("cov-threshold-percentage",),
    )
    parser.addoption(
        "root",
        type="path",
        default="",
        help="Repository root that report paths are relative to "
        "(default: the git work tree around the current directory, else the directory).",
    )
    parser.addoption(
        "path_map",
        type="list",
        default=(),
        help="Rewrite a path prefix before placing paths in the repository: FROM=TO "
        "(repeatable; the first matching rule wins).",
    )
