"""The ``go`` test runner: ``go test -coverprofile`` over the repository's Go modules.

Detection: the runner claims the repository when ``--runner go`` names it, or, when no
runner is named, when a ``go.mod`` lies at the root or in a subdirectory (``vendor`` and
``testdata`` are skipped).

Targets (``--target``) are directories, each meaning everything under it: ``./pkg/``,
``./pkg``, ``pkg`` and ``pkg/...`` all test ``./pkg/...``; several may be given; the
default is the whole repository. ``go test ./...`` stops at module boundaries, so the runner
runs ``go test`` once per module: in the module whose directory contains a target (with the
target as a pattern relative to it), and in every module nested below a target. Each run
writes its own profile; the profiles are concatenated into one (one ``mode:`` line), and the
go format plugin merges the blocks that several test binaries report (``-coverpkg``).

Settings:

* ``go_covermode``: ``set``, ``count`` (default) or ``atomic``. Go refuses any mode but
  ``atomic`` with ``-race``, so with ``go_race`` or a ``-race`` among ``go_test_flags``
  the mode becomes ``atomic`` and the log says so;
* ``go_race``: add ``-race``;
* ``go_coverpkg``: passed as ``-coverpkg=`` (``./...`` counts code that other packages'
  tests run); it is the same for every module and relative to each module's directory;
* ``go_test_flags``: flags passed verbatim before the packages (``-count=1,-timeout=5m``);
  the coverage flags are covtool's and are refused there;
* ``go_binary``: the ``go`` command (default ``go``, looked up in ``PATH``).

The environment is passed on unchanged (``GOFLAGS``, ``GOCACHE``, ``GOPROXY``...). A test
that fails is not an error (``tests_passed`` is false); a ``go test`` that writes no profile
at all (the module cannot be loaded), a target that matches no package, and a run that
finds no package with tests are usage errors.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from covtool import Parser, RawProfile, Run, UsageError, go_modules, hookimpl, run_command

NAME = "go"
PROFILE_NAME = "coverage_profile.txt"

#: A line that finishes one package: ``ok  \tPKG``, ``FAIL\tPKG``, ``?   \tPKG`` (no test
#: files), or newer Go's ``\tPKG\t\tcoverage: 0.0% of statements`` for untested packages.
#: A bare ``FAIL`` (the summary) and ``--- FAIL: TestX`` are not packages.
_PACKAGE_DONE = re.compile(r"^(?:(?:ok  |FAIL|\?   )\t\S|\s+[^\s:]+\s+coverage: \d)")
_NO_PACKAGES = re.compile(r'^go: warning: "(.+)" matched no packages')
#: Flags covtool sets itself; in ``go_test_flags`` they would fight covtool's own.
_OWN_FLAGS = {
    "coverprofile": "covtool writes the profile itself",
    "covermode": "use the go_covermode setting",
    "coverpkg": "use the go_coverpkg setting",
}
_GO_TRUE = {"", "1", "t", "T", "true", "TRUE", "True"}  # what Go's flag package reads as true


@hookimpl
def covtool_addoption(parser: Parser) -> None:
    """Declare the go runner's settings."""
    parser.addoption(
        "go_covermode",
        default="count",
        choices=("set", "count", "atomic"),
        help="Coverage mode of go test (atomic is forced with -race).",
    )
    parser.addoption(
        "go_race", type="bool", default=False, help="Run go test with the race detector (-race)."
    )
    parser.addoption(
        "go_coverpkg",
        default="",
        help="Packages whose coverage every test counts, passed as -coverpkg= (such as ./...).",
    )
    parser.addoption(
        "go_test_flags",
        type="list",
        default=(),
        help="Extra go test flags, passed verbatim before the packages (-count=1,-timeout=5m).",
    )
    parser.addoption("go_binary", default="go", help="The go command to run tests with.")


@hookimpl
def covtool_runners() -> list[str]:
    """This plugin provides the ``go`` runner."""
    return [NAME]


