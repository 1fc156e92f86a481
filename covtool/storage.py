"""The storage interface that backends implement (``covtool_make_storage``), and its rules.

Keys are ``/``-separated object names relative to the backend's root (a directory, or a
bucket and prefix), laid out the way Prow lays out its GCS bucket (``covtool.layout``).
Every backend checks every key with ``check_key``: no empty segment, no ``.`` or ``..``,
no leading ``/``, no backslash or NUL — so no object name can reach outside the store.

Writes are whole: a reader sees the old object or the new one, never a part. Conditional
writes use *generations*: ``read_generation`` tells an object's current generation (0 when
it does not exist), and ``write(..., if_generation=g)`` succeeds only while it is still
``g``, else raises ``PreconditionFailed`` — this is how ``latest-build.txt`` is updated by
several writers without losing the newest build.
"""

from __future__ import annotations

from typing import Protocol

from covtool.errors import CovtoolError, ExitCode, UsageError

#: The local store inside a repository when no other is configured.
DEFAULT_STORE = ".covtool/store"


class PreconditionFailed(CovtoolError):
    """A conditional write found another generation than the one it expected."""

    exit_code = ExitCode.SERVICE_ERROR


class Storage(Protocol):
    """A store of build artifacts with Prow's layout."""

    #: Where the store is, as the user would write it (``gs://bucket/prefix``, a path).
    url: str

    def read(self, key: str) -> bytes:
        """The object's bytes; raises ``KeyError`` when it does not exist."""
        ...

    def read_generation(self, key: str) -> int:
        """The object's current generation: a positive number, or 0 when it does not exist."""
        ...

    def write(self, key: str, data: bytes, *, if_generation: int | None = None) -> None:
        """Create or replace an object whole.

        With ``if_generation``, only while the object's generation is that one (0: only
        while it does not exist); otherwise ``PreconditionFailed``.
        """
        ...

    def exists(self, key: str) -> bool:
        """Whether the object exists."""
        ...

    def list(self, prefix: str, delimiter: str = "/") -> tuple[list[str], list[str]]:
        """Keys directly under ``prefix`` and the sub-prefixes (each ending in the
        delimiter), both sorted, as GCS lists them. ``prefix`` is empty or ends in ``/``."""
        ...


def check_key(key: str, *, prefix: bool = False) -> str:
    """``key`` when it is a safe object name (or, with ``prefix``, a safe listing prefix).

    A prefix may be empty or end in ``/``; an object name may not. Anything that could name
    a place outside the store (``..``, an absolute name, a backslash) is a ``UsageError``.
    """
    if prefix and key == "":
        return key
    body = key[:-1] if prefix and key.endswith("/") else key
    segments = body.split("/")
    if (
        not body
        or key.startswith("/")
        or "\\" in key
        or "\0" in key
        or any(segment in ("", ".", "..") for segment in segments)
    ):
        kind = "prefix" if prefix else "object name"
        raise UsageError(f"{kind} {key!r} is not allowed: it must stay inside the store")
    return key
