"""Settings that plugins declare, and the configuration read from four layers.

Layers, lowest first: each setting's default < ``covtool.toml`` (or ``[tool.covtool]`` in
``pyproject.toml``) < environment variables (another program's that a setting names, such
as Prow's ``ARTIFACTS``, then ``COVTOOL_<NAME>``) < command-line flags. Names
are lower-case words joined by underscores; files and flags accept hyphens too, and flags
accept both spellings (``--coverage-threshold``, ``--coverage_threshold``). A key, variable
or value that covtool does not know is an error that names where it came from.
"""

from __future__ import annotations

import decimal
import difflib
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from covtool.errors import UsageError

if TYPE_CHECKING:
    import pluggy

ENV_PREFIX = "COVTOOL_"
#: Environment variables covtool reads itself, outside the settings.
RESERVED_ENV = frozenset({"COVTOOL_DISABLE_PLUGIN_AUTOLOAD", "COVTOOL_CONFIG", "COVTOOL_DEBUG"})
CONFIG_FILE = "covtool.toml"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


# -- value types ---------------------------------------------------------------------------
def _as_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError("expected an integer") from None


def _as_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    try:
        return float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ValueError("expected a number") from None


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true or false")


def _as_percent(value: Any) -> float:
    """``70``, ``70.5``, ``"70%"`` or the fraction ``0.7``: a percentage from 0 to 100.

    A number between 0 and 1 without a ``%`` sign is a fraction (``0.7`` is 70 %); ``1``
    is 1 %. Decimal arithmetic keeps ``0.29`` at exactly 29, not 28.999999999999996.
    """
    if isinstance(value, bool):
        raise ValueError("expected a percentage such as 70, 70% or 0.7")
    text = str(value).strip() if isinstance(value, str) else repr(value)
    signed = text.endswith("%")
    try:
        number = decimal.Decimal(text.removesuffix("%").strip())
    except decimal.InvalidOperation:
        raise ValueError("expected a percentage such as 70, 70% or 0.7") from None
    if not number.is_finite() or not 0 <= number <= 100:
        raise ValueError("expected a percentage from 0 to 100")
    if not signed and 0 < number < 1:
        number *= 100
    return float(number)


def _as_list(value: Any) -> tuple[str, ...]:
    """A TOML array of strings, or one comma-separated string (environment, flags)."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(item for v in value for item in _as_list(v))
    raise ValueError("expected a list of strings")


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "str": _as_str,
    "path": _as_str,
    "int": _as_int,
    "float": _as_float,
    "bool": _as_bool,
    "percent": _as_percent,
    "list": _as_list,
}


@dataclass(frozen=True)
class Setting:
    """One declared setting: its name, type, default, help and which plugin declared it."""

    name: str
    type: str
    default: Any
    help: str
    plugin: str
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    #: Other programs' variables that set it, below ``COVTOOL_<NAME>`` (Prow's ``ARTIFACTS``).
    environ: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        """The primary command-line flag, ``--words-with-hyphens``."""
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        """The environment variable, ``COVTOOL_WORDS``."""
        return ENV_PREFIX + self.name.upper()

    def convert(self, value: Any, where: str) -> Any:
        """The value in this setting's type; an error names ``where`` it came from."""
        try:
            converted = CONVERTERS[self.type](value)
        except ValueError as error:
            raise UsageError(f"{where}: {error}, got {value!r}") from None
        if self.choices and converted not in self.choices:
            raise UsageError(f"{where}: expected one of {', '.join(self.choices)}, got {value!r}")
        return converted


def normalise(name: str) -> str:
    """The canonical spelling of a setting name: lower case, underscores."""
    return name.strip().lower().replace("-", "_")


class Parser:
    """Collects the settings that plugins declare in ``covtool_addoption``."""

    def __init__(self) -> None:
        self.settings: dict[str, Setting] = {}
        self._plugin = "core"

    def for_plugin(self, name: str) -> Parser:
        """Attribute the settings declared next to plugin ``name``."""
        self._plugin = name
        return self

    def addoption(
        self,
        name: str,
        *,
        type: str = "str",  # noqa: A002 - the natural word for a setting's type
        default: Any = None,
        help: str,  # noqa: A002
        choices: Iterable[str] = (),
        aliases: Iterable[str] = (),
        environ: Iterable[str] = (),
    ) -> None:
        """Declare a setting.

        :param name: lower-case words joined by underscores.
        :param type: one of ``str``, ``path``, ``int``, ``float``, ``bool``, ``percent``,
            ``list``.
        :param default: the value when no layer sets it.
        :param help: one sentence for ``--help`` and ``covtool plugins``.
        :param choices: the only values allowed, if restricted.
        :param aliases: extra flag names (``--cov-threshold-percentage``).
        :param environ: environment variables of other programs that set it when
            ``COVTOOL_<NAME>`` does not (Prow's ``ARTIFACTS``).
        """
        key = normalise(name)
        if type not in CONVERTERS:
            raise UsageError(f"plugin {self._plugin!r}: setting {key!r} has unknown type {type!r}")
        if key in self.settings:
            owner = self.settings[key].plugin
            raise UsageError(
                f"setting {key!r} is declared by both plugin {owner!r} and plugin {self._plugin!r}"
            )
        self.settings[key] = Setting(
            key,
            type,
            default,
            help,
            self._plugin,
            tuple(choices),
            tuple(aliases),
            tuple(environ),
        )