@hookimpl
def covtool_run_tests(run: Run, scratch: Path) -> RawProfile | None:
    """Run ``go test`` with coverage in each module the targets reach; None when the
    repository is not ours (another runner is named, or there is no go.mod)."""
    forced = run.config.get("runner")
    if forced and forced != NAME:
        return None
    modules = [directory for _, directory in go_modules(run.root)]
    if not forced and not modules:
        return None
    if not modules:
        modules = [_enclosing_module(run.root)]
    targets = tuple(run.config.get("target")) or (".",)
    plan = plan_runs(run.root, modules, targets)
    flags = test_flags(run)
    output = GoOutput()
    results = [
        _run_module(run, job, flags, scratch / f"module-{i}.out", output)
        for i, job in enumerate(plan)
    ]
    _check_matches(plan, output.unmatched)
    counted = [r for r in results if not r.skipped]
    merged = scratch / PROFILE_NAME
    blocks = concatenate([r.profile for r in counted], merged, covermode(flags))
    statuses = [r.status for r in counted if r.status != 0]
    if blocks == 0 and not statuses:
        shown = ", ".join(targets) if run.config.get("target") else "the repository"
        raise UsageError(f"go test found no package with tests in {shown}: no coverage")
    return RawProfile(
        path=merged,
        format=NAME,
        tests_passed=not statuses,
        runner=NAME,
        artifact_name=PROFILE_NAME,
        exit_status=statuses[0] if statuses else 0,
    )


# -- planning ------------------------------------------------------------------------------
@dataclass
class ModuleRun:
    """One ``go test`` invocation: a module directory (relative to the root, ``.`` for the
    root) and its package patterns, with the targets each pattern comes from."""

    directory: str
    patterns: list[str] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)  # pattern -> targets

    def add(self, pattern: str, target: str) -> None:
        """Test ``pattern`` here (once), on behalf of ``target``."""
        if pattern not in self.sources:
            self.patterns.append(pattern)
            self.sources[pattern] = []
        if target not in self.sources[pattern]:
            self.sources[pattern].append(target)


def plan_runs(root: Path, modules: Sequence[str], targets: Iterable[str]) -> list[ModuleRun]:
    """The ``go test`` runs that cover ``targets``, one per module, sorted by directory.

    A target is tested in the innermost module containing it, and every module nested below
    it is tested whole. A target in no module, with no module below it, is an error.
    """
    runs: dict[str, ModuleRun] = {}
    for target in targets:
        directory = target_directory(root, target)
        owner = _owning_module(directory, modules)
        nested = [m for m in modules if m != owner and _is_within(m, directory)]
        if owner is None and not nested:
            raise UsageError(
                f"target {target!r} is in no Go module: no go.mod in {directory} or above it "
                f"in the repository (modules: {', '.join(sorted(modules))})"
            )
        if owner is not None:
            relative = posixpath.relpath(directory, owner)
            pattern = "./..." if relative == "." else f"./{relative}/..."
            runs.setdefault(owner, ModuleRun(owner)).add(pattern, target)
        for module in nested:
            runs.setdefault(module, ModuleRun(module)).add("./...", target)
    return [runs[m] for m in sorted(runs)]


def target_directory(root: Path, target: str) -> str:
    """The directory a target names, relative to the root (``.`` for the root itself).

    ``./pkg/``, ``./pkg``, ``pkg``, ``pkg/...`` and ``./pkg/...`` all name ``pkg``.
    """
    text = target.strip().replace("\\", "/")
    if text in ("...", "./..."):
        text = "."
    text = text.removesuffix("/...").rstrip("/") or "/"
    path = PurePosixPath(text)
    base = PurePosixPath(root.resolve().as_posix())
    if path.is_absolute():
        try:
            path = path.relative_to(base)
        except ValueError:
            raise UsageError(f"target {target!r} is outside the repository {root}") from None
    relative = posixpath.normpath(path.as_posix())
    if relative == ".." or relative.startswith("../"):
        raise UsageError(f"target {target!r} is outside the repository {root}")
    if not (root / relative).is_dir():
        raise UsageError(
            f"target {target!r} matched no Go packages: there is no directory {relative} in {root}"
        )
    return relative


def _owning_module(directory: str, modules: Sequence[str]) -> str | None:
    """The innermost module directory that contains ``directory``."""
    owners = [m for m in modules if _is_within(directory, m)]
    return max(owners, key=lambda m: (m != ".", len(m))) if owners else None


def _is_within(path: str, directory: str) -> bool:
    """Whether relative ``path`` is ``directory`` or below it."""
    return directory in (".", path) or path.startswith(directory + "/")


def _enclosing_module(root: Path) -> str:
    """``.`` when a go.mod above the root makes it part of a module (``--runner go`` run
    from inside a module); otherwise there is nothing ``go test`` could test."""
    for directory in root.resolve().parents:
        if (directory / "go.mod").is_file():
            return "."
    raise UsageError(f"--runner go: no go.mod in {root}, below it or above it")


