"""GCS when things go wrong: a service that went away, and one that fails for a while.

Everything runs against real ``gcp-storage-emulator`` processes on 127.0.0.1, reached
directly or through ``Relay`` (tests/storage/conftest.py), a loopback HTTP relay that can
answer a number of requests with an error status instead of relaying them.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from covtool import ExitCode, PreconditionFailed, ServiceError, Storage
from support import Covtool

OpenStore = Callable[..., Storage]
EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
DEADLINE = 3.0
TIMEOUT = 2.0
#: Retries stop before the deadline would pass; one more request may be under way then.
BOUND = DEADLINE + TIMEOUT + 2.0


def unique_url() -> str:
    return f"gs://covtool-test/faults-{uuid.uuid4().hex}"


def assert_one_line(error: ServiceError, url: str, key: str) -> None:
    message = str(error)
    assert "\n" not in message and "Traceback" not in message, message
    assert url in message and repr(key) in message, message
    assert error.exit_code == ExitCode.SERVICE_ERROR
    assert error.__cause__ is None and error.__suppress_context__


# -- (a) the service goes away ----------------------------------------------------------------
def test_a_stopped_emulator_ends_in_one_line_within_the_deadline(
    gcs_emulators: Callable[..., Any],
    open_store: OpenStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    emulator: Any = gcs_emulators(tmp_path / "gcs-data")  # on disk, to outlive a restart
    monkeypatch.setenv(EMULATOR_ENV, emulator.url)
    url = unique_url()
    store = open_store(url, gcs_retry_deadline=DEADLINE, gcs_timeout=TIMEOUT)
    big = os.urandom(3 << 20)
    store.write("logs/job/1/finished.json", b'{"passed": true}')
    store.write("logs/job/1/artifacts/coverage_profile.txt", big)
    generation = store.read_generation("logs/job/1/finished.json")

    emulator.stop()
    operations: dict[str, tuple[str, Callable[[], object]]] = {
        "read": ("logs/job/1/finished.json", lambda: store.read("logs/job/1/finished.json")),
        "write": ("logs/job/2/finished.json", lambda: store.write("logs/job/2/finished.json", big)),
        "conditional write": (
            "logs/job/1/finished.json",
            lambda: store.write("logs/job/1/finished.json", b"{}", if_generation=generation),
        ),
        "exists": ("logs/job/1/finished.json", lambda: store.exists("logs/job/1/finished.json")),
        "generation": (
            "logs/job/1/finished.json",
            lambda: store.read_generation("logs/job/1/finished.json"),
        ),
        "list": ("logs/job/", lambda: store.list("logs/job/")),
    }
    for name, (key, operation) in operations.items():
        started = time.monotonic()
        with pytest.raises(ServiceError) as caught:
            operation()
        elapsed = time.monotonic() - started
        assert elapsed < BOUND, f"{name} took {elapsed:.1f}s"
        assert_one_line(caught.value, url, key)
        assert "Connection refused" in str(caught.value), str(caught.value)
        assert "gave up after" in str(caught.value)

    # What was written before is whole; what failed left nothing behind.
    emulator.start()
    fresh = open_store(url, gcs_retry_deadline=DEADLINE, gcs_timeout=TIMEOUT)
    assert fresh.read("logs/job/1/finished.json") == b'{"passed": true}'
    assert fresh.read_generation("logs/job/1/finished.json") == generation
    assert fresh.read("logs/job/1/artifacts/coverage_profile.txt") == big
    assert not fresh.exists("logs/job/2/finished.json")
    assert fresh.list("logs/job/") == ([], ["logs/job/1/"])
    # The store that failed works again as soon as the service does.
    assert store.read("logs/job/1/finished.json") == b'{"passed": true}'


def test_the_cli_says_so_in_one_line_and_exits_5(
    covtool: Covtool, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a loopback port that nobody listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(EMULATOR_ENV, f"http://127.0.0.1:{port}")
    covtool.write("artifacts/coverage_profile.txt", "mode: set\n")
    url = unique_url()
    started = time.monotonic()
    result = covtool(
        "upload", "artifacts", "--job", "job", "--build", "5", "--to", url,
        env={"COVTOOL_GCS_RETRY_DEADLINE": "2", "COVTOOL_GCS_TIMEOUT": "1"},
    )  # fmt: skip
    assert time.monotonic() - started < 2 + 1 + 2
    assert result.exit_code == ExitCode.SERVICE_ERROR, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert url in lines[0] and "logs/job/5/artifacts/coverage_profile.txt" in lines[0]
    assert "Connection refused" in lines[0]


def test_an_emulator_stopped_during_an_upload(
    gcs_emulators: Callable[..., Any],
    open_store: OpenStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Whenever the service goes away, the object is afterwards absent or whole."""
    emulator: Any = gcs_emulators(tmp_path / "gcs-data")
    monkeypatch.setenv(EMULATOR_ENV, emulator.url)
    url = unique_url()
    store = open_store(url, gcs_retry_deadline=DEADLINE, gcs_timeout=TIMEOUT)
    data = os.urandom(24 << 20)
    outcome: list[BaseException | None] = []

    def upload() -> None:
        try:
            store.write("logs/job/1/artifacts/big.bin", data)
        except ServiceError as error:
            outcome.append(error)
        else:
            outcome.append(None)

    writer = threading.Thread(target=upload)
    started = time.monotonic()
    writer.start()
    time.sleep(0.05)
    emulator.stop()
    writer.join(timeout=60)
    assert outcome and time.monotonic() - started < BOUND + 5
    if outcome[0] is not None:
        assert isinstance(outcome[0], ServiceError)
        assert_one_line(outcome[0], url, "logs/job/1/artifacts/big.bin")
    emulator.start()
    fresh = open_store(url, gcs_retry_deadline=DEADLINE, gcs_timeout=TIMEOUT)
    try:
        assert fresh.read("logs/job/1/artifacts/big.bin") == data
    except KeyError:
        assert outcome[0] is not None  # only a failed write may leave nothing


