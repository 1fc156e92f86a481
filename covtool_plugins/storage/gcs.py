"""Google Cloud Storage: a store at ``gs://BUCKET[/PREFIX]``, through ``google-cloud-storage``.

Credentials are the library's defaults (``GOOGLE_APPLICATION_CREDENTIALS``, the metadata
server, gcloud's application-default login); when ``STORAGE_EMULATOR_HOST`` is set, the
library talks to that emulator instead, anonymously.

Every request is bounded by ``gcs_timeout`` and retried with exponential backoff while GCS
answers 408, 429, 500, 502, 503 or 504 or the connection fails or times out, for at most
``gcs_retry_deadline`` seconds in all; then the operation ends with a one-line
``ServiceError`` naming the store, the object and the last error. Each operation is retried
whole (the library's own retries are switched off so that there is exactly one retry policy):

* reads, existence checks and listings change nothing, so retrying them is always safe;
* an upload replaces the object whole (GCS makes the new object visible only once all of it
  has arrived), so retrying an unconditional upload is safe too;
* a conditional upload carries ``ifGenerationMatch``, so a retry can never overwrite a newer
  object. If a first attempt succeeded but its answer was lost, the retry finds the
  generation changed: the write is then reported as done when the object holds exactly our
  bytes, else as ``PreconditionFailed``.

The google libraries are imported on first use, so that start-up stays fast.
"""

from __future__ import annotations

import base64
import hashlib
import http
import mimetypes
import os
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from covtool import (
    Config,
    CovtoolError,
    Parser,
    PreconditionFailed,
    ServiceError,
    Storage,
    UsageError,
    check_key,
    hookimpl,
)

SCHEME = "gs://"
EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
#: The project the client names when it talks to an emulator (GCS itself needs none).
EMULATOR_PROJECT = "covtool-emulator"
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRY_DEADLINE = 60.0
#: Bucket names as GCS allows them: 3 to 222 characters of lower-case letters, digits,
#: ``-``, ``_`` and ``.``, starting and ending with a letter or digit.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")
#: HTTP statuses worth another attempt: request timeout, rate limit, server-side trouble.
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_LONGEST_DETAIL = 300

T = TypeVar("T")


@hookimpl
def covtool_addoption(parser: Parser) -> None:
    """The bounds of every GCS request and of the retries around it."""
    parser.addoption(
        "gcs_timeout",
        type="float",
        default=DEFAULT_TIMEOUT,
        help="Seconds a single Google Cloud Storage request may wait for the network.",
    )
    parser.addoption(
        "gcs_retry_deadline",
        type="float",
        default=DEFAULT_RETRY_DEADLINE,
        help="Seconds of retrying a failing Google Cloud Storage operation before giving up.",
    )


@hookimpl
def covtool_make_storage(url: str, config: Config) -> Storage | None:
    """Claim ``gs://BUCKET[/PREFIX]``."""
    if url[: len(SCHEME)].lower() != SCHEME:
        return None
    bucket, prefix = parse_url(url)
    timeout = _setting(config, "gcs_timeout", DEFAULT_TIMEOUT)
    deadline = _setting(config, "gcs_retry_deadline", DEFAULT_RETRY_DEADLINE)
    if not timeout > 0:
        raise UsageError(
            f"setting gcs_timeout: expected a positive number of seconds, got {timeout}"
        )
    if not deadline >= 0:
        raise UsageError(
            f"setting gcs_retry_deadline: expected a number of seconds, got {deadline}"
        )
    return GcsStorage(url, bucket, prefix, timeout=timeout, deadline=deadline)


def parse_url(url: str) -> tuple[str, str]:
    """The bucket and the object-name prefix (empty, or ending in ``/``) of a ``gs://`` URL."""
    rest = url[len(SCHEME) :]
    bucket, _, path = rest.partition("/")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise UsageError(
            f"{url}: {bucket!r} is not a valid bucket name: expected gs://BUCKET[/PREFIX], "
            "BUCKET of 3 to 222 lower-case letters, digits, '-', '_' and '.'"
        )
    path = path.removesuffix("/")
    if path:
        try:
            check_key(path)
        except UsageError:
            raise UsageError(
                f"{url}: the prefix {path!r} is not allowed: no empty, '.' or '..' segments, "
                "no backslash"
            ) from None
        path += "/"
    return bucket, path


def _setting(config: Config, name: str, default: float) -> float:
    try:
        return float(config.get(name))
    except KeyError:  # a Config built without this plugin's settings
        return default


