"""The ``covtool.Storage`` contract, the same for every backend (``store_url`` runs each test
once on a local directory and once on GCS through the emulator).

Stores are opened the way covtool opens them: through its plugin manager, the first plugin
that claims the URL winning.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from covtool import PreconditionFailed, Storage, UsageError

OpenStore = Callable[..., Storage]

#: Prow's layout: two builds of a job, and the job's latest-build.txt.
PROW = {
    "logs/job/1/finished.json": b'{"passed": true}',
    "logs/job/1/artifacts/a.txt": b"artifact",
    "logs/job/10/finished.json": b'{"passed": false}',
    "logs/job/10/artifacts/coverage_profile.txt": b"mode: count\n",
    "logs/job/latest-build.txt": b"10",
}

#: Object names that would leave the store, or that no store may hold.
BAD_KEYS = [
    "",
    "..",
    "../escape.txt",
    "a/../../escape.txt",
    "a/..",
    "./a",
    "a/./b",
    "/etc/passwd",
    "/abs",
    "a\\b",
    "..\\escape.txt",
    "a//b",
    "a/",
    "nul\0byte",
]
#: Listing prefixes that would leave the store.
BAD_PREFIXES = ["../", "/", "/etc/", "a/../../", "a\\b/", "a//", "./", "..\\x/"]


@pytest.fixture
def store(store_url: str, open_store: OpenStore) -> Storage:
    return open_store(store_url)


# -- reading and writing -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "data",
    [b"", b"hello\n", bytes(range(256)) * 3, b"\r\n\x00\xff\x1a", os.urandom(5 << 20)],
    ids=["empty", "text", "all-bytes", "binary", "5MB"],
)
def test_round_trip(store: Storage, data: bytes) -> None:
    store.write("logs/job/1/artifacts/data.bin", data)
    assert store.read("logs/job/1/artifacts/data.bin") == data
    assert store.exists("logs/job/1/artifacts/data.bin")


def test_store_url_is_kept(store: Storage, store_url: str) -> None:
    assert store.url == store_url


def test_overwrite(store: Storage) -> None:
    store.write("logs/job/latest-build.txt", b"1")
    first = store.read_generation("logs/job/latest-build.txt")
    store.write("logs/job/latest-build.txt", b"22")
    assert store.read("logs/job/latest-build.txt") == b"22"
    second = store.read_generation("logs/job/latest-build.txt")
    store.write("logs/job/latest-build.txt", b"")
    assert store.read("logs/job/latest-build.txt") == b""
    assert 0 < first < second < store.read_generation("logs/job/latest-build.txt")


def test_missing_objects(store: Storage) -> None:
    with pytest.raises(KeyError):
        store.read("logs/job/1/finished.json")
    assert not store.exists("logs/job/1/finished.json")
    assert store.read_generation("logs/job/1/finished.json") == 0
    store.write("logs/job/1/finished.json", b"{}")
    # A prefix that holds objects is not an object itself.
    for key in ("logs", "logs/job", "logs/job/1"):
        with pytest.raises(KeyError):
            store.read(key)
        assert not store.exists(key)
        assert store.read_generation(key) == 0
    with pytest.raises(KeyError):
        store.read("logs/job/1/finished.jso")


def test_keys_are_case_and_byte_exact(store: Storage) -> None:
    store.write("a/Été ü.txt", b"1")
    store.write("a/ete u.txt", b"2")
    assert store.read("a/Été ü.txt") == b"1"
    assert store.read("a/ete u.txt") == b"2"
    assert store.list("a/") == (["a/ete u.txt", "a/Été ü.txt"], [])


# -- listing -----------------------------------------------------------------------------------
def test_listing_follows_prows_layout(store: Storage) -> None:
    for key, data in PROW.items():
        store.write(key, data)
    assert store.list("logs/job/") == (
        ["logs/job/latest-build.txt"],
        ["logs/job/1/", "logs/job/10/"],
    )
    assert store.list("logs/job/1/") == (["logs/job/1/finished.json"], ["logs/job/1/artifacts/"])
    assert store.list("logs/job/1/artifacts/") == (["logs/job/1/artifacts/a.txt"], [])
    assert store.list("logs/") == ([], ["logs/job/"])
    assert store.list("") == ([], ["logs/"])
    assert store.list("logs/job/", delimiter="") == (sorted(PROW), [])
    for key, data in PROW.items():
        assert store.read(key) == data


def test_listing_a_partial_name_matches_as_in_gcs(store: Storage) -> None:
    for key, data in PROW.items():
        store.write(key, data)
    assert store.list("logs/job/1") == ([], ["logs/job/1/", "logs/job/10/"])
    assert store.list("logs/job/l") == (["logs/job/latest-build.txt"], [])


def test_listing_empty_and_missing_prefixes(store: Storage) -> None:
    assert store.list("") == ([], [])
    assert store.list("logs/job/") == ([], [])
    store.write("logs/job/1/finished.json", b"{}")
    assert store.list("pr-logs/") == ([], [])
    assert store.list("logs/job/2/") == ([], [])
    # A prefix that names an object lists nothing under it.
    assert store.list("logs/job/1/finished.json/") == ([], [])


# -- generations -------------------------------------------------------------------------------
def test_generations_and_conditional_writes(store: Storage) -> None:
    key = "logs/job/latest-build.txt"
    assert store.read_generation(key) == 0
    store.write(key, b"1", if_generation=0)  # created, as it did not exist
    created = store.read_generation(key)
    assert created > 0
    with pytest.raises(PreconditionFailed, match=r"latest-build\.txt"):
        store.write(key, b"2", if_generation=0)  # exists now
    assert store.read(key) == b"1" and store.read_generation(key) == created
    store.write(key, b"3", if_generation=created)
    updated = store.read_generation(key)
    assert updated > created and store.read(key) == b"3"
    with pytest.raises(PreconditionFailed):
        store.write(key, b"4", if_generation=created)  # stale
    with pytest.raises(PreconditionFailed):
        store.write(key, b"4", if_generation=updated + 12345)  # never existed
    assert store.read(key) == b"3" and store.read_generation(key) == updated
    store.write(key, b"5")  # unconditional writes still replace
    assert store.read(key) == b"5" and store.read_generation(key) > updated


def test_a_generation_belongs_to_one_object(store: Storage) -> None:
    store.write("a.txt", b"a")
    store.write("b.txt", b"b")
    with pytest.raises(PreconditionFailed):
        store.write("b.txt", b"x", if_generation=0)
    generation = store.read_generation("a.txt")
    store.write("a.txt", b"a2", if_generation=generation)
    assert store.read("b.txt") == b"b"


@pytest.mark.parametrize("existing", [False, True], ids=["create", "update"])
def test_racing_writers_exactly_one_wins(
    store_url: str, open_store: OpenStore, existing: bool
) -> None:
    key = "logs/job/latest-build.txt"
    writers = [open_store(store_url) for _ in range(4)]
    if existing:
        writers[0].write(key, b"0")
    for round_number in range(3):
        generation = writers[0].read_generation(key)
        assert (generation > 0) == (existing or round_number > 0)
        start = threading.Barrier(len(writers))
        outcomes: dict[int, str] = {}
        threads = [
            threading.Thread(target=race, args=(writers[i], key, i, generation, start, outcomes))
            for i in range(len(writers))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        winners = [i for i, outcome in outcomes.items() if outcome == "won"]
        assert len(outcomes) == len(writers) and len(winners) == 1, outcomes
        assert writers[1].read(key) == f"writer {winners[0]}".encode()
        assert writers[2].read_generation(key) > generation


def race(
    store: Storage,
    key: str,
    index: int,
    generation: int,
    start: threading.Barrier,
    outcomes: dict[int, str],
) -> None:
    """Write ``key`` conditionally as soon as every other writer is ready too."""
    start.wait()
    try:
        store.write(key, f"writer {index}".encode(), if_generation=generation)
    except PreconditionFailed:
        outcomes[index] = "lost"
    else:
        outcomes[index] = "won"


# -- safety ------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", BAD_KEYS)
def test_unsafe_names_are_refused(store: Storage, key: str) -> None:
    for action in (
        lambda: store.read(key),
        lambda: store.write(key, b"x"),
        lambda: store.write(key, b"x", if_generation=0),
        lambda: store.exists(key),
        lambda: store.read_generation(key),
    ):
        with pytest.raises(UsageError, match="not allowed"):
            action()
    assert store.list("", delimiter="") == ([], [])


@pytest.mark.parametrize("prefix", BAD_PREFIXES)
def test_unsafe_prefixes_are_refused(store: Storage, prefix: str) -> None:
    with pytest.raises(UsageError, match="not allowed"):
        store.list(prefix)
    with pytest.raises(UsageError, match="not allowed"):
        store.list(prefix, delimiter="")


def test_nothing_outside_the_store_is_touched(
    store_url: str, open_store: OpenStore, tmp_path: Path
) -> None:
    """Every refused name leaves everything outside the store as it was: the directories
    around a local store; the rest of the bucket around a GCS store."""
    store = open_store(store_url)
    if store_url.startswith("gs://"):
        bucket = open_store(store_url.rsplit("/", 1)[0])

        def everything() -> list[str]:
            return bucket.list("", delimiter="")[0]
    else:

        def everything() -> list[str]:
            return sorted(str(p) for p in tmp_path.rglob("*"))

    before = everything()
    for key in BAD_KEYS:
        with pytest.raises(UsageError):
            store.write(key, b"escaped")
    for prefix in BAD_PREFIXES:
        with pytest.raises(UsageError):
            store.list(prefix)
    assert everything() == before
    assert store.list("", delimiter="") == ([], [])


def test_links_out_of_a_local_store_are_refused(tmp_path: Path, open_store: OpenStore) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    root = tmp_path / "store"
    store = open_store(str(root))
    store.write("logs/job/1/finished.json", b"{}")
    (root / "logs" / "escape").symlink_to(outside, target_is_directory=True)
    (root / "logs" / "job" / "1" / "secret.txt").symlink_to(outside / "secret.txt")
    (root / "up").symlink_to("..", target_is_directory=True)
    before = sorted(p.name for p in outside.iterdir())
    for key in (
        "logs/escape/secret.txt",
        "logs/escape/new.txt",
        "logs/job/1/secret.txt",
        "up/outside/secret.txt",
    ):
        for action in (
            store.read,
            store.exists,
            store.read_generation,
            lambda key: store.write(key, b"x"),
        ):
            with pytest.raises(UsageError, match=re.escape(f"{key!r} is not allowed: a symbolic")):
                action(key)
    for prefix in ("logs/escape/", "up/", "up/outside/"):
        with pytest.raises(UsageError, match="symbolic link"):
            store.list(prefix)
    assert sorted(p.name for p in outside.iterdir()) == before
    assert (outside / "secret.txt").read_bytes() == b"secret"
    # Listings do not show the links either.
    assert store.list("logs/") == ([], ["logs/job/"])
    assert store.list("") == ([], ["logs/"])
    assert store.list("logs/job/1/") == (["logs/job/1/finished.json"], [])
    assert store.list("", delimiter="") == (["logs/job/1/finished.json"], [])


def test_links_inside_a_local_store_are_followed(tmp_path: Path, open_store: OpenStore) -> None:
    root = tmp_path / "store"
    store = open_store(str(root))
    store.write("logs/job/10/finished.json", b"{}")
    (root / "logs" / "job" / "latest").symlink_to("10", target_is_directory=True)
    assert store.read("logs/job/latest/finished.json") == b"{}"
    assert store.list("logs/job/") == ([], ["logs/job/10/", "logs/job/latest/"])
    # Both names are one object, with one generation.
    generation = store.read_generation("logs/job/10/finished.json")
    assert store.read_generation("logs/job/latest/finished.json") == generation
    store.write("logs/job/latest/finished.json", b"[]", if_generation=generation)
    with pytest.raises(PreconditionFailed):
        store.write("logs/job/10/finished.json", b"{}", if_generation=generation)
    assert store.read("logs/job/10/finished.json") == b"[]"


# -- opening stores ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("gs://", "is not a valid bucket name"),
        ("gs://UPPER/x", "is not a valid bucket name"),
        ("gs://b/x", "is not a valid bucket name"),
        ("gs://bucket..name", "is not a valid bucket name"),
        ("gs://covtool-test/a/../b", "the prefix 'a/../b' is not allowed"),
        ("gs://covtool-test//a", "the prefix '/a' is not allowed"),
        ("gs://covtool-test/a\\b", "is not allowed"),
        ("file://", "expected file://PATH"),
    ],
)
def test_urls_that_name_no_store(open_store: OpenStore, url: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        open_store(url)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("gcs_timeout", 0.0), ("gcs_timeout", -1.0), ("gcs_retry_deadline", -1.0)],
)
def test_gcs_bounds_must_make_sense(open_store: OpenStore, setting: str, value: float) -> None:
    with pytest.raises(UsageError, match=f"setting {setting}"):
        open_store("gs://covtool-test/p", **{setting: value})


def test_a_trailing_slash_names_the_same_gcs_store(gcs_env: str, open_store: OpenStore) -> None:
    name = f"same-{uuid.uuid4().hex}"
    open_store(f"gs://covtool-test/{name}/").write("logs/job/latest-build.txt", b"3")
    assert open_store(f"gs://covtool-test/{name}").read("logs/job/latest-build.txt") == b"3"
    whole_bucket = open_store("gs://covtool-test")
    assert whole_bucket.list(f"{name}/logs/job/") == ([f"{name}/logs/job/latest-build.txt"], [])
