"""The context of one covtool invocation, handed to every hook as ``run``."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

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

    @property
    def hook(self) -> Any:
        """The hook relay: ``run.hook.covtool_<name>(...)``."""
        return self.pm.hook

    def warn(self, message: str) -> None:
        """Tell the user about something covtool worked around; one line on stderr."""
        print(f"covtool: warning: {message}", file=self.stderr)
