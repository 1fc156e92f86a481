"""covtool: coverage for pull-request CI.

This module is the public API. Plugins, the builtin ones included, import only from here.
"""

from covtool import layout, views
from covtool.analysis import compare
from covtool.buildinfo import build_commit, build_id, html_url, job_name
from covtool.changes import diff_files, git_changes, hunks_from_patch, resolve_commit
from covtool.config import Config, Parser, Setting
from covtool.diff import Category, Diff, FileDelta, LineDiff, PreviousDiff
from covtool.engine import builds_store_url, open_store, parse_bytes, store_url
from covtool.errors import (
    CovtoolError,
    ExitCode,
    InputError,
    PluginError,
    ServiceError,
    UsageError,
)
from covtool.gate import gate_failed
from covtool.git import GitError, current_branch, git, git_output
from covtool.hookimpl import hookimpl
from covtool.inputs import load_json
from covtool.lines import LineProfileBuilder, header_disagreement
from covtool.model import (
    COVERED,
    GO_MODES,
    MISSED,
    PARTIAL,
    FileCoverage,
    LineView,
    Profile,
    Regions,
    Totals,
)
from covtool.paths import go_modules
from covtool.process import run_command
from covtool.records import (
    Baseline,
    ChangedFile,
    ChangeSet,
    ChangeStatus,
    Hunk,
    PreviousBuild,
    ProfileSource,
    RawProfile,
    Verdict,
)
from covtool.reporting import Artifact, Report, ReportFormat
from covtool.run import Run
from covtool.safexml import XmlStream
from covtool.storage import DEFAULT_STORE, PreconditionFailed, Storage, check_key
from covtool.version import __version__

__all__ = [
    "COVERED",
    "DEFAULT_STORE",
    "GO_MODES",
    "MISSED",
    "PARTIAL",
    "Artifact",
    "Baseline",
    "Category",
    "ChangeSet",
    "ChangeStatus",
    "ChangedFile",
    "Config",
    "CovtoolError",
    "Diff",
    "ExitCode",
    "FileCoverage",
    "FileDelta",
    "GitError",
    "Hunk",
    "InputError",
    "LineDiff",
    "LineProfileBuilder",
    "LineView",
    "Parser",
    "PluginError",
    "PreconditionFailed",
    "PreviousBuild",
    "PreviousDiff",
    "Profile",
    "ProfileSource",
    "RawProfile",
    "Regions",
    "Report",
    "ReportFormat",
    "Run",
    "ServiceError",
    "Setting",
    "Storage",
    "Totals",
    "UsageError",
    "Verdict",
    "XmlStream",
    "__version__",
    "build_commit",
    "build_id",
    "builds_store_url",
    "check_key",
    "compare",
    "current_branch",
    "diff_files",
    "gate_failed",
    "git",
    "git_changes",
    "git_output",
    "go_modules",
    "header_disagreement",
    "hookimpl",
    "html_url",
    "hunks_from_patch",
    "job_name",
    "layout",
    "load_json",
    "open_store",
    "parse_bytes",
    "resolve_commit",
    "run_command",
    "store_url",
    "views",
]
