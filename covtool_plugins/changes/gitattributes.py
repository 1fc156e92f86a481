"""Leave out files that ``.gitattributes`` marks ``linguist-generated`` or
``coverage-excluded``.

Git's own semantics decide: ``path linguist-generated`` (set) or ``=true`` leaves the file
out; ``-linguist-generated`` (unset), ``=false``, any other value, or no mention keeps it, and
later lines and deeper ``.gitattributes`` files override earlier ones as git says. Every path
is resolved in one ``git check-attr --stdin -z`` call.
"""

from __future__ import annotations

from covtool import GitError, Run, git_output, hookimpl

ATTRIBUTES = ("linguist-generated", "coverage-excluded")


@hookimpl
def covtool_ignore_files(paths: list[str], run: Run) -> dict[str, str]:
    """The paths whose attributes mark them generated or excluded from coverage."""
    if not paths:
        return {}
    output = _check_attr(run, paths)
    if output is None:
        return {}
    fields = output.split(b"\0")
    ignored: dict[str, str] = {}
    for i in range(0, len(fields) - 2, 3):
        path, attribute, value = (f.decode("utf-8", "surrogateescape") for f in fields[i : i + 3])
        if value in ("set", "true"):
            ignored.setdefault(path, f".gitattributes: {attribute}")
    return ignored


def _check_attr(run: Run, paths: list[str]) -> bytes | None:
    """``git check-attr``'s NUL-separated answer, or None (with a warning) when git fails."""
    request = b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths)
    try:
        return git_output(run.repository, "check-attr", "--stdin", "-z", *ATTRIBUTES, stdin=request)
    except GitError as error:
        if "not a git repository" in error.reason:
            return None  # no repository, no attributes: nothing to say
        run.warn(
            f".gitattributes not read ({error.reason}); no file is left out for its attributes"
        )
        return None
