"""The context of one covtool invocation, handed to every hook as ``run``."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from covtool.paths import PathRules, repository_root

if TYPE_CHECKING:
    from covtool.config import Config
    from covtool.plugins import CovtoolPluginManager


@dataclass
class Run:
    """Settings, hooks and surroundings of the current invocation."""

    config: Config
    pm: CovtoolPluginManager
    root: Path = field(default_factory=Path.cwd)
    color: bool = False
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=dict)
    #: Where test output is saved while a runner runs (``stdout.txt``), else None.
    test_log: TextIO | None = None
    #: What this run wrote or published (files, the PR comment, the commit status), in order.
    outcomes: list[str] = field(default_factory=list)

    def outcome(self, message: str) -> None:
        """Say what was written or published, one line on stderr, and keep it for the
        summary at the end of ``covtool run``."""
        self.outcomes.append(message)
        print(f"covtool: {message}", file=self.stderr)

    def test_log_write(self, text: str) -> None:
        """Save test output to the test log, when one is open."""
        if self.test_log is not None:
            self.test_log.write(text)

    @property
    def hook(self) -> Any:
        """The hook relay: ``run.hook.covtool_<name>(...)``."""
        return self.pm.hook

    @cached_property
    def repository(self) -> Path:
        """The repository root: the ``root`` setting, else the git work tree, else ``root``."""
        configured = self.config.get("root")
        return Path(configured).resolve() if configured else repository_root(self.root)

    @cached_property
    def path_rules(self) -> PathRules:
        """How paths are placed in the repository (its Go modules, ``path_map``), made once."""
        return PathRules.for_repository(self.repository, self.config.get("path_map"))

    def warn(self, message: str) -> None:
        """Tell the user about something covtool worked around; one line on stderr."""
        print(f"covtool: warning: {message}", file=self.stderr)
