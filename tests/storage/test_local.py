"""The local backend's own rules: URLs, a lazily created root, invisible bookkeeping, whole
writes, and conditional writes that hold between processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from covtool import PreconditionFailed, Storage, UsageError
from covtool.config import Config
from covtool.plugins import AUTOLOAD_OFF, PluginSelection, make_plugin_manager
from covtool.startup import collect_settings

OpenStore = Callable[..., Storage]


def claim(url: str) -> Storage | None:
    pm = make_plugin_manager(PluginSelection(), environ={AUTOLOAD_OFF: "1"})
    config = Config.load(collect_settings(pm), None, {}, {}, pm)
    store: Storage | None = pm.hook.covtool_make_storage(url=url, config=config)
    return store


def test_file_urls_and_plain_paths(
    tmp_path: Path, open_store: OpenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_store(f"file://{tmp_path}/a").write("k.txt", b"a")
    open_store(f"file://localhost{tmp_path}/b").write("k.txt", b"b")
    open_store(f"file://{tmp_path}/my%20store").write("k.txt", b"c")
    open_store(str(tmp_path / "d")).write("k.txt", b"d")
    monkeypatch.chdir(tmp_path)
    open_store("relative/e").write("k.txt", b"e")
    assert (tmp_path / "a" / "k.txt").read_bytes() == b"a"
    assert (tmp_path / "b" / "k.txt").read_bytes() == b"b"
    assert (tmp_path / "my store" / "k.txt").read_bytes() == b"c"
    assert (tmp_path / "d" / "k.txt").read_bytes() == b"d"
    assert (tmp_path / "relative" / "e" / "k.txt").read_bytes() == b"e"
    assert open_store(f"file://{tmp_path}/a").url == f"file://{tmp_path}/a"


def test_which_urls_are_claimed() -> None:
    assert type(claim("/some/where")).__name__ == "LocalStorage"
    assert type(claim("FILE:///some/where")).__name__ == "LocalStorage"
    assert type(claim("gs://covtool-test/p")).__name__ == "GcsStorage"
    assert claim("s3://bucket/p") is None
    assert claim("") is None
    with pytest.raises(UsageError, match="expected file://PATH"):
        claim("file://")


def test_the_store_is_created_by_the_first_write(tmp_path: Path, open_store: OpenStore) -> None:
    root = tmp_path / "deep" / "store"
    store = open_store(str(root))
    with pytest.raises(KeyError):
        store.read("logs/job/latest-build.txt")
    assert not store.exists("logs/job/latest-build.txt")
    assert store.read_generation("logs/job/latest-build.txt") == 0
    assert store.list("") == ([], [])
    assert store.list("logs/", delimiter="") == ([], [])
    assert not (tmp_path / "deep").exists()
    store.write("logs/job/latest-build.txt", b"1", if_generation=0)
    assert (root / "logs" / "job" / "latest-build.txt").read_bytes() == b"1"


def test_bookkeeping_and_temporary_files_stay_invisible(
    tmp_path: Path, open_store: OpenStore
) -> None:
    root = tmp_path / "store"
    store = open_store(str(root))
    keys = {"logs/job/1/finished.json", "logs/job/latest-build.txt", "top.txt"}
    for key in sorted(keys):
        store.write(key, b"x" * 1000)
        store.write(key, b"y", if_generation=store.read_generation(key))
    with pytest.raises(PreconditionFailed):
        store.write("top.txt", b"z", if_generation=0)
    with pytest.raises(UsageError):
        store.write("logs/job/1/finished.json/inside", b"z")
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert {f for f in files if not f.startswith(".covtool-meta/")} == keys
    assert not [f for f in files if ".covtool-tmp-" in f]
    assert store.list("", delimiter="") == (sorted(keys), [])
    assert store.list("") == (["top.txt"], ["logs/"])
    assert {store.read(key) for key in keys} == {b"y"}


@pytest.mark.parametrize(
    "key",
    [
        ".covtool-meta/lock",
        ".covtool-meta/generations/top.txt.gen",
        "a/.covtool-tmp-1",
        ".covtool-x",
    ],
)
def test_the_stores_own_names_are_refused(tmp_path: Path, open_store: OpenStore, key: str) -> None:
    store = open_store(str(tmp_path / "store"))
    store.write("top.txt", b"1")
    for action in (
        store.read,
        store.exists,
        store.read_generation,
        lambda key: store.write(key, b"x"),
        lambda key: store.list(key + "/"),
    ):
        with pytest.raises(UsageError, match="the store's own"):
            action(key)
    assert store.read("top.txt") == b"1"


def test_objects_and_prefixes_cannot_share_a_name(tmp_path: Path, open_store: OpenStore) -> None:
    store = open_store(str(tmp_path / "store"))
    store.write("a", b"1")
    with pytest.raises(UsageError, match=r"'a/b'.*a part of its name is an object"):
        store.write("a/b", b"2")
    store.write("x/y", b"3")
    with pytest.raises(UsageError, match="objects already exist under 'x/'"):
        store.write("x", b"4")
    assert store.list("", delimiter="") == (["a", "x/y"], [])


def test_readers_never_see_part_of_an_object(tmp_path: Path, open_store: OpenStore) -> None:
    store = open_store(str(tmp_path / "store"))
    versions = [b"a" * (1 << 20), b"b" * (3 << 20)]
    store.write("big.bin", versions[0])
    done = threading.Event()
    seen: set[bytes] = set()

    def read() -> None:
        while not done.is_set():
            data = store.read("big.bin")
            assert data in versions
            seen.add(data[:1])

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(40):
            store.write("big.bin", versions[i % 2])
    finally:
        done.set()
        reader.join(timeout=60)
    assert seen  # the reader ran, and every read was whole (asserted in the thread)


def test_files_changed_by_other_tools_get_a_new_generation(
    tmp_path: Path, open_store: OpenStore
) -> None:
    root = tmp_path / "store"
    (root / "logs").mkdir(parents=True)
    (root / "logs" / "by-hand.txt").write_bytes(b"1")
    store = open_store(str(root))
    first = store.read_generation("logs/by-hand.txt")
    assert first > 0
    store.write("logs/by-hand.txt", b"2", if_generation=first)
    second = store.read_generation("logs/by-hand.txt")
    assert second > first
    (root / "logs" / "by-hand.txt").write_bytes(b"three")  # behind covtool's back
    third = store.read_generation("logs/by-hand.txt")
    assert third > second
    with pytest.raises(PreconditionFailed):
        store.write("logs/by-hand.txt", b"4", if_generation=second)
    assert store.read("logs/by-hand.txt") == b"three"


def test_written_files_follow_the_umask(tmp_path: Path, open_store: OpenStore) -> None:
    previous = os.umask(0o022)
    try:
        open_store(str(tmp_path / "store")).write("a/b.txt", b"1")
    finally:
        os.umask(previous)
    assert (tmp_path / "store" / "a" / "b.txt").stat().st_mode & 0o777 == 0o644


# -- between processes -------------------------------------------------------------------------
WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path

    from covtool import PreconditionFailed
    from covtool.config import Config
    from covtool.plugins import AUTOLOAD_OFF, PluginSelection, make_plugin_manager
    from covtool.startup import collect_settings

    url, go, task, count = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    pm = make_plugin_manager(PluginSelection(), environ={AUTOLOAD_OFF: "1"})
    config = Config.load(collect_settings(pm), None, {}, {}, pm)
    store = pm.hook.covtool_make_storage(url=url, config=config)
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    if task == "create":
        try:
            store.write("winner.txt", sys.argv[5].encode(), if_generation=0)
        except PreconditionFailed:
            print("lost")
        else:
            print("won")
    else:  # increment the counter ``count`` times, re-reading when another process won
        conflicts = 0
        for _ in range(count):
            while True:
                generation = store.read_generation("counter.txt")
                value = int(store.read("counter.txt")) if generation else 0
                try:
                    store.write("counter.txt", str(value + 1).encode(), if_generation=generation)
                except PreconditionFailed:
                    conflicts += 1
                    continue
                break
        print(conflicts)
    """
)


