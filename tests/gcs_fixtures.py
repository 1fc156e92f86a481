"""GCS fixtures: a real GCS emulator, a loopback relay in front of it, and ``store_url``.

A ``conftest.py`` that needs them imports the fixtures from here by name (pytest registers
the fixtures a conftest module holds, imported ones included).

``store_url`` is the fixture other tests use: the URL of a fresh, empty store, once per
backend (``local``: a temporary directory; ``gcs``: ``gs://covtool-test/<unique prefix>`` on
the session's emulator, with ``STORAGE_EMULATOR_HOST`` set for the test).

The emulator (``gcp-storage-emulator``) ignores ``ifGenerationMatch``, which real GCS
enforces. So GCS stores are reached through ``Relay``, a small HTTP relay on 127.0.0.1 that
forwards every request to the emulator and enforces that one precondition the way GCS does
(412 when the object's generation differs; 0 means "does not exist"), serialising requests
so that the check and the upload happen as one. The relay also injects failures for the
fault tests. Everything listens on and talks to loopback addresses only.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from covtool.config import Config
from covtool.plugins import AUTOLOAD_OFF, PluginSelection, make_plugin_manager
from covtool.startup import collect_settings
from covtool.storage import Storage

BUCKET = "covtool-test"
EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
LOOPBACK = "127.0.0.1"


# -- the emulator ----------------------------------------------------------------------------
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


class Emulator:
    """A ``gcp-storage-emulator`` subprocess on 127.0.0.1 with the bucket ``covtool-test``.

    In memory by default; with ``data_dir`` its objects survive ``stop`` and ``start``.
    """

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._output: Any = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 30.0) -> Emulator:
        """Start the process and wait until it answers. A first start that finds its port
        taken (it was free a moment ago) tries other ports."""
        for attempt in range(3):
            log = self._launch(timeout)
            if log is None:
                return self
            if self.data_dir is not None or attempt == 2 or "already in use" not in log:
                pytest.fail(f"the GCS emulator exited at start-up: {log}")
            self.port = free_port()
        raise AssertionError("unreachable")

    def _launch(self, timeout: float) -> str | None:
        """None once the emulator answers; its output when it exited instead."""
        executable = Path(sys.executable).with_name("gcp-storage-emulator")
        if not executable.exists():
            pytest.fail(f"{executable} is missing: install gcp-storage-emulator (the test extra)")
        command = [str(executable)]
        if self.data_dir is not None:
            command += ["--data-dir", str(self.data_dir)]
        command += ["start", "--host", LOOPBACK, "--port", str(self.port)]
        command += ["--default-bucket", BUCKET, "-q"]
        if self.data_dir is None:
            command.append("--in-memory")
        output = self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # The server binds in a thread of its own: when that fails, the process lives on.
            output.seek(0)
            log = output.read().decode(errors="replace")[-2000:]
            if self.process.poll() is not None or "Address already in use" in log:
                status = self.process.poll()
                self.stop()
                return log or f"no output, exit status {status}"
            if self._answers():
                return None
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"the GCS emulator did not answer on {self.url} within {timeout:g}s")

    def _answers(self) -> bool:
        """Whether the emulator serves the bucket (asked directly: no proxy ever)."""
        connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=2)
        try:
            connection.request("GET", f"/storage/v1/b/{BUCKET}")
            return connection.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        """Stop the process (and wait for it); the port is refused from then on."""
        process, self.process = self.process, None
        if self._output is not None:
            self._output.close()
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def gcs_emulators() -> Iterator[Callable[..., Emulator]]:
    """``gcs_emulators(data_dir=None)``: start a new emulator; all are stopped at the end."""
    started: list[Emulator] = []

    def start(data_dir: Path | None = None) -> Emulator:
        emulator = Emulator(data_dir)
        started.append(emulator)
        return emulator.start()

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture(scope="session")
def gcs_emulator(gcs_emulators: Callable[..., Emulator]) -> str:
    """The session's emulator: its URL (``http://127.0.0.1:PORT``)."""
    return gcs_emulators().url


