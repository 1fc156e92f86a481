"""Start-up: what happens before the command line is parsed.

Plugins decide which flags exist, so covtool first picks ``-p``, ``--plugins`` and
``--config`` out of the arguments, finds the configuration file, builds the plugin manager
and lets every plugin declare its settings. The CLI then makes one flag per setting.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from covtool.config import (
    Config,
    ConfigFile,
    Parser,
    Setting,
    find_config_file,
    read_config_file,
)
from covtool.errors import UsageError
from covtool.plugins import CovtoolPluginManager, PluginSelection, make_plugin_manager
from covtool.prow import complete_environ
from covtool.run import Run


@dataclass
class Startup:
    """What start-up found: plugins, their settings, the configuration file, the environment."""

    pm: CovtoolPluginManager
    settings: dict[str, Setting]
    file: ConfigFile | None
    environ: Mapping[str, str]
    flags: dict[str, Any] = field(default_factory=dict)
    #: Whether hook calls are already being shown (``--verbose``).
    tracing: bool = False

    def make_run(self, output: Path | None = None) -> Run:
        """Apply every configuration layer, tell the plugins, and make the ``Run``."""
        config = Config.load(self.settings, self.file, self.environ, self.flags, self.pm)
        self.pm.hook.covtool_configure.call_historic(kwargs={"config": config})
        color = (
            output is None
            and sys.stdout.isatty()
            and "NO_COLOR" not in self.environ
            and self.environ.get("TERM") != "dumb"
        )
        run = Run(config, self.pm, Path.cwd(), color, sys.stdout, sys.stderr, self.environ)
        if config.get("verbose") and not self.tracing:
            trace_hooks(self.pm, run.stderr)
            self.tracing = True
        return run


def trace_hooks(pm: CovtoolPluginManager, stream: TextIO) -> None:
    """Show every hook call on ``stream`` once it returns: the hook, the plugins that
    implement it (in call order) and how long it took."""
    started: list[float] = []

    def before(hook_name: str, hook_impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        started.append(time.perf_counter())

    def after(
        outcome: Any, hook_name: str, hook_impls: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> None:
        seconds = time.perf_counter() - started.pop()
        plugins = ", ".join(impl.plugin_name for impl in reversed(hook_impls)) or "none"
        failed = " (raised)" if outcome.exception is not None else ""
        print(f"covtool: hook {hook_name} [{plugins}] {seconds:.3f}s{failed}", file=stream)

    pm.add_hookcall_monitoring(before, after)


def start(args: Sequence[str], environ: Mapping[str, str]) -> Startup:
    """Find the configuration file, build the plugin manager, collect the settings.

    Prow variables missing from ``environ`` are completed from ``JOB_SPEC`` first, so
    every command sees the same job.
    """
    environ = complete_environ(environ)
    specs, config_path = preparse(args)
    config_path = config_path or environ.get("COVTOOL_CONFIG")
    if config_path:
        if not Path(config_path).is_file():
            raise UsageError(f"configuration file {config_path} does not exist")
        path: Path | None = Path(config_path)
    else:
        path = find_config_file(Path.cwd())
    file = read_config_file(path) if path else None
    selection = PluginSelection()
    if file is not None and "plugins" in file.values:
        selection.extend(_plugin_specs(file.values["plugins"], file.label))
    selection.extend(_plugin_specs(environ.get("COVTOOL_PLUGINS", ""), "COVTOOL_PLUGINS"))
    selection.extend(specs)
    pm = make_plugin_manager(selection, environ)
    return Startup(pm, collect_settings(pm), file, environ)


def _plugin_specs(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [part for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise UsageError(f"{where}: key 'plugins': expected a list of plugin names")


def preparse(args: Sequence[str]) -> tuple[list[str], str | None]:
    """The plugin specs (``-p X``, ``-pX``, ``--plugins a,b``) and ``--config`` in ``args``."""
    specs: list[str] = []
    config: str | None = None
    items = iter(args)
    for arg in items:
        if arg == "--":
            break
        if arg == "-p":
            specs.append(next(items, ""))
        elif arg.startswith("-p") and not arg.startswith("--"):
            specs.append(arg[2:])
        elif arg == "--plugins":
            specs.extend(next(items, "").split(","))
        elif arg == "--config":
            config = next(items, "")
        elif arg.startswith("--plugins="):
            specs.extend(arg.split("=", 1)[1].split(","))
        elif arg.startswith("--config="):
            config = arg.split("=", 1)[1]
    return [s for s in specs if s.strip()], config


def collect_settings(pm: CovtoolPluginManager) -> dict[str, Setting]:
    """Call each plugin's ``covtool_addoption`` with a parser that knows who is declaring."""
    parser = Parser()
    for impl in pm.hook.covtool_addoption.get_hookimpls():  # registration order
        parser.for_plugin(impl.plugin_name)
        impl.function(*[{"parser": parser}[name] for name in impl.argnames])
    return parser.settings