def run_workers(tmp_path: Path, root: Path, task: str, processes: int, count: int) -> list[str]:
    go = tmp_path / "go"
    go.unlink(missing_ok=True)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(root), str(go), task, str(count), f"p{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    go.touch()
    outputs = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        outputs.append(out.strip())
    return outputs


def test_exactly_one_process_creates_an_object(tmp_path: Path, open_store: OpenStore) -> None:
    root = tmp_path / "store"
    for attempt in range(3):
        outcomes = run_workers(tmp_path, root / str(attempt), "create", processes=6, count=0)
        assert sorted(outcomes) == ["lost"] * 5 + ["won"], outcomes
        winner = outcomes.index("won")
        assert open_store(str(root / str(attempt))).read("winner.txt") == f"p{winner}".encode()


def test_conditional_increments_from_many_processes_add_up(
    tmp_path: Path, open_store: OpenStore
) -> None:
    root = tmp_path / "store"
    conflicts = run_workers(tmp_path, root, "increment", processes=4, count=25)
    store = open_store(str(root))
    assert store.read("counter.txt") == b"100"
    assert store.read_generation("counter.txt") == 100
    assert store.list("", delimiter="") == (["counter.txt"], [])
    print("conflicts between processes:", conflicts)


def test_a_loop_of_links_is_refused(tmp_path: Path, open_store: OpenStore) -> None:
    root = tmp_path / "store"
    store = open_store(str(root))
    store.write("a.txt", b"a")
    (root / "loop1").symlink_to("loop2")
    (root / "loop2").symlink_to("loop1")
    with pytest.raises(UsageError, match="'loop1/x' is not allowed"):
        store.read("loop1/x")
    assert store.list("") == (["a.txt"], [])
    assert store.list("", delimiter="") == (["a.txt"], [])