# -- (b) the service fails for a while --------------------------------------------------------
@pytest.fixture
def flaky(relays: Callable[..., Any], gcs_emulator: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A relay to the session's emulator, at most 100 requests, set as the emulator host."""
    relay = relays(gcs_emulator, preconditions=True, max_requests=100)
    monkeypatch.setenv(EMULATOR_ENV, relay.url)
    return relay


def test_two_503s_then_success(flaky: Any, open_store: OpenStore) -> None:
    store = open_store(unique_url(), gcs_retry_deadline=30)
    data = b"mode: count\nexample.com/a.go:1.1,2.2 1 1\n"
    flaky.fail_next(2)
    store.write("logs/job/1/artifacts/coverage_profile.txt", data)
    assert flaky.statuses() == [503, 503, 200]

    flaky.fail_next(2)
    assert store.read("logs/job/1/artifacts/coverage_profile.txt") == data
    assert flaky.statuses()[3:] == [503, 503, 200]

    flaky.fail_next(2)
    assert store.list("logs/job/1/") == ([], ["logs/job/1/artifacts/"])
    flaky.fail_next(2)
    assert store.exists("logs/job/1/artifacts/coverage_profile.txt")
    flaky.fail_next(2)
    generation = store.read_generation("logs/job/1/artifacts/coverage_profile.txt")
    flaky.fail_next(2)
    store.write("logs/job/1/artifacts/coverage_profile.txt", b"new", if_generation=generation)
    assert flaky.statuses()[6:] == [503, 503, 200] * 4
    assert store.read("logs/job/1/artifacts/coverage_profile.txt") == b"new"


@pytest.mark.parametrize("status", [408, 429, 500, 502, 504])
def test_every_transient_status_is_retried(flaky: Any, open_store: OpenStore, status: int) -> None:
    store = open_store(unique_url(), gcs_retry_deadline=30)
    store.write("a.txt", b"a")
    flaky.fail_next(1, status)
    assert store.read("a.txt") == b"a"
    assert flaky.statuses()[-2:] == [status, 200]


def test_a_permanent_error_is_not_retried(flaky: Any, open_store: OpenStore) -> None:
    url = unique_url()
    store = open_store(url, gcs_retry_deadline=30)
    flaky.fail_next(1, 403)
    started = time.monotonic()
    with pytest.raises(ServiceError) as caught:
        store.read("logs/job/1/finished.json")
    assert time.monotonic() - started < 5
    assert flaky.statuses() == [403]
    assert_one_line(caught.value, url, "logs/job/1/finished.json")
    assert "HTTP 403" in str(caught.value)


def test_a_service_that_keeps_failing_ends_at_the_deadline(
    flaky: Any, open_store: OpenStore
) -> None:
    url = unique_url()
    store = open_store(url, gcs_retry_deadline=DEADLINE, gcs_timeout=TIMEOUT)
    flaky.fail_next(1000)
    started = time.monotonic()
    with pytest.raises(ServiceError) as caught:
        store.write("logs/job/latest-build.txt", b"7")
    assert time.monotonic() - started < BOUND
    assert_one_line(caught.value, url, "logs/job/latest-build.txt")
    assert "HTTP 503" in str(caught.value) and "gave up after" in str(caught.value)
    assert 1 < len(flaky.statuses()) < 100 and set(flaky.statuses()) == {503}


def test_a_conditional_write_whose_answer_was_lost(flaky: Any, open_store: OpenStore) -> None:
    """The first attempt wrote the object but its answer never came back: the retry finds
    the generation changed, and the object holding our bytes, so the write succeeded."""
    store = open_store(unique_url(), gcs_retry_deadline=30)
    store.write("logs/job/latest-build.txt", b"1")
    generation = store.read_generation("logs/job/latest-build.txt")
    flaky.lose_next(1)
    store.write("logs/job/latest-build.txt", b"2", if_generation=generation)
    assert flaky.statuses()[-3:] == [503, 412, 200]  # lost, refused, the check of the bytes
    assert store.read("logs/job/latest-build.txt") == b"2"
    # With someone else's bytes there instead, it is a precondition failure after all.
    generation = store.read_generation("logs/job/latest-build.txt")
    store.write("logs/job/latest-build.txt", b"3")
    flaky.fail_next(1)
    with pytest.raises(PreconditionFailed, match="another writer"):
        store.write("logs/job/latest-build.txt", b"4", if_generation=generation)
    assert store.read("logs/job/latest-build.txt") == b"3"


def test_the_relay_refuses_other_than_loopback(relays: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match="loopback"):
        relays("http://192.0.2.1:80")