@dataclass
class ConfigFile:
    """A configuration file's raw values, keys normalised."""

    path: Path
    label: str
    values: dict[str, Any] = field(default_factory=dict)
    spelled: dict[str, str] = field(default_factory=dict)  # normalised key -> as written


def find_config_file(start: Path) -> Path | None:
    """The nearest ``covtool.toml`` or ``pyproject.toml`` with ``[tool.covtool]``.

    Looks in ``start`` and its parents, stopping at the repository root (a directory with
    ``.git``) so a checkout never picks up a file from outside it.
    """
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and "covtool" in _read_toml(pyproject).get("tool", {}):
            return pyproject
        if (directory / ".git").exists():
            return None
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: invalid TOML: {error}") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot read: {error.strerror}") from None


def read_config_file(path: Path) -> ConfigFile:
    """The settings table of a configuration file (all of ``covtool.toml``)."""
    data = _read_toml(path)
    label = str(path)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("covtool", {})
        label = f"{path} [tool.covtool]"
    values = {normalise(key): value for key, value in data.items()}
    return ConfigFile(path, label, values, {normalise(key): key for key in data})


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Config:
    """The final settings of a run, and which layer each value came from."""

    def __init__(
        self,
        settings: Mapping[str, Setting],
        values: Mapping[str, Any],
        sources: Mapping[str, str],
        path: Path | None = None,
        pluginmanager: pluggy.PluginManager | None = None,
    ) -> None:
        self.settings = dict(settings)
        self._values = dict(values)
        self._sources = dict(sources)
        self.path = path
        self.pluginmanager = pluginmanager

    def get(self, name: str) -> Any:
        """The value of a declared setting; an undeclared name is a ``KeyError``."""
        return self._values[normalise(name)]

    def source(self, name: str) -> str:
        """Where a value came from: ``default``, a file, ``COVTOOL_X`` or ``--flag``."""
        return self._sources[normalise(name)]

    @classmethod
    def load(
        cls,
        settings: Mapping[str, Setting],
        file: ConfigFile | None = None,
        environ: Mapping[str, str] | None = None,
        flags: Mapping[str, Any] | None = None,
        pluginmanager: pluggy.PluginManager | None = None,
    ) -> Config:
        """Apply the four layers in order; see the module docstring."""
        values = {name: setting.default for name, setting in settings.items()}
        sources = dict.fromkeys(settings, "default")
        for name, (value, where) in _layers(settings, file, environ, flags).items():
            values[name] = settings[name].convert(value, where)
            sources[name] = where
        return cls(settings, values, sources, file.path if file else None, pluginmanager)


def _layers(
    settings: Mapping[str, Setting],
    file: ConfigFile | None,
    environ: Mapping[str, str] | None,
    flags: Mapping[str, Any] | None,
) -> dict[str, tuple[Any, str]]:
    """Raw values with where they came from, later layers overwriting earlier ones."""
    raw: dict[str, tuple[Any, str]] = {}
    if file is not None:
        for key, value in file.values.items():
            if key not in settings:
                hint = _did_you_mean(key, settings)
                raise UsageError(f"{file.label}: unknown key {file.spelled.get(key, key)!r}{hint}")
            raw[key] = (value, f"{file.label}: key {key!r}")
    environ = os.environ if environ is None else environ
    for key, setting in settings.items():
        for variable in setting.environ:
            if environ.get(variable):
                raw[key] = (environ[variable], f"environment variable {variable}")
                break
    for variable, value in environ.items():
        if not variable.startswith(ENV_PREFIX) or variable in RESERVED_ENV:
            continue
        key = normalise(variable[len(ENV_PREFIX) :])
        if key not in settings:
            hint = _did_you_mean(variable, [s.env for s in settings.values()])
            raise UsageError(f"environment variable {variable}: unknown setting{hint}")
        raw[key] = (value, f"environment variable {variable}")
    for key, value in (flags or {}).items():
        if value is not None:
            raw[key] = (value, f"flag {settings[key].flag}")
    return raw
