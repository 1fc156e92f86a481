"""A store in a local directory: ``file://PATH`` or a plain path (anything without ``scheme://``).

Each key is a file under the root directory, which is created by the first write. Keys are
checked with ``check_key``, and the path they lead to, symbolic links resolved, must stay
under the resolved root; a key that leaves the store through a link is a ``UsageError``.

Writes are whole: the bytes go to a temporary file in the object's directory, which
``os.replace`` then renames over the object, so a reader sees the old file or the new one.

The store keeps its own bookkeeping in names that start with ``.covtool-``: listings never
show them and keys may not use them.

* ``.covtool-meta/lock``: the store-wide lock (``fcntl.flock``);
* ``.covtool-meta/generations/KEY.gen``: the object's generation counter, and the inode,
  modification time and size of the file it was written for;
* ``.covtool-tmp-*``: temporary files of writes under way, next to their objects.

Generations are counters, kept in those files rather than read from the object's
``st_mtime_ns`` (which is coarse on some filesystems: two quick writes can share one) or
inode number (which the filesystem reuses once a replaced file is freed): either would let
a stale generation match again. A write checks the generation, records the new counter and
renames its file into place while it holds the lock exclusively, and ``read_generation``
reads under the shared lock, so across processes and threads no reader ever sees a
half-done write and no two conditional writers can both succeed from one generation. The
counter is written before the object is renamed into place: a crash in between leaves a
generation that matches no longer, which makes a conditional writer re-read, never lose an
update. A file changed by something other than covtool no longer matches what its counter
records, and so reads as the next generation.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import re
import secrets
import stat
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from covtool import (
    PreconditionFailed,
    ServiceError,
    Storage,
    UsageError,
    check_key,
    hookimpl,
)

FILE_SCHEME = "file://"
#: Names that start with this belong to the store itself.
RESERVED = ".covtool-"
META = RESERVED + "meta"
TMP = RESERVED + "tmp-"
GENERATION_SUFFIX = ".gen"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


@hookimpl
def covtool_make_storage(url: str) -> Storage | None:
    """Claim ``file://PATH`` and plain paths; relative paths are relative to the current
    directory."""
    if not url:
        return None
    scheme = _SCHEME.match(url)
    if scheme is None:
        path = url
    elif scheme.group().lower() == FILE_SCHEME:
        path = urllib.parse.unquote(url[len(FILE_SCHEME) :])
        if path.startswith("localhost/"):
            path = path[len("localhost") :]
        if not path:
            raise UsageError(f"{url}: expected file://PATH, with a path")
    else:
        return None
    return LocalStorage(url, Path(os.path.expanduser(path)))


class LocalStorage:
    """A directory of objects as a ``covtool.Storage``."""

    def __init__(self, url: str, root: Path) -> None:
        self.url = url
        self.root = root.absolute()

    def __repr__(self) -> str:
        return f"LocalStorage({self.url!r})"

    # -- the Storage protocol ---------------------------------------------------------------
    def read(self, key: str) -> bytes:
        """The object's bytes; ``KeyError`` when there is no such file."""
        path, _ = self._resolve(key)
        try:
            # O_NONBLOCK: a FIFO planted in the store must not hang the read.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except (FileNotFoundError, NotADirectoryError):
            raise KeyError(key) from None
        except OSError as error:
            raise self._failure("read", key, error) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise KeyError(key)  # a directory of objects is not an object
        with open(fd, "rb") as stream:
            try:
                return stream.read()
            except OSError as error:
                raise self._failure("read", key, error) from None

    def read_generation(self, key: str) -> int:
        """The object's generation, 0 when it does not exist."""
        path, name = self._resolve(key)
        if not self._root().is_dir():
            return 0
        with self._lock(exclusive=False):
            return self._generation(path, name)[0]

    def write(self, key: str, data: bytes, *, if_generation: int | None = None) -> None:
        """Replace the object whole; with ``if_generation``, only while it has that one."""
        path, name = self._resolve(key)
        if if_generation is not None and (
            isinstance(if_generation, bool)
            or not isinstance(if_generation, int)
            or if_generation < 0
        ):
            raise UsageError(f"write {key!r}: if_generation must be a generation number or 0")
        self._make_directory(path.parent, key)
        path, name = self._resolve(key)  # again: a link may have appeared meanwhile
        temporary, written = self._write_temporary(path.parent, data, key)
        try:
            with self._lock(exclusive=True):
                current, counter = self._generation(path, name)
                if if_generation is not None and current != if_generation:
                    raise PreconditionFailed(
                        f"{self.url}: object {key!r} was not written: it has generation "
                        f"{current}, not {if_generation} (another writer changed it first)"
                    )
                if path.is_dir():
                    raise UsageError(
                        f"{self.url}: cannot write object {key!r}: objects already exist under "
                        f"{key + '/'!r}"
                    )
                self._record(name, max(current, counter) + 1, written)
                try:
                    os.replace(temporary, path)
                except OSError as error:
                    raise self._failure("write", key, error) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)

    def exists(self, key: str) -> bool:
        """Whether the object exists (a directory of objects is not one)."""
        path, _ = self._resolve(key)
        return path.is_file()

    def list(self, prefix: str, delimiter: str = "/") -> tuple[list[str], list[str]]:
        """Keys directly under ``prefix`` and the sub-prefixes, sorted, as GCS lists them;
        with an empty ``delimiter``, every key under ``prefix``."""
        _check_prefix(prefix)
        head, _, start = prefix.rpartition("/")
        self._check_reserved(head, prefix)
        directory = self._root() if not head else self._resolve(head, kind="prefix")[0]
        base = f"{head}/" if head else ""
        if delimiter == "/":
            return self._list_level(directory, base, start)
        keys: list[str] = []
        prefixes: set[str] = set()
        for key in self._walk(directory, base):
            if not key.startswith(prefix):
                continue
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            if cut < 0:
                keys.append(key)
            else:
                prefixes.add(key[: cut + len(delimiter)])
        return sorted(keys), sorted(prefixes)

    # -- keys and paths ---------------------------------------------------------------------
    def _root(self) -> Path:
        return self.root.resolve()

    def _resolve(self, key: str, *, kind: str = "object name") -> tuple[Path, str]:
        """The real path of ``key`` and its name relative to the real root.

        Refuses (``UsageError``) a key that ``check_key`` refuses, that uses a reserved name,
        or that leads outside the store through a symbolic link.
        """
        check_key(key)
        self._check_reserved(key, key)
        root = self._root()
        try:
            path = root.joinpath(*key.split("/")).resolve()
        except (OSError, RuntimeError) as error:  # a loop of links, a name too long
            raise UsageError(f"{kind} {key!r} is not allowed: {error}") from None
        if not path.is_relative_to(root) or path == root:
            raise UsageError(
                f"{kind} {key!r} is not allowed: a symbolic link leads it outside the store "
                f"{self.url}"
            )
        name = path.relative_to(root).as_posix()
        self._check_reserved(name, key)  # a link into the bookkeeping
        return path, name

    @staticmethod
    def _check_reserved(name: str, key: str) -> None:
        if any(segment.startswith(RESERVED) for segment in name.split("/")):
            raise UsageError(
                f"object name {key!r} is not allowed: names starting with {RESERVED!r} are "
                "the store's own"
            )

    def _inside(self, path: Path, root: Path) -> bool:
        try:
            return path.resolve().is_relative_to(root)
        except (OSError, RuntimeError):  # a loop of links
            return False

    # -- listing ----------------------------------------------------------------------------
    def _list_level(
        self, directory: Path, base: str, start: str
    ) -> tuple[builtins.list[str], builtins.list[str]]:  # ``list`` is a method here
        root = self._root()
        keys: list[str] = []
        prefixes: list[str] = []
        for entry in self._scan(directory):
            if not entry.name.startswith(start):
                continue
            if entry.is_symlink() and not self._inside(Path(entry.path), root):
                continue
            key = base + entry.name
            with contextlib.suppress(OSError):
                if entry.is_file():
                    keys.append(key)
                elif entry.is_dir() and self._has_objects(Path(entry.path)):
                    prefixes.append(key + "/")
        return sorted(keys), sorted(prefixes)

    def _scan(self, directory: Path) -> Iterator[os.DirEntry[str]]:
        """The entries that can be keys: no bookkeeping, no names ``check_key`` refuses."""
        try:
            with os.scandir(directory) as entries:
                listed = list(entries)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as error:
            raise ServiceError(
                f"{self.url}: cannot list {directory}: {error.strerror or error}"
            ) from None
        for entry in listed:
            name = entry.name
            if name.startswith(RESERVED) or not _addressable(name):
                continue
            yield entry

    def _has_objects(self, directory: Path) -> bool:
        """Whether any object lies under ``directory`` (GCS has no empty prefixes)."""
        return next(iter(self._walk(directory, "")), None) is not None

    def _walk(self, directory: Path, base: str) -> Iterator[str]:
        """Every key under ``directory`` (whose key prefix is ``base``); links to directories
        are not followed, links to files only when they stay inside the store."""
        root = self._root()
        pending = [(directory, base)]
        while pending:
            current, current_base = pending.pop()
            for entry in self._scan(current):
                key = current_base + entry.name
                with contextlib.suppress(OSError):
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((Path(entry.path), key + "/"))
                    elif entry.is_file() and (
                        not entry.is_symlink() or self._inside(Path(entry.path), root)
                    ):
                        yield key

    # -- writing ----------------------------------------------------------------------------
    def _make_directory(self, directory: Path, key: str) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise UsageError(
                f"{self.url}: cannot write object {key!r}: a part of its name is an object"
            ) from None
        except OSError as error:
            raise self._failure("write", key, error) from None

    def _write_temporary(
        self, directory: Path, data: bytes, key: str
    ) -> tuple[Path, os.stat_result]:
        """``data`` in a new file of ``directory``, flushed to disk; its path and status."""
        path = directory / f"{TMP}{secrets.token_hex(8)}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags, 0o666)  # the umask applies, as for any file
        except OSError as error:
            raise self._failure("write", key, error) from None
        try:
            with open(fd, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
                written = os.fstat(stream.fileno())
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise self._failure("write", key, error) from None
        return path, written

    # -- generations ------------------------------------------------------------------------
    @contextlib.contextmanager
    def _lock(self, *, exclusive: bool) -> Iterator[None]:
        """The store-wide lock: exclusive for writes, shared for reading a generation.

        A store that cannot be written to (a read-only mount) is read without the lock:
        nobody can be writing to it.
        """
        import fcntl  # POSIX only; imported here so that covtool still starts elsewhere

        meta = self._root() / META
        try:
            meta.mkdir(exist_ok=True)
            fd = os.open(meta / "lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        except OSError as error:
            if exclusive or error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise self._failure("lock", META, error) from None
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # closing the last descriptor releases the lock

    def _sidecar(self, name: str) -> Path:
        return self._root() / META / "generations" / (name + GENERATION_SUFFIX)

    def _generation(self, path: Path, name: str) -> tuple[int, int]:
        """The object's current generation (0: absent) and the last counter recorded."""
        counter, recorded = 0, None
        try:
            fields = self._sidecar(name).read_text().split()
            counter, recorded = int(fields[0]), tuple(int(f) for f in fields[1:4])
        except (OSError, ValueError, IndexError):
            pass  # never written through covtool, or a record lost in a crash
        try:
            status = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return 0, counter
        if not stat.S_ISREG(status.st_mode):
            return 0, counter
        if recorded == (status.st_ino, status.st_mtime_ns, status.st_size):
            return counter, counter
        return counter + 1, counter  # written by something else than covtool

    def _record(self, name: str, generation: int, written: os.stat_result) -> None:
        """Write the object's new generation record, atomically, under the lock."""
        sidecar = self._sidecar(name)
        text = f"{generation} {written.st_ino} {written.st_mtime_ns} {written.st_size}\n"
        temporary = sidecar.with_name(f"{TMP}{secrets.token_hex(8)}")
        try:
            sidecar.parent.mkdir(parents=True, exist_ok=True)
            with open(temporary, "w") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, sidecar)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise self._failure("record the generation of", name, error) from None

    def _failure(self, action: str, key: str, error: OSError) -> ServiceError:
        return ServiceError(f"{self.url}: cannot {action} {key!r}: {error.strerror or error}")


def _addressable(name: str) -> bool:
    """Whether a file name can be a key segment (no backslash, valid UTF-8)."""
    if name in (".", "..") or "\\" in name:
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_prefix(prefix: str) -> None:
    """``check_key`` for a listing prefix, and no absolute ``/`` (which it lets through)."""
    check_key(prefix, prefix=True)
    if prefix.startswith("/"):
        raise UsageError(f"prefix {prefix!r} is not allowed: it must stay inside the store")