# -- the relay -------------------------------------------------------------------------------
_BUCKET_METADATA = re.compile(r"/storage/v1/b/[^/]+")
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)


class Relay:
    """An HTTP relay on 127.0.0.1 to an upstream on 127.0.0.1, one request at a time.

    :param upstream: ``http://127.0.0.1:PORT`` (a loopback address, or ``ValueError``).
    :param preconditions: enforce ``ifGenerationMatch`` as GCS does.
    :param max_requests: requests after this many are answered 503 without relaying.

    ``fail_next(n)`` answers the next ``n`` requests with a status (503) instead of relaying
    them; ``lose_next(n)`` relays the next ``n`` but answers them with 503 all the same, as
    when an answer is lost on the way back. ``log`` holds ``(method, path, status)`` for
    every request answered.
    """

    def __init__(
        self, upstream: str, *, preconditions: bool = True, max_requests: int = 1_000_000
    ) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme != "http" or parsed.hostname not in (LOOPBACK, "localhost", "::1"):
            raise ValueError(f"the relay only talks to loopback addresses, not {upstream!r}")
        self.upstream = (parsed.hostname, parsed.port or 80)
        self.preconditions = preconditions
        self.max_requests = max_requests
        self.log: list[tuple[str, str, int]] = []
        self._failures: list[int] = []
        self._losses = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((LOOPBACK, 0), _RelayHandler)
        self._server.daemon_threads = True
        self._server.relay = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def lose_next(self, count: int) -> None:
        with self._lock:
            self._losses += count

    def statuses(self) -> list[int]:
        with self._lock:
            return [status for _, _, status in self.log]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # -- one request ---------------------------------------------------------------------
    def answer(self, handler: _RelayHandler) -> None:
        body = handler.read_body()
        with self._lock:  # the emulator is single-threaded anyway; this makes checks atomic
            if _BUCKET_METADATA.fullmatch(urllib.parse.urlsplit(handler.path).path):
                # google-cloud-storage fetches the bucket's metadata in a background thread
                # of its own (for tracing); relayed as is and left out of the log, so that
                # what a test injects and counts are the requests of the store's operations.
                status, headers, data = self._relay(handler, body)
            else:
                if len(self.log) >= self.max_requests:
                    status, headers, data = _error(503, "relay request limit reached")
                elif self._failures:
                    status, headers, data = _error(self._failures.pop(0), "injected failure")
                else:
                    status, headers, data = self._relay(handler, body)
                    if self._losses:
                        self._losses -= 1
                        status, headers, data = _error(503, "answer lost")
                self.log.append((handler.command, handler.path, status))
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)

    def _relay(
        self, handler: _RelayHandler, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if self.preconditions:
            refused = self._check_precondition(handler, body)
            if refused is not None:
                return refused
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
        if body or handler.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        reply = self._upstream(handler.command, handler.path, body, headers)
        return reply

    def _upstream(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            connection.request(method, path, body=body or None, headers=dict(headers))
            response = connection.getresponse()
            data = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            return response.status, kept, data
        except OSError as error:
            return _error(502, f"upstream failed: {error}")
        finally:
            connection.close()

    def _check_precondition(
        self, handler: _RelayHandler, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        split = urllib.parse.urlsplit(handler.path)
        query = urllib.parse.parse_qs(split.query)
        if "ifGenerationMatch" not in query:
            return None
        expected = int(query["ifGenerationMatch"][0])
        target = _object_of(split.path, query, handler.headers.get("Content-Type", ""), body)
        if target is None:
            return None
        bucket, name = target
        quoted = urllib.parse.quote(name, safe="")
        status, _, data = self._upstream(
            "GET", f"/storage/v1/b/{bucket}/o/{quoted}", b"", {"Host": handler.headers["Host"]}
        )
        current = int(json.loads(data)["generation"]) if status == 200 else 0
        if current == expected:
            return None
        return _error(412, "At least one of the pre-conditions you specified did not hold.")


class _RelayHandler(BaseHTTPRequestHandler):
    server: Any

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                chunk = self.rfile.read(size)
                self.rfile.readline()
                if size == 0:
                    break
                chunks.append(chunk)
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self) -> None:
        self.server.relay.answer(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


def _object_of(
    path: str, query: Mapping[str, list[str]], content_type: str, body: bytes
) -> tuple[str, str] | None:
    """The bucket and object name a request is about, from its path, query or metadata."""
    parts = path.split("/")
    # /upload/storage/v1/b/BUCKET/o  (the name is in the query or in the metadata)
    if path.startswith("/upload/storage/v1/b/") and len(parts) == 7 and parts[6] == "o":
        if "name" in query:
            return parts[5], query["name"][0]
        metadata = _upload_metadata(content_type, body)
        return (parts[5], metadata["name"]) if "name" in metadata else None
    # /storage/v1/b/BUCKET/o/NAME
    if path.startswith("/storage/v1/b/") and len(parts) >= 7 and parts[5] == "o":
        return parts[4], urllib.parse.unquote("/".join(parts[6:]))
    return None


def _upload_metadata(content_type: str, body: bytes) -> dict[str, Any]:
    """The JSON metadata of a multipart upload (its first part) or a resumable one."""
    if content_type.startswith("multipart/related"):
        boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
        first = body.split(b"--" + boundary)[1]
        payload = first.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n", 1)[0]
        return dict(json.loads(payload))
    if content_type.startswith("application/json") and body:
        return dict(json.loads(body))
    return {}


def _error(status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """A GCS-shaped JSON error."""
    body = {"error": {"code": status, "message": message, "errors": [{"message": message}]}}
    return status, [("Content-Type", "application/json")], json.dumps(body).encode()


@pytest.fixture(scope="session")
def gcs_front(gcs_emulator: str) -> Iterator[str]:
    """The URL of the relay, enforcing preconditions, in front of the session's emulator."""
    relay = Relay(gcs_emulator, preconditions=True)
    yield relay.url
    relay.close()


@pytest.fixture
def relays() -> Iterator[Callable[..., Relay]]:
    """``relays(upstream, **options)``: a new ``Relay``, closed after the test."""
    made: list[Relay] = []

    def make(upstream: str, **options: Any) -> Relay:
        relay = Relay(upstream, **options)
        made.append(relay)
        return relay

    yield make
    for relay in made:
        relay.close()


@pytest.fixture
def gcs_env(gcs_front: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point ``STORAGE_EMULATOR_HOST`` at the session's emulator (through the relay) for
    one test; its value."""
    monkeypatch.setenv(EMULATOR_ENV, gcs_front)
    return gcs_front


@pytest.fixture(autouse=True)
def _loopback_without_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback addresses are never sent through an HTTP proxy of the environment."""
    for variable in ("NO_PROXY", "no_proxy"):
        current = os.environ.get(variable, "")
        monkeypatch.setenv(variable, ",".join(filter(None, [current, "127.0.0.1,localhost"])))


# -- stores ----------------------------------------------------------------------------------
@pytest.fixture(params=["local", "gcs"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty store, once per backend.

    ``local``: an empty temporary directory; ``gcs``: ``gs://covtool-test/<unique prefix>``
    on the session's emulator, with ``STORAGE_EMULATOR_HOST`` set for the test.
    """
    if request.param == "local":
        root = tmp_path / "store"
        root.mkdir()
        return str(root)
    request.getfixturevalue("gcs_env")
    return f"gs://{BUCKET}/t-{uuid.uuid4().hex}"


@pytest.fixture
def open_store() -> Callable[..., Storage]:
    """``open_store(url, **settings)``: the store that covtool's plugins make for ``url``.

    The settings (``gcs_retry_deadline=3``) are given as flags would give them; nothing is
    read from the environment's ``COVTOOL_*`` variables or a configuration file.
    """
    pm = make_plugin_manager(PluginSelection(), environ={AUTOLOAD_OFF: "1"})
    settings = collect_settings(pm)

    def make(url: str, **flags: Any) -> Storage:
        config = Config.load(settings, None, {}, flags, pm)
        store = pm.hook.covtool_make_storage(url=url, config=config)
        assert store is not None, f"no plugin claimed {url!r}"
        return store  # type: ignore[no-any-return]

    return make
