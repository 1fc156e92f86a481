"""The storage interface that backends implement (``covtool_make_storage``).

Keys are ``/``-separated object names relative to the backend's root (a directory, or a
bucket and prefix), laid out the way Prow lays out its GCS bucket.
"""

from __future__ import annotations

from typing import Protocol


class Storage(Protocol):
    """A store of build artifacts with Prow's layout."""

    url: str

    def read(self, key: str) -> bytes:
        """The object's bytes; raises ``KeyError`` when it does not exist."""
        ...

    def write(self, key: str, data: bytes) -> None:
        """Create or replace an object; readers never see a half-written one."""
        ...

    def exists(self, key: str) -> bool:
        """Whether the object exists."""
        ...

    def list(self, prefix: str, delimiter: str = "/") -> tuple[list[str], list[str]]:
        """Keys directly under ``prefix`` and the sub-prefixes, as GCS lists them."""
        ...
