"""Leave out files that match an ``exclude`` pattern of the configuration.

A pattern is a shell-style glob over the repository-relative path, where ``*`` also
matches ``/`` (``gen/*`` is everything under ``gen``, ``*.pb.go`` every generated protobuf
file); a pattern ending in ``/`` is a directory and everything under it.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from covtool import Parser, Run, hookimpl


@hookimpl
def covtool_addoption(parser: Parser) -> None:
    """Declare the ``exclude`` patterns."""
    parser.addoption(
        "exclude",
        type="list",
        default=(),
        help="Leave files matching this glob out of the comparison (* matches / too; "
        "DIR/ is everything under DIR); repeatable.",
    )


@hookimpl
def covtool_ignore_files(paths: list[str], run: Run) -> dict[str, str]:
    """The paths that match an ``exclude`` pattern, each with the first pattern it matches."""
    patterns: tuple[str, ...] = run.config.get("exclude")
    ignored = {}
    for path in paths:
        pattern = next((p for p in patterns if _matches(path, p)), None)
        if pattern is not None:
            ignored[path] = f"exclude: {pattern}"
    return ignored


def _matches(path: str, pattern: str) -> bool:
    if pattern.endswith("/"):
        return path.startswith(pattern)
    return fnmatchcase(path, pattern)
