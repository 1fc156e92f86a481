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
