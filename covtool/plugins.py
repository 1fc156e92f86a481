"""Build the plugin manager, always in the same documented order.

1. ``-p no:NAME`` blocks (from flags, ``COVTOOL_PLUGINS`` and the ``plugins`` key);
2. the builtin plugins, in ``BUILTIN_PLUGINS`` order;
3. ``-p NAME``: an entry-point name of group ``covtool``, or a dotted module name;
4. every other entry point of group ``covtool``, unless ``COVTOOL_DISABLE_PLUGIN_AUTOLOAD``
   is set;
5. ``check_pending()``: a ``covtool_*`` function that matches no hook is an error.

Nothing happens at import time; ``make_plugin_manager`` is the only way in.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from covtool import hookspecs
from covtool.errors import PluginError, UsageError

ENTRY_POINT_GROUP = "covtool"
AUTOLOAD_OFF = "COVTOOL_DISABLE_PLUGIN_AUTOLOAD"

#: The builtin plugins: (name, module), registered in this order.
BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("core", "covtool.coreplugin"),
    ("go-format", "covtool_plugins.formats.go"),
    ("coveragepy-format", "covtool_plugins.formats.coveragepy"),
    ("cobertura-format", "covtool_plugins.formats.cobertura"),
    ("lcov-format", "covtool_plugins.formats.lcov"),
    ("jacoco-format", "covtool_plugins.formats.jacoco"),
    ("covtool-json-format", "covtool_plugins.formats.covjson"),
    ("local-storage", "covtool_plugins.storage.local"),
    ("baseline", "covtool_plugins.baseline"),
    ("previous", "covtool_plugins.previous"),
    ("gcs-storage", "covtool_plugins.storage.gcs"),
    ("github", "covtool_plugins.github.plugin"),
    ("git-changes", "covtool_plugins.changes.git"),
    ("gitattributes", "covtool_plugins.changes.gitattributes"),
    ("exclude", "covtool_plugins.changes.exclude"),
    ("go-runner", "covtool_plugins.runners.go"),
    ("pytest-runner", "covtool_plugins.runners.pytest"),
    ("command-runner", "covtool_plugins.runners.command"),
    ("text-report", "covtool_plugins.report.terminal"),
    ("json-report", "covtool_plugins.report.jsonreport"),
    ("markdown-report", "covtool_plugins.report.markdown"),
    ("comment-report", "covtool_plugins.report.comment"),
    ("html-report", "covtool_plugins.report.html"),
    ("testgrid-report", "covtool_plugins.report.testgrid"),
    ("gate", "covtool_plugins.gate"),
)
#: Builtins that ``-p no:NAME`` may not block: without them covtool cannot work.
ESSENTIAL_PLUGINS = frozenset({"core"})


@dataclass
class PluginSelection:
    """The ``-p`` arguments of every layer: names to add and names to block, in order."""

    add: list[str] = field(default_factory=list)
    block: list[str] = field(default_factory=list)

    def extend(self, specs: Iterable[str]) -> PluginSelection:
        """Add ``NAME`` and ``no:NAME`` specs; returns self."""
        for raw in specs:
            spec = raw.strip()
            if spec.startswith("no:"):
                self.block.append(spec[3:])
            elif spec:
                self.add.append(spec)
        return self


class CovtoolPluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers where each plugin came from.

    Any ``covtool_*`` function counts as an implementation, marked or not, so that a
    misspelt hook is caught by ``check_pending`` instead of never being called.
    """

    def __init__(self) -> None:
        super().__init__("covtool")
        self.add_hookspecs(hookspecs)
        self.origins: dict[str, str] = {}

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> pluggy.HookimplOpts | None:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith("covtool_"):
            function = getattr(plugin, name, None)
            if inspect.isroutine(function):
                return pluggy.HookimplOpts(
                    wrapper=False,
                    hookwrapper=False,
                    optionalhook=False,
                    tryfirst=False,
                    trylast=False,
                    specname=None,
                )
        return opts

    def register_from(self, plugin: Any, name: str, origin: str) -> None:
        """Register ``plugin`` under ``name``, recording ``origin`` for ``covtool plugins``."""
        try:
            self.register(plugin, name=name)
        except ValueError as error:
            raise PluginError(f"plugin {name!r} ({origin}): {error}") from None
        except pluggy.PluginValidationError as error:
            raise PluginError(f"plugin {name!r} ({origin}): {error}") from None
        self.origins[name] = origin


def make_plugin_manager(
    selection: PluginSelection, environ: Mapping[str, str] | None = None
) -> CovtoolPluginManager:
    """A plugin manager with every selected plugin registered, in the documented order."""
    environ = os.environ if environ is None else environ
    pm = CovtoolPluginManager()
    for name in selection.block:
        if name in ESSENTIAL_PLUGINS:
            raise UsageError(f"plugin {name!r} is essential and cannot be blocked")
        pm.set_blocked(name)
    for name, module in BUILTIN_PLUGINS:
        if not pm.is_blocked(name):
            pm.register_from(_import(name, module), name, "builtin")
    entry_points = {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    for spec in selection.add:
        if pm.is_blocked(spec) or pm.has_plugin(spec):
            continue
        if spec in entry_points:
            _register_entry_point(pm, entry_points[spec], "-p")
        else:
            pm.register_from(_import(spec, spec), spec, "-p")
    if not environ.get(AUTOLOAD_OFF):
        for entry_point in entry_points.values():
            if not pm.is_blocked(entry_point.name) and not pm.has_plugin(entry_point.name):
                _register_entry_point(pm, entry_point, "entry point")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginError(f"plugin {pm.get_name(error.plugin)!r}: {error}") from None
    return pm


def _import(name: str, module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name and module.startswith(error.name):
            raise PluginError(
                f"plugin {name!r}: no module or entry point named {module!r}"
            ) from None
        raise PluginError(f"plugin {name!r} failed to import: {error}") from None
    except Exception as error:  # noqa: BLE001 - any failure of plugin code is reported by name
        raise PluginError(
            f"plugin {name!r} failed to import: {type(error).__name__}: {error}"
        ) from None


def _register_entry_point(
    pm: CovtoolPluginManager, entry_point: metadata.EntryPoint, how: str
) -> None:
    dist = entry_point.dist
    origin = f"{how} {entry_point.value}" + (f" ({dist.name} {dist.version})" if dist else "")
    try:
        plugin = entry_point.load()
    except Exception as error:  # noqa: BLE001 - any failure of plugin code is reported by name
        raise PluginError(
            f"plugin {entry_point.name!r} ({origin}) failed to import: "
            f"{type(error).__name__}: {error}"
        ) from None
    pm.register_from(plugin, entry_point.name, origin)


def hooks_of(pm: pluggy.PluginManager, plugin: Any) -> list[str]:
    """The names of the hooks a registered plugin implements, sorted."""
    return sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