class GcsStorage:
    """A bucket, or the objects under a prefix of one, as a ``covtool.Storage``."""

    def __init__(
        self,
        url: str,
        bucket: str,
        prefix: str = "",
        *,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_RETRY_DEADLINE,
    ) -> None:
        self.url = url
        self.bucket_name = bucket
        self.prefix = prefix
        self.timeout = timeout
        self.deadline = deadline
        self._client: Any = None
        self._client_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GcsStorage({self.url!r})"

    # -- the Storage protocol ---------------------------------------------------------------
    def read(self, key: str) -> bytes:
        """The object's bytes; ``KeyError`` when it does not exist."""
        name = self._name(key)

        def download() -> bytes:
            from google.api_core.exceptions import NotFound

            try:
                data: bytes = (
                    self._bucket().blob(name).download_as_bytes(timeout=self.timeout, retry=None)
                )
            except NotFound:
                raise KeyError(key) from None
            return data

        return self._call("read", key, download)

    def read_generation(self, key: str) -> int:
        """The object's generation, 0 when it does not exist."""
        name = self._name(key)

        def reload() -> int:
            blob = self._bucket().get_blob(name, timeout=self.timeout, retry=None)
            return 0 if blob is None else int(blob.generation)

        return self._call("read the generation of", key, reload)

    def write(self, key: str, data: bytes, *, if_generation: int | None = None) -> None:
        """Upload the object whole; with ``if_generation``, only while it has that generation."""
        name = self._name(key)
        if if_generation is not None and (
            isinstance(if_generation, bool)
            or not isinstance(if_generation, int)
            or if_generation < 0
        ):
            raise UsageError(f"write {key!r}: if_generation must be a generation number or 0")
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        conditions = {} if if_generation is None else {"if_generation_match": if_generation}
        attempts = 0

        def upload() -> None:
            from google.api_core.exceptions import PreconditionFailed as Http412

            nonlocal attempts
            attempts += 1
            try:
                self._bucket().blob(name).upload_from_string(
                    data,
                    content_type=content_type,
                    timeout=self.timeout,
                    retry=None,
                    **conditions,
                )
            except Http412:
                if attempts > 1 and self._holds(name, data):
                    return  # an earlier attempt wrote it; only its answer was lost
                raise PreconditionFailed(
                    f"{self.url}: object {key!r} was not written: it no longer has generation "
                    f"{if_generation} (another writer changed it first)"
                ) from None

        self._call("write", key, upload)

    def exists(self, key: str) -> bool:
        """Whether the object exists."""
        name = self._name(key)

        def check() -> bool:
            return bool(self._bucket().blob(name).exists(timeout=self.timeout, retry=None))

        return self._call("check", key, check)

    def list(self, prefix: str, delimiter: str = "/") -> tuple[list[str], list[str]]:
        """The keys directly under ``prefix`` and its sub-prefixes, as GCS lists them."""
        _check_prefix(prefix)
        full = self.prefix + prefix

        def fetch() -> tuple[set[str], set[str]]:
            iterator = self._client_instance().list_blobs(
                self.bucket_name,
                prefix=full,
                delimiter=delimiter or None,
                timeout=self.timeout,
                retry=None,
            )
            names: set[str] = set()
            prefixes: set[str] = set()
            for page in iterator.pages:
                names.update(blob.name for blob in page)
                prefixes.update(page.prefixes)
            return names, prefixes

        names, prefixes = self._call("list", prefix, fetch)
        return (
            sorted(key for key in map(self._key, names) if _is_key(key)),
            sorted(key for key in map(self._key, prefixes) if _is_key(key, prefix=True)),
        )

    # -- helpers ----------------------------------------------------------------------------
    def _name(self, key: str) -> str:
        """The object name of a key: the store's prefix, then the checked key."""
        return self.prefix + check_key(key)

    def _key(self, name: str) -> str:
        return name[len(self.prefix) :]

    def _holds(self, name: str, data: bytes) -> bool:
        """Whether the object now holds exactly ``data`` (its MD5 says so)."""
        blob = self._bucket().get_blob(name, timeout=self.timeout, retry=None)
        digest = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        return blob is not None and blob.md5_hash == digest

    def _client_instance(self) -> Any:
        with self._client_lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _bucket(self) -> Any:
        return self._client_instance().bucket(self.bucket_name)

    def _make_client(self) -> Any:
        from google.auth.exceptions import DefaultCredentialsError
        from google.cloud import storage

        if os.environ.get(EMULATOR_ENV):
            from google.auth.credentials import AnonymousCredentials

            anonymous: Any = AnonymousCredentials  # google-auth's own annotations are partial
            return storage.Client(project=EMULATOR_PROJECT, credentials=anonymous())
        try:
            # No project: reading and writing objects of a named bucket needs none.
            return storage.Client(project=None)
        except DefaultCredentialsError as error:
            raise UsageError(
                f"{self.url}: no Google Cloud credentials found ({_one_line(str(error))}); "
                "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file"
            ) from None

    def _call(self, action: str, key: str, operation: Callable[[], T]) -> T:
        """Run ``operation`` with retries; turn what is left of a failure into one line."""
        from google.api_core.exceptions import GoogleAPICallError, RetryError
        from google.api_core.retry import Retry

        failed: list[Exception] = []
        retry = Retry(
            predicate=_transient,
            initial=0.2,
            maximum=5.0,
            multiplier=2.0,
            timeout=self.deadline,
            on_error=failed.append,
        )
        failures: tuple[type[Exception], ...] = (GoogleAPICallError, *_network_errors())
        started = time.monotonic()
        try:
            return retry(operation)()
        except (KeyError, CovtoolError):
            raise
        except RetryError as error:
            last = error.cause if error.cause is not None else error
            raise ServiceError(
                f"{self._where(action, key)}: gave up after {len(failed)} attempts in "
                f"{time.monotonic() - started:.1f}s (gcs_retry_deadline is {self.deadline:g}s); "
                f"last error: {_describe(last)}"
            ) from None
        except failures as error:
            raise ServiceError(f"{self._where(action, key)}: {_describe(error)}") from None

    def _where(self, action: str, key: str) -> str:
        what = "objects under" if action == "list" else "object"
        shown = f"{key!r}" if key else "the store's root"
        return f"{self.url}: cannot {action} {what} {shown}"


