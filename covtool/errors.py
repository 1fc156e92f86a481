"""Exit codes and the one exception hierarchy that the CLI turns into one line of text.

Every error a user can cause is a ``CovtoolError`` carrying the exit code the CLI ends with.
Its message says what was wrong, where (a file and line, a setting, a flag) and, where it
helps, what to do. Anything else that escapes is a bug and ends as ``INTERNAL_ERROR``.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The exit codes of every covtool command. Their values are a stable contract."""

    #: Everything ran and every gate rule passed (or no gate was configured).
    OK = 0
    #: Reports were produced, but coverage is below a configured threshold.
    GATE_FAILED = 1
    #: The repository's tests failed while covtool ran them.
    TESTS_FAILED = 2
    #: A mistake in the command line, the configuration or the plugin selection.
    USAGE_ERROR = 3
    #: An input could not be read: a malformed or missing profile, an unreadable file.
    INPUT_ERROR = 4
    #: An outside service (storage, GitHub) failed after bounded retries.
    SERVICE_ERROR = 5
    #: A bug in covtool or in a plugin; the message says which.
    INTERNAL_ERROR = 6
    #: A sharded run's merge waited, and shards were still missing; nothing was reported.
    INCOMPLETE = 7
    #: Stopped by Ctrl-C or SIGINT (128 + SIGINT, as shells report it).
    INTERRUPTED = 130
    #: Stopped by SIGTERM (128 + SIGTERM), as CI systems stop a job that runs too long.
    TERMINATED = 143


class CovtoolError(Exception):
    """Base of every error covtool reports as one line; ``exit_code`` says how it ends."""

    exit_code: ExitCode = ExitCode.INTERNAL_ERROR


class UsageError(CovtoolError):
    """A wrong flag, setting value, configuration key or plugin name."""

    exit_code = ExitCode.USAGE_ERROR


class PluginError(UsageError):
    """A plugin that cannot be found, imported or registered; the message names it."""


class InputError(CovtoolError):
    """Unreadable input. ``location`` is ``PATH`` or ``PATH:LINE``, printed before the message."""

    exit_code = ExitCode.INPUT_ERROR

    def __init__(self, location: str, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


class ServiceError(CovtoolError):
    """An outside service that kept failing after the retries ran out."""

    exit_code = ExitCode.SERVICE_ERROR


class IncompleteError(CovtoolError):
    """Inputs that should all be there (every shard of a commit) are not, after waiting."""

    exit_code = ExitCode.INCOMPLETE
