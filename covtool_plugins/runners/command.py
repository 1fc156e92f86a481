"""The command runner: any toolchain's tests, as a shell command that writes a coverage file.

Settings:

* ``command``: a shell command, run with ``bash -c`` in the repository (``make coverage``,
  ``ctest && gcovr --lcov -o cov.lcov``, ...);
* ``command_profile``: the coverage file the command writes, relative to the repository
  (an absolute path is taken as it is);
* ``command_format``: the format of that file (``lcov``, ``cobertura``, ...); empty lets the
  format plugins recognise it.

Detection: ``--runner command`` forces it; with no runner forced, a configured ``command``
claims the repository (a configured command is a clear intent), ahead of the runners that
recognise files such as ``go.mod`` or ``pyproject.toml``: this hook runs first.

The command's exit status is the tests' outcome: 0 passed, anything else failed, and the
profile is still read. A command that leaves no profile is a usage error. The profile is
copied into the scratch directory at once, so later steps never see it change, and kept in
the artifacts under its own base name.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from covtool import Parser, RawProfile, Run, UsageError, hookimpl, run_command

NAME = "command"
SHELL = "bash"


@hookimpl
def covtool_addoption(parser: Parser) -> None:
    """Declare the command, the file it writes and that file's format."""
    parser.addoption(
        "command",
        default="",
        help="Shell command that runs the tests with coverage (run with bash -c in the "
        "repository); setting it selects the command runner.",
    )
    parser.addoption(
        "command_profile",
        type="path",
        default="",
        help="Coverage file the command writes, relative to the repository.",
    )
    parser.addoption(
        "command_format",
        default="",
        help="Format of the command's coverage file (lcov, cobertura, ...); "
        "default: recognised from its content.",
    )


@hookimpl
def covtool_runners() -> list[str]:
    """This plugin provides the ``command`` runner."""
    return [NAME]


# tryfirst: a configured command must win over the runners that merely recognise files.
# pluggy already calls the plugin registered last first, but that is an accident of the
# builtin order, not something to rely on.
@hookimpl(tryfirst=True)
def covtool_run_tests(run: Run, scratch: Path) -> RawProfile | None:
    """Run the configured command and take the coverage file it wrote."""
    forced = run.config.get("runner")
    command: str = run.config.get("command")
    if forced and forced != NAME:
        return None
    if not forced and not command:
        return None
    profile_setting: str = run.config.get("command_profile")
    check_settings(command, profile_setting)
    fmt = run.config.get("command_format") or None
    if fmt is not None:
        check_format(run, fmt)
    profile = run.root / profile_setting  # an absolute setting replaces the root
    before = _stat(profile)
    status = run_command(
        run, [SHELL, "-c", command], cwd=run.root, env=dict(run.environ), label=NAME
    )
    after = _stat(profile)
    if after is None:
        raise UsageError(
            f"the command {command!r} (exit status {status}) did not write {profile_setting}"
            + (f" ({profile})" if not Path(profile_setting).is_absolute() else "")
        )
    if after == before:
        # Probably a leftover of an earlier run; refusing could break commands that skip
        # up-to-date work, so say it and go on.
        run.warn(f"{profile} was not changed by the command; it is from before the run")
    kept = scratch / profile.name
    try:
        shutil.copyfile(profile, kept)
    except OSError as error:
        raise UsageError(f"cannot read the command's profile {profile}: {error.strerror}") from None
    return RawProfile(
        path=kept,
        format=fmt,
        tests_passed=status == 0,
        runner=NAME,
        artifact_name=profile.name,
        exit_status=status,
    )


def check_settings(command: str, profile: str) -> None:
    """Both the command and its profile are needed; name every one that is missing."""
    missing = [
        f"{name} (--{name.replace('_', '-')})"
        for name, value in (("command", command), ("command_profile", profile))
        if not value.strip()
    ]
    if missing:
        raise UsageError(
            f"the command runner needs the setting{'s' if len(missing) > 1 else ''} "
            f"{' and '.join(missing)}, in covtool.toml or on the command line"
        )


def check_format(run: Run, fmt: str) -> None:
    """Refuse an unknown ``command_format`` before the (possibly long) command runs."""
    readable = sorted(
        f.name for formats in run.hook.covtool_report_formats() for f in formats if f.readable
    )
    if fmt not in readable:
        raise UsageError(
            f"command_format {fmt!r} is not a coverage format covtool reads "
            f"(known: {', '.join(readable)})"
        )


def _stat(path: Path) -> tuple[int, int, int] | None:
    """What tells one version of a file from another (inode, size, mtime), or None if absent.

    A directory counts as absent: it is not a coverage file.
    """
    try:
        found = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return found.st_ino, found.st_size, found.st_mtime_ns