# -- running -------------------------------------------------------------------------------
def test_flags(run: Run) -> list[str]:
    """The flags of every ``go test`` run but the profile path: mode, race, coverpkg, extras."""
    extra = list(run.config.get("go_test_flags"))
    for flag in extra:
        name = flag.lstrip("-").partition("=")[0]
        if flag.startswith("-") and name in _OWN_FLAGS:
            raise UsageError(f"go_test_flags: {flag!r} is not allowed: {_OWN_FLAGS[name]}")
    mode = run.config.get("go_covermode")
    race = run.config.get("go_race") or race_requested(extra)
    if race and mode != "atomic":
        # go test exits with "-covermode must be atomic ... when -race is enabled".
        _note(run, f"-race needs -covermode=atomic: using atomic instead of {mode}")
        mode = "atomic"
    flags = [f"-covermode={mode}"]
    if run.config.get("go_race") and not race_requested(extra):
        flags.append("-race")
    if run.config.get("go_coverpkg"):
        flags.append(f"-coverpkg={run.config.get('go_coverpkg')}")
    return flags + extra


def covermode(flags: Sequence[str]) -> str:
    """The mode that ``test_flags`` chose."""
    return next(f.partition("=")[2] for f in flags if f.startswith("-covermode="))


def race_requested(flags: Iterable[str]) -> bool:
    """Whether go's flags turn the race detector on (the last ``-race`` wins, as in Go)."""
    race = False
    for flag in flags:
        name, equals, value = flag.lstrip("-").partition("=")
        if flag.startswith("-") and name == "race":
            race = not equals or value in _GO_TRUE
    return race


class GoOutput:
    """Reads go test's output as it streams: counts finished packages (the status line)
    and remembers the patterns Go says matched no packages."""

    def __init__(self) -> None:
        self.unmatched: set[tuple[str, str]] = set()  # (module directory, pattern)
        self.directory = "."

    def __call__(self, line: str) -> bool:
        """True when ``line`` finishes a package."""
        warning = _NO_PACKAGES.match(line)
        if warning:
            self.unmatched.add((self.directory, warning.group(1)))
        return bool(_PACKAGE_DONE.match(line))


@dataclass(frozen=True)
class ModuleResult:
    """How one module's ``go test`` went; ``skipped`` when it had nothing to test."""

    profile: Path
    status: int
    skipped: bool


def _run_module(
    run: Run, job: ModuleRun, flags: Sequence[str], profile: Path, output: GoOutput
) -> ModuleResult:
    """Run ``go test`` in one module, writing its profile to ``profile``."""
    argv = [run.config.get("go_binary"), "test", f"-coverprofile={profile}", *flags, *job.patterns]
    if job.directory != ".":
        _note(run, f"in module directory {job.directory}/")
    output.directory = job.directory
    status = run_command(
        run, argv, cwd=run.root / job.directory, env=run.environ, label=NAME, done=output
    )
    if all((job.directory, p) in output.unmatched for p in job.patterns):
        return ModuleResult(profile, status, skipped=True)  # "no packages to test": not a failure
    if not profile.is_file():
        raise UsageError(
            f"{' '.join(argv)!r} in {run.root / job.directory} exited with status {status} "
            "without writing a coverage profile (see its output)"
        )
    return ModuleResult(profile, status, skipped=False)


def _check_matches(plan: Sequence[ModuleRun], unmatched: set[tuple[str, str]]) -> None:
    """Refuse targets for which every pattern matched no packages: a mistyped target must
    not pass as a green build with less coverage."""
    tried: dict[str, list[bool]] = {}
    for job in plan:
        for pattern, targets in job.sources.items():
            for target in targets:
                tried.setdefault(target, []).append((job.directory, pattern) in unmatched)
    empty = [target for target, misses in tried.items() if all(misses)]
    if empty:
        named = "target " if len(empty) == 1 else "targets "
        shown = ", ".join(repr(target) for target in empty)
        raise UsageError(f"{named}{shown} matched no Go packages")


def concatenate(profiles: Sequence[Path], output: Path, mode: str) -> int:
    """Join Go profiles into ``output`` under one ``mode:`` line; returns the number of
    blocks. Duplicate blocks stay: the go format plugin merges them on parse."""
    blocks = 0
    with output.open("wb") as merged:
        merged.write(f"mode: {mode}\n".encode())
        for profile in profiles:
            # Every profile starts with its mode line (the same mode: the same flags); go
            # leaves out the final newline when no block follows it.
            for line in profile.read_bytes().splitlines()[1:]:
                if line.strip():
                    merged.write(line + b"\n")
                    blocks += 1
    return blocks


def _note(run: Run, text: str) -> None:
    """A line of covtool's own in the test output and the test log."""
    line = f"covtool: {text}\n"
    run.test_log_write(line)
    run.stdout.write(line)
    run.stdout.flush()
