"""Pull requests made for real: a git repository with a base and a head commit, and an LCOV
profile of each side, for tests of the comment, the gate and publishing.

A side is its files' text and, per file, the hits of each executable line. Profiles are
written next to the repository (not in it), so they are never part of the change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from support import commit, git

Hits = Mapping[int, int]
#: A Prow presubmit of pull request 5 of acme/demo, as the job's environment says it.
PROW_PRESUBMIT = {
    "JOB_NAME": "pull-demo-coverage",
    "JOB_TYPE": "presubmit",
    "BUILD_ID": "1234",
    "REPO_OWNER": "acme",
    "REPO_NAME": "demo",
    "PULL_NUMBER": "5",
}


@dataclass
class Side:
    """One commit of the pull request: ``files`` (path to text) and ``coverage`` (path to
    line hits; a file with no entry has no executable line)."""

    files: dict[str, str]
    coverage: dict[str, Hits] = field(default_factory=dict)


@dataclass(frozen=True)
class PullRequest:
    """A repository with the two commits, and the two profiles."""

    root: Path
    base_sha: str
    head_sha: str
    base_profile: Path
    head_profile: Path

    @property
    def changes(self) -> str:
        """The ``--changes`` value that compares the two commits."""
        return f"git:{self.base_sha}..{self.head_sha}"


def lcov(coverage: Mapping[str, Hits]) -> str:
    """An LCOV tracefile of ``coverage``, files and lines in order."""
    records = []
    for path in sorted(coverage):
        hits = coverage[path]
        lines = [f"DA:{line},{hits[line]}" for line in sorted(hits)]
        found = sum(1 for count in hits.values() if count)
        records.append(
            "\n".join(
                ["TN:", f"SF:{path}", *lines, f"LH:{found}", f"LF:{len(hits)}", "end_of_record"]
            )
        )
    return "\n".join(records) + "\n"


def lcov_beside(directory: Path, coverage: Mapping[str, Hits]) -> Path:
    """``coverage`` as an LCOV file next to ``directory`` (never inside the repository)."""
    path = directory.parent / f"{directory.name}.info"
    path.write_text(lcov(coverage))
    return path


def lines_of(path: str, count: int, changed: Mapping[int, str] | None = None) -> str:
    """``count`` distinct lines of source for ``path``; ``changed`` replaces some by number."""
    changed = changed or {}
    return "".join(changed.get(n, f"line {n} of {path}") + "\n" for n in range(1, count + 1))


def make_pull_request(directory: Path, base: Side, head: Side) -> PullRequest:
    """The repository ``directory/repo`` with ``base`` then ``head`` committed, and the
    profiles ``directory/base.info`` and ``directory/head.info``."""
    root = directory / "repo"
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    _write(root, base.files)
    base_sha = commit(root, "base")
    for path in set(base.files) - set(head.files):
        (root / path).unlink()
    _write(root, head.files)
    head_sha = commit(root, "head")
    base_profile = directory / "base.info"
    head_profile = directory / "head.info"
    base_profile.write_text(lcov(base.coverage))
    head_profile.write_text(lcov(head.coverage))
    return PullRequest(root, base_sha, head_sha, base_profile, head_profile)


def _write(root: Path, files: Mapping[str, str]) -> None:
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


# -- the scenarios the tests share -----------------------------------------------------------
def typical(directory: Path) -> PullRequest:
    """A typical pull request, worked out by hand.

    * ``pkg/queue/breaker.go`` (10 executable lines): lines 5-6 rewritten, lines 11-12
      added; at the base lines 1-8 ran (80.0 %), at the head lines 1-4, 5, 11 ran and 7-8
      no longer do (6 of 12: 50.0 %, -30.0). Patch: 5, 6, 11, 12 → 2 of 4 ran.
    * ``pkg/queue/new.go`` added: 5 lines, 1-2 ran (40.0 %), patch 2 of 5.
    * ``pkg/old.go`` deleted; ``docs/guide.md`` changed (no coverage);
    * ``pkg/gen.go`` regenerated, marked ``linguist-generated`` in ``.gitattributes``;
    * ``pkg/util.go`` untouched, but line 3 lost its coverage: an indirect change.
    """
    breaker_base = {n: (1 if n <= 8 else 0) for n in range(1, 11)}
    breaker_head = {n: (1 if n in (1, 2, 3, 4, 5, 11) else 0) for n in range(1, 13)}
    rewritten = {5: "rewritten line 5", 6: "rewritten line 6"}
    base = Side(
        {
            ".gitattributes": "pkg/gen.go linguist-generated\n",
            "pkg/queue/breaker.go": lines_of("breaker", 10),
            "pkg/old.go": lines_of("old", 4),
            "pkg/gen.go": lines_of("gen", 3),
            "pkg/util.go": lines_of("util", 4),
            "docs/guide.md": "# Guide\n",
        },
        {
            "pkg/queue/breaker.go": breaker_base,
            "pkg/old.go": {1: 1, 2: 1, 3: 0, 4: 0},
            "pkg/gen.go": {1: 1, 2: 1, 3: 1},
            "pkg/util.go": {1: 1, 2: 1, 3: 1, 4: 0},
        },
    )
    head = Side(
        {
            ".gitattributes": "pkg/gen.go linguist-generated\n",
            "pkg/queue/breaker.go": lines_of("breaker", 10, rewritten) + "added 11\nadded 12\n",
            "pkg/queue/new.go": lines_of("new", 5),
            "pkg/gen.go": lines_of("gen", 3, {2: "regenerated"}),
            "pkg/util.go": lines_of("util", 4),
            "docs/guide.md": "# Guide\n\nMore.\n",
        },
        {
            "pkg/queue/breaker.go": breaker_head,
            "pkg/queue/new.go": {1: 1, 2: 1, 3: 0, 4: 0, 5: 0},
            "pkg/gen.go": {1: 0, 2: 0, 3: 0},
            "pkg/util.go": {1: 1, 2: 1, 3: 0, 4: 0},
        },
    )
    return make_pull_request(directory, base, head)