def _is_key(key: str, *, prefix: bool = False) -> bool:
    """Whether a listed name is one covtool can address (others, written by other tools
    with empty segments and the like, are left out of listings)."""
    if not key and not prefix:
        return False
    try:
        check_key(key, prefix=prefix)
    except UsageError:
        return False
    return bool(key)


def _network_errors() -> tuple[type[Exception], ...]:
    """Failures of the connection itself: refused, reset, timed out, cut short."""
    import http.client

    import requests
    import urllib3
    from google.auth.exceptions import TransportError
    from google.cloud.storage.exceptions import DataCorruption, InvalidResponse

    return (
        ConnectionError,
        TimeoutError,
        http.client.HTTPException,
        requests.ConnectionError,
        requests.Timeout,
        requests.exceptions.ChunkedEncodingError,
        urllib3.exceptions.ProtocolError,
        urllib3.exceptions.TimeoutError,
        TransportError,
        DataCorruption,  # a download whose checksum did not match: fetch it again
        InvalidResponse,
    )


def _transient(error: Exception) -> bool:
    """Whether another attempt may succeed."""
    from google.api_core.exceptions import GoogleAPICallError
    from google.cloud.storage.exceptions import InvalidResponse

    if isinstance(error, GoogleAPICallError):
        return error.code in _TRANSIENT_STATUSES
    if isinstance(error, InvalidResponse):
        return getattr(error.response, "status_code", None) in _TRANSIENT_STATUSES
    return isinstance(error, _network_errors())


_ERRNO = re.compile(r"\[Errno -?\d+\][^'\")]*")
_QUERY = re.compile(r"\?[^\s'\"]*")


def _describe(error: BaseException) -> str:
    """The last error in one line: its kind and its message, without query strings (an
    upload session id is a capability) and without anything multi-line."""
    from google.api_core.exceptions import GoogleAPICallError

    text = str(error)
    if isinstance(error, GoogleAPICallError):
        detail = _json_message(error) or text.removeprefix(str(error.code)).strip()
        try:
            phrase = f" {http.HTTPStatus(int(error.code or 0)).phrase}"
        except ValueError:
            phrase = ""
        text = f"HTTP {error.code}{phrase}: {detail}"
    else:
        errno = _ERRNO.search(text)
        if errno:  # "[Errno 111] Connection refused" rather than urllib3's whole story
            text = errno.group().strip()
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return _one_line(_QUERY.sub("", text))


def _json_message(error: Exception) -> str:
    """The ``error.message`` of a JSON error answer, as GCS gives one; else empty."""
    try:
        return str(error.response.json()["error"]["message"])  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError, ValueError):
        return ""


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LONGEST_DETAIL else text[: _LONGEST_DETAIL - 3] + "..."


def _check_prefix(prefix: str) -> None:
    """``check_key`` for a listing prefix, and no absolute ``/`` (which it lets through)."""
    check_key(prefix, prefix=True)
    if prefix.startswith("/"):
        raise UsageError(f"prefix {prefix!r} is not allowed: it must stay inside the store")
